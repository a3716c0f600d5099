import Glibc
import JSON
import Posix
import Synchronization

/// A request handler. Runs synchronously on an event-loop thread, so it must not block for
/// long; a thrown error is answered through `ErrorResponder` (its status, or a generic 500).
public typealias HTTPHandler = @Sendable (consuming HTTPRequest) throws -> HTTPResponse

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
    /// This table among all a process makes (never reused), for `ResolvedRoutes`.
    let id: UInt64
    private static let lastID = Atomic<UInt64>(0)
    /// Routes whose pattern has no parameter, by their exact path text (verb included): such
    /// a route is the most specific match for that path, so one lookup routes it. Matched on
    /// the path's bytes (length and two words a pattern) when there are at most 64 of them,
    /// as ASCII patterns are; hashed otherwise.
    private let literalPaths: [String: Int]
    private let literalMatcher: (names: KnownMembers, routes: [Int])?
    /// Route indices by segment count, for the scan of the others.
    private let bySegmentCount: [Int: [Int]]
    /// Each route's pattern as bytes and its handlers as a list, by route index: the scan
    /// compares bytes (no strings, no hashing), and a route has one or two methods.
    private let compiled: [CompiledRoute]

    private struct CompiledRoute: Sendable {
        /// Per segment: the literal's bytes, or nil for a parameter.
        var literals: [[UInt8]?]
        var verb: [UInt8]?
        var methods: [(method: String, handler: HTTPHandler)]
    }

    init(routes: [Router.Route]) {
        self.routes = routes
        id = Self.lastID.wrappingAdd(1, ordering: .relaxed).newValue
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
        let texts = literal.keys.sorted()
        literalMatcher = KnownMembers(matching: texts).map { ($0, texts.map { literal[$0]! }) }
        bySegmentCount = byCount
        compiled = routes.map { route in
            CompiledRoute(
                literals: route.pattern.segments.map { segment in
                    if case .literal(let text) = segment { Array(text.utf8) } else { nil }
                },
                verb: route.pattern.verb.map { Array($0.utf8) },
                methods: route.handlers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }

    enum Resolution {
        case handler(HTTPHandler, parameters: PathParameters)
        case failure(HTTPError)
    }

    /// Runs the matching handler, turning every routing failure and thrown error into a
    /// response. Never throws.
    /// `request` is consumed: the loop hands it over, so binding its path parameters changes
    /// it in place instead of copying it.
    func respond(to request: consuming HTTPRequest, log: ((String) -> Void)?) -> HTTPResponse {
        switch resolve(method: request.method, path: request.path) {
        case .failure(let error):
            // Routing failures echo the client's request id like handled requests do.
            var response = ErrorResponder.response(for: error, log: log)
            response.requestID = RequestID.take(from: request.headers)
            return response
        case .handler(let handler, let parameters):
            request.pathParameters = parameters
            do { return try handler(consume request) } catch { return ErrorResponder.response(for: error, log: log) }
        }
    }

    /// The handler for `method` on `path`: a route without parameters by its path text, any
    /// other from the calling thread's recent resolutions when they hold it (`ResolvedRoutes`),
    /// else by the scan.
    func resolve(method: String, path: String) -> Resolution {
        guard path.utf8.first == UInt8(ascii: "/") else { return Self.noRoute }
        var path = path
        if let index = literalRoute(&path) { return handler(of: index, method: method) }
        let slot = ResolvedRoutes.slot(of: &path)
        return ResolvedRoutes.perThread.withCurrent { recent in
            if let hit = recent.lookup(slot: slot, table: id, method: method, path: path) { return hit }
            let resolution = path.withUTF8 { resolve(method: method, bytes: $0) }
            if case .handler(let handler, let parameters) = resolution {
                recent.store(slot: slot, table: id, method: method, path: path, handler: handler, parameters: parameters)
            }
            return resolution
        }
    }

    /// The route without parameters whose path text `path` is, if any.
    private func literalRoute(_ path: inout String) -> Int? {
        guard let literalMatcher else { return literalPaths[path] }
        return path.withUTF8 { bytes in literalMatcher.names.index(of: bytes).map { literalMatcher.routes[$0] } }
    }

    private static var noRoute: Resolution { .failure(HTTPError(.notFound, detail: "No route for this path.")) }

    /// The scan over routes with parameters, on the path's bytes: routing runs on every
    /// request, and splitting the path into strings cost more than the handler of a health
    /// check (about 18,000 instructions of a 1-listing predict).
    private func resolve(method: String, bytes: UnsafeBufferPointer<UInt8>) -> Resolution {
        var count = 0
        for byte in bytes where byte == UInt8(ascii: "/") { count += 1 }
        guard count <= 64, let candidates = bySegmentCount[count] else { return Self.noRoute }
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: count) { bounds in
            Self.segmentBounds(of: bytes, into: bounds)
            // A verb is what follows the last `:` of the last segment.
            var verb: Range<Int>?
            let last = bounds[count - 1]
            if let colon = last.last(where: { bytes[$0] == UInt8(ascii: ":") }) {
                verb = (colon + 1)..<last.upperBound
                bounds[count - 1] = last.lowerBound..<colon
            }
            // The best match per specificity: literals beat parameters, segment by segment. The
            // rank is a bit mask with segment 0 as the highest bit, so a larger rank is the more
            // specific route.
            var best: (index: Int, rank: UInt64)?
            candidates: for index in candidates {
                let route = compiled[index]
                switch (route.verb, verb) {
                case (nil, nil): break
                case let (expected?, actual?) where Self.equal(bytes, actual, expected): break
                default: continue candidates
                }
                var rank: UInt64 = 0
                for segment in 0..<count {
                    if let literal = route.literals[segment] {
                        guard Self.equal(bytes, bounds[segment], literal) else { continue candidates }
                        rank |= 1 << (63 - UInt64(segment))
                    } else if bounds[segment].isEmpty {
                        continue candidates
                    }
                }
                if best == nil || rank > best!.rank { best = (index, rank) }
            }
            guard let best else { return Self.noRoute }
            // 405 before any 400 for a parameter, as for literal routes.
            let resolved = handler(of: best.index, method: method)
            guard case .handler(let handler, _) = resolved else { return resolved }
            var parameters = PathParameters()
            for (segment, pattern) in routes[best.index].pattern.segments.enumerated() {
                guard case .parameter(let name) = pattern else { continue }
                guard let value = PercentDecoding.pathParameter(UnsafeBufferPointer(rebasing: bytes[bounds[segment]])) else {
                    return .failure(HTTPError(
                        .badRequest,
                        detail: "Path parameter '\(name)' is not a valid name (bad percent-encoding, '/', NUL, '.' or '..')."))
                }
                parameters[name] = value
            }
            return .handler(handler, parameters: parameters)
        }
    }

    private static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ expected: [UInt8]) -> Bool {
        guard range.count == expected.count else { return false }
        return expected.withUnsafeBufferPointer { expected in
            range.isEmpty || memcmp(bytes.baseAddress! + range.lowerBound, expected.baseAddress!, range.count) == 0
        }
    }

    /// The route's handler for `method` (HEAD served by GET), or 405 with a sorted `Allow`.
    private func handler(of index: Int, method: String) -> Resolution {
        let methods = compiled[index].methods
        if let found = methods.first(where: { $0.method == method }) ?? (method == "HEAD" ? methods.first { $0.method == "GET" } : nil) {
            return .handler(found.handler, parameters: [:])
        }
        var allowed = Set(methods.map(\.method))
        if allowed.contains("GET") { allowed.insert("HEAD") }
        return .failure(HTTPError(
            .methodNotAllowed, detail: "\(method) is not allowed here.",
            headers: ["Allow": allowed.sorted().joined(separator: ", ")]))
    }

    /// The `/`-separated segments after the leading `/` of `bytes`, empty ones kept, as byte
    /// ranges into `bounds`, which holds one per `/`.
    static func segmentBounds(of bytes: UnsafeBufferPointer<UInt8>, into bounds: UnsafeMutableBufferPointer<Range<Int>>) {
        var segment = 0
        var start = 1
        for index in 1..<max(1, bytes.count) where bytes[index] == UInt8(ascii: "/") {
            bounds[segment] = start..<index
            segment += 1
            start = index + 1
        }
        bounds[segment] = start..<bytes.count
    }
}

/// The routes a thread resolved recently: a service sees few distinct paths, and a path seen
/// before is routed by comparing it with the one it was resolved for, where matching scanned
/// the routes of its segment count and decoded its parameters into new strings (about 3,000
/// instructions and, for a model name over 15 bytes, an allocation per predict). Resolution
/// is a function of the table, the method and the path, so a kept one is the answer; only
/// found handlers are kept. Direct-mapped by a hash of the path, 64 entries a thread, each
/// entry naming its table (a table's id is never reused).
final class ResolvedRoutes {
    static let perThread = PerThread { ResolvedRoutes() }
    static let slotCount = 64

    private struct Entry {
        /// 0: empty (table ids start at 1).
        var table: UInt64 = 0
        var method = ""
        var path = ""
        var handler: HTTPHandler = { _ in HTTPResponse() }
        var parameters = PathParameters()
    }
    private var entries = [Entry](repeating: Entry(), count: ResolvedRoutes.slotCount)

    /// The entry for `path`.
    static func slot(of path: inout String) -> Int {
        path.withUTF8 { ByteSlots.slot(of: UnsafeRawBufferPointer($0), slotCount: slotCount) }
    }

    func lookup(slot: Int, table: UInt64, method: String, path: String) -> RouteTable.Resolution? {
        // Compared in place: a copy of the entry retained and released each of its fields.
        guard entries[slot].table == table, entries[slot].path == path, entries[slot].method == method else { return nil }
        return .handler(entries[slot].handler, parameters: entries[slot].parameters)
    }

    func store(slot: Int, table: UInt64, method: String, path: String, handler: @escaping HTTPHandler, parameters: PathParameters) {
        entries[slot] = Entry(table: table, method: method, path: path, handler: handler, parameters: parameters)
    }
}

/// Percent-decoding of one path segment (RFC 3986 §2.1).
public enum PercentDecoding {
    /// The decoded segment, or nil if an escape is malformed, the bytes are not UTF-8, or the
    /// value could escape a directory: contains `/` or NUL, or is `.` or `..`.
    public static func pathParameter(_ raw: Substring) -> String? {
        var text = String(raw)
        return text.withUTF8 { pathParameter($0) }
    }

    /// The same for a segment's bytes (valid UTF-8, as cut from a `String` at `/`).
    public static func pathParameter(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        guard raw.contains(UInt8(ascii: "%")) else {
            // Nothing to decode (the common case): checked on the bytes, one string made.
            guard isAcceptable(raw) else { return nil }
            return String(decoding: raw, as: UTF8.self)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var iterator = raw.makeIterator()
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
        guard bytes.withUnsafeBufferPointer(isAcceptable), let decoded = String(validating: bytes, as: UTF8.self) else { return nil }
        return decoded
    }

    /// Not empty, `.` or `..`, and without `/` or NUL.
    private static func isAcceptable(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        if value.isEmpty || value.contains(UInt8(ascii: "/")) || value.contains(0) { return false }
        let dot = UInt8(ascii: ".")
        return !(value.count == 1 && value[0] == dot) && !(value.count == 2 && value[0] == dot && value[1] == dot)
    }
}
