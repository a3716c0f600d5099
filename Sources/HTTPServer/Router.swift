/// A request handler. Runs synchronously on an event-loop thread, so it must not block for
/// long; a thrown error is answered through `ErrorResponder` (its status, or a generic 500).
public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Routes by method and path pattern. Built mutably with `add`, then frozen: the server takes
/// an immutable copy at init, so routes never change while requests run.
///
/// Patterns are `/`-separated segments; `{name}` binds one whole segment; the last segment may
/// end in a TensorFlow-Serving-style `:verb` (`/v1/models/{name}:predict`). A request path's
/// verb is what follows the last `:` of its last segment, so `/v1/models/{name}` never matches
/// `/v1/models/x:predict`. Bound values are percent-decoded; one that decodes to something with
/// `/` or NUL, or to `.` or `..`, is rejected with 400 (a name must not reach outside a
/// directory). Unknown path: 404. Known path, other method: 405 with a sorted `Allow`. HEAD is
/// served by the GET route. Literal segments win over `{param}` where both match.
public struct Router: Sendable {
    struct Pattern: Sendable, Hashable {
        enum Segment: Sendable, Hashable {
            case literal(String)
            case parameter(String)
        }
        var segments: [Segment]
        var verb: String?
    }

    struct Route: Sendable {
        var pattern: Pattern
        var handlers: [String: HTTPHandler]
    }

    private(set) var routes: [Route] = [] {
        didSet { table = RouteTable(routes: routes) }
    }
    /// The lookup table over `routes`, rebuilt when a route is added (at start-up only).
    private var table = RouteTable(routes: [])

    public init() {}

    /// Adds `handler` for `method` (upper-case, e.g. "GET") on `pattern`. Adding the same
    /// method and pattern twice replaces the earlier handler. A malformed pattern is a
    /// programming error and stops the process at startup.
    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping HTTPHandler) {
        let parsed: Pattern
        do { parsed = try Self.parsePattern(pattern) } catch {
            preconditionFailure("route pattern \(pattern): \(error.problem.detail)")
        }
        if let index = routes.firstIndex(where: { $0.pattern == parsed }) {
            routes[index].handlers[method] = handler
        } else {
            routes.append(Route(pattern: parsed, handlers: [method: handler]))
        }
    }

    static func parsePattern(_ text: String) throws(HTTPError) -> Pattern {
        guard text.hasPrefix("/") else { throw HTTPError(.internalServerError, detail: "a pattern starts with /") }
        var parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var verb: String?
        if let last = parts.last, let colon = last.lastIndex(of: ":") {
            verb = String(last[last.index(after: colon)...])
            parts[parts.count - 1] = String(last[..<colon])
            if verb!.isEmpty { throw HTTPError(.internalServerError, detail: "empty :verb") }
        }
        let segments = try parts.map { (part) throws(HTTPError) -> Pattern.Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            if part.contains("{") || part.contains("}") || part.contains(":") {
                throw HTTPError(.internalServerError, detail: "bad segment \(part)")
            }
            return .literal(part)
        }
        return Pattern(segments: segments, verb: verb)
    }

    /// The immutable table the server routes with.
    func frozen() -> RouteTable { table }

    /// Answers a request in-process exactly as the server does once a request is parsed
    /// (routing, 404/405, error mapping), for benchmarks of the handler path without sockets.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        frozen().respond(to: request, log: nil)
    }
}

/// A frozen router: resolves requests to handlers and answers routing failures.
struct RouteTable: Sendable {
    let routes: [Router.Route]
    /// Routes whose pattern has no parameter, by their exact path text (verb included): such
    /// a route is the most specific match for that path, so one hash lookup routes it.
    private let literalPaths: [String: Int]
    /// Route indices by segment count, for the scan of the others.
    private let bySegmentCount: [Int: [Int]]

    init(routes: [Router.Route]) {
        self.routes = routes
        var literal: [String: Int] = [:]
        var byCount: [Int: [Int]] = [:]
        for (index, route) in routes.enumerated() {
            byCount[route.pattern.segments.count, default: []].append(index)
            var text = ""
            for segment in route.pattern.segments {
                guard case .literal(let part) = segment else { text = ""; break }
                text += "/" + part
            }
            guard !text.isEmpty else { continue }
            if let verb = route.pattern.verb { text += ":" + verb }
            literal[text] = index
        }
        literalPaths = literal
        bySegmentCount = byCount
    }

    enum Resolution {
        case handler(HTTPHandler, parameters: [String: String])
        case failure(HTTPError)
    }

    /// Runs the matching handler, turning every routing failure and thrown error into a
    /// response. Never throws.
    func respond(to request: HTTPRequest, log: ((String) -> Void)?) -> HTTPResponse {
        switch resolve(method: request.method, path: request.path) {
        case .failure(let error):
            // Routing failures echo the client's request id like handled requests do.
            var response = ErrorResponder.response(for: error, log: log)
            response.headers.set(RequestID.headerName, RequestID.take(from: request.headers))
            return response
        case .handler(let handler, let parameters):
            var request = request
            request.pathParameters = parameters
            do { return try handler(request) } catch { return ErrorResponder.response(for: error, log: log) }
        }
    }

    func resolve(method: String, path: String) -> Resolution {
        guard path.hasPrefix("/") else {
            return .failure(HTTPError(.notFound, detail: "No route for this path."))
        }
        if let index = literalPaths[path] { return handler(of: routes[index], method: method, parameters: [:]) }
        // Byte-wise throughout: routing runs on every request, and Character-based
        // Substring comparisons cost more than the rest of a small request's routing.
        var parts = Self.segments(of: path)
        var verb: Substring?
        if let last = parts.last, let colon = last.utf8.lastIndex(of: UInt8(ascii: ":")) {
            verb = last[last.utf8.index(after: colon)...]
            parts[parts.count - 1] = last[..<colon]
        }
        // The best match per specificity: literals beat parameters, segment by segment. The
        // rank is a bit mask with segment 0 as the highest bit, so a larger rank is the more
        // specific route.
        var best: (route: Router.Route, rank: UInt64)?
        for route in (bySegmentCount[parts.count] ?? []).lazy.map({ routes[$0] }) where parts.count <= 64 {
            switch (route.pattern.verb, verb) {
            case (nil, nil): break
            case let (expected?, actual?) where actual.utf8.elementsEqual(expected.utf8): break
            default: continue
            }
            var rank: UInt64 = 0
            var matched = true
            for (index, (segment, part)) in zip(route.pattern.segments, parts).enumerated() {
                switch segment {
                case .literal(let literal):
                    if !part.utf8.elementsEqual(literal.utf8) { matched = false }
                    rank |= 1 << (63 - UInt64(index))
                case .parameter:
                    if part.isEmpty { matched = false }
                }
                if !matched { break }
            }
            guard matched else { continue }
            if best == nil || rank > best!.rank {
                best = (route, rank)
            }
        }
        guard let route = best?.route else {
            return .failure(HTTPError(.notFound, detail: "No route for this path."))
        }
        // 405 before any 400 for a parameter, as for literal routes.
        let resolved = handler(of: route, method: method, parameters: [:])
        guard case .handler(let handler, _) = resolved else { return resolved }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(route.pattern.segments, parts) {
            guard case .parameter(let name) = segment else { continue }
            guard let value = PercentDecoding.pathParameter(part) else {
                return .failure(HTTPError(
                    .badRequest,
                    detail: "Path parameter '\(name)' is not a valid name (bad percent-encoding, '/', NUL, '.' or '..')."))
            }
            parameters[name] = value
        }
        return .handler(handler, parameters: parameters)
    }

    /// The route's handler for `method` (HEAD served by GET), or 405 with a sorted `Allow`.
    private func handler(of route: Router.Route, method: String, parameters: [String: String]) -> Resolution {
        guard let handler = route.handlers[method] ?? (method == "HEAD" ? route.handlers["GET"] : nil) else {
            var allowed = Set(route.handlers.keys)
            if allowed.contains("GET") { allowed.insert("HEAD") }
            return .failure(HTTPError(
                .methodNotAllowed, detail: "\(method) is not allowed here.",
                headers: ["Allow": allowed.sorted().joined(separator: ", ")]))
        }
        return .handler(handler, parameters: parameters)
    }

    /// The `/`-separated segments after the leading `/`, empty ones kept, in an array
    /// allocated once at its final size.
    static func segments(of path: String) -> [Substring] {
        let slash = UInt8(ascii: "/")
        let bytes = path.utf8.dropFirst()
        var parts: [Substring] = []
        parts.reserveCapacity(bytes.count { $0 == slash } + 1)
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == slash {
            parts.append(Substring(bytes[start..<index]))
            start = bytes.index(after: index)
        }
        parts.append(Substring(bytes[start...]))
        return parts
    }
}

/// Percent-decoding of one path segment (RFC 3986 §2.1).
public enum PercentDecoding {
    /// The decoded segment, or nil if an escape is malformed, the bytes are not UTF-8, or the
    /// value could escape a directory: contains `/` or NUL, or is `.` or `..`.
    public static func pathParameter(_ raw: Substring) -> String? {
        let value: String
        if raw.utf8.contains(UInt8(ascii: "%")) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(raw.utf8.count)
            var iterator = raw.utf8.makeIterator()
            while let byte = iterator.next() {
                if byte == UInt8(ascii: "%") {
                    guard let high = iterator.next().flatMap(ByteClass.hexValue), let low = iterator.next().flatMap(ByteClass.hexValue) else {
                        return nil
                    }
                    bytes.append(high << 4 | low)
                } else {
                    bytes.append(byte)
                }
            }
            guard let decoded = String(validating: bytes, as: UTF8.self) else { return nil }
            value = decoded
        } else {
            value = String(raw)  // nothing to decode (the common case): no byte buffer
        }
        if value.utf8.contains(UInt8(ascii: "/")) || value.utf8.contains(0) { return nil }
        if value == "." || value == ".." || value.isEmpty { return nil }
        return value
    }
}
