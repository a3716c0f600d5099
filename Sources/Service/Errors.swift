import HTTPServer
import JSON
import Registry

// Every error a route can throw knows its HTTP answer here (through `HTTPResponseError`);
// `ErrorResponder` turns it into the response. Nothing else maps errors to statuses.

extension RegistryError: HTTPResponseError {
    public var status: HTTPStatus {
        switch self {
        case .unknownModel, .unknownVersion, .unknownLabel: .notFound
        case .notReady: .serviceUnavailable
        }
    }

    public var problem: ProblemDetails { ProblemDetails(status: status, detail: description) }

    public var extraHeaders: HTTPHeaders {
        if case .notReady = self { return ["Retry-After": "1"] }
        return [:]
    }
}

extension RegistryAdminError: HTTPResponseError {
    public var status: HTTPStatus {
        switch self {
        case .unknownModel, .unknownLabel: .notFound
        case .versionNotAvailable, .noPreviousVersion, .noCanary: 409
        case .invalidLabelName: .unprocessableContent
        }
    }

    public var problem: ProblemDetails { ProblemDetails(status: status, detail: description) }
}

extension JSONParseError: HTTPResponseError {
    public var status: HTTPStatus { .badRequest }
    public var problem: ProblemDetails {
        ProblemDetails(status: .badRequest, detail: "The body is not valid JSON: \(reason) at byte \(offset).")
    }
}

/// Errors of the contract layer itself.
public enum ContractError: HTTPResponseError, Equatable {
    /// The body is not declared as JSON.
    case unsupportedMediaType(String?)
    /// Valid JSON that breaks the schema; every problem listed.
    case schemaViolation([FieldProblem])

    public var status: HTTPStatus {
        switch self {
        case .unsupportedMediaType: .unsupportedMediaType
        case .schemaViolation: .unprocessableContent
        }
    }

    public var problem: ProblemDetails {
        switch self {
        case .unsupportedMediaType(let sent):
            ProblemDetails(
                status: status,
                detail: sent.map { "Content-Type '\($0)' is not accepted; send application/json." }
                    ?? "Content-Type is missing; send application/json.")
        case .schemaViolation(let problems):
            ProblemDetails(
                status: status, detail: "The body does not match the schema (\(problems.count) problem\(problems.count == 1 ? "" : "s")).",
                errors: problems)
        }
    }
}

extension V2RequestError: HTTPResponseError {
    var status: HTTPStatus { .badRequest }
    var problem: ProblemDetails { ProblemDetails(status: .badRequest, detail: message) }
}
