import JSON
/// RFC 9457 problem details, the body of every error response (`application/problem+json`).
public struct ProblemDetails: Sendable, Equatable {
    /// One schema violation: a JSON Pointer (RFC 6901) to the field and what is wrong with it.
    public struct FieldProblem: Sendable, Equatable {
        public var pointer: String
        public var problem: String

        public init(pointer: String, problem: String) {
            self.pointer = pointer
            self.problem = problem
        }
    }

    /// The media type of `jsonBytes()`.
    public static let contentType = "application/problem+json"

    /// A URI naming the problem kind; default `about:blank` (the status says it all).
    public var type: String
    /// A short summary of the kind; defaults to the status's reason phrase.
    public var title: String
    public var status: HTTPStatus
    /// What went wrong with this request, for a human.
    public var detail: String
    /// A URI for this occurrence (e.g. the request path); omitted when nil.
    public var instance: String?
    /// Field-level problems (422 schema violations); omitted when empty.
    public var errors: [FieldProblem]
    /// Also writes `detail` as `error`, the member Open Inference Protocol (V2) clients read
    /// (tritonclient, KServe's). Default false.
    public var includesErrorMember = false

    public init(
        status: HTTPStatus, detail: String, type: String = "about:blank", title: String? = nil,
        instance: String? = nil, errors: [FieldProblem] = []
    ) {
        self.type = type
        self.title = title ?? status.reason
        self.status = status
        self.detail = detail
        self.instance = instance
        self.errors = errors
    }

    /// The JSON object, keys in a fixed order: type, title, status, detail, instance, errors.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + detail.utf8.count)
        out.append(contentsOf: "{\"type\":".utf8)
        JSONString.append(type, to: &out)
        out.append(contentsOf: ",\"title\":".utf8)
        JSONString.append(title, to: &out)
        out.append(contentsOf: ",\"status\":\(status.code),\"detail\":".utf8)
        JSONString.append(detail, to: &out)
        if let instance {
            out.append(contentsOf: ",\"instance\":".utf8)
            JSONString.append(instance, to: &out)
        }
        if !errors.isEmpty {
            out.append(contentsOf: ",\"errors\":[".utf8)
            for (index, error) in errors.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: "{\"pointer\":".utf8)
                JSONString.append(error.pointer, to: &out)
                out.append(contentsOf: ",\"problem\":".utf8)
                JSONString.append(error.problem, to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        if includesErrorMember {
            out.append(contentsOf: ",\"error\":".utf8)
            JSONString.append(detail, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The problem as a complete response (status, content type, body).
    public func response(extraHeaders: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = extraHeaders
        headers.set("Content-Type", Self.contentType)
        return HTTPResponse(status: status, headers: headers, body: jsonBytes())
    }
}

/// An error that knows its HTTP answer. Throw one from a handler to choose the status;
/// any other error becomes a generic 500 whose details go to the log only.
public protocol HTTPResponseError: Error {
    var status: HTTPStatus { get }
    var problem: ProblemDetails { get }
    /// Headers the answer needs (`Allow`, `Retry-After`, `WWW-Authenticate`); default none.
    var extraHeaders: HTTPHeaders { get }
}

extension HTTPResponseError {
    public var extraHeaders: HTTPHeaders { [:] }
}

/// A ready-made `HTTPResponseError`: a status, a detail sentence, optional headers and
/// field problems.
public struct HTTPError: HTTPResponseError, Sendable, Equatable {
    public var problem: ProblemDetails
    public var extraHeaders: HTTPHeaders
    public var status: HTTPStatus { problem.status }

    public init(_ status: HTTPStatus, detail: String, headers: HTTPHeaders = [:], errors: [ProblemDetails.FieldProblem] = []) {
        self.problem = ProblemDetails(status: status, detail: detail, errors: errors)
        self.extraHeaders = headers
    }

    public init(problem: ProblemDetails, headers: HTTPHeaders = [:]) {
        self.problem = problem
        self.extraHeaders = headers
    }
}

extension HTTPParseError: HTTPResponseError {
    public var problem: ProblemDetails { ProblemDetails(status: status, detail: detail) }
}

/// The one place a thrown error becomes a response.
public enum ErrorResponder {
    /// `HTTPResponseError` → its status, problem and headers; anything else → a generic 500
    /// problem, with the error's description passed to `log` only (never to the client).
    /// `errorMember`: the body also carries `error` (`ProblemDetails.includesErrorMember`).
    public static func response(for error: any Error, errorMember: Bool = false, log: ((String) -> Void)? = nil) -> HTTPResponse {
        var problem: ProblemDetails
        var headers: HTTPHeaders = [:]
        if let known = error as? any HTTPResponseError {
            problem = known.problem
            problem.status = known.status
            headers = known.extraHeaders
        } else {
            log?("handler error: \(String(reflecting: error))")
            problem = ProblemDetails(status: .internalServerError, detail: "The server failed to handle the request.")
        }
        problem.includesErrorMember = errorMember
        return problem.response(extraHeaders: headers)
    }
}
