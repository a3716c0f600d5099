/// The value types shared by the parser, the connection state machine and handlers.
/// They carry no I/O and no references, so they cross threads freely.

/// HTTP versions Vigia speaks; anything else is answered 505 (RFC 9112 §2.3).
public enum HTTPVersion: Sendable, Equatable {
    case http1_0
    case http1_1
}

/// One header field as received (name case preserved, value trimmed of OWS).
public struct HTTPField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Header fields in arrival order; names compare case-insensitively (RFC 9110 §5.1).
///
/// A parsed request's are held as they arrived (`ReceivedFields`): a lookup makes a string
/// for the value it finds and no other. Any change turns them into a list of fields first.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    private enum Storage: Sendable {
        case list([HTTPField])
        case received(ReceivedFields)
    }
    private var storage: Storage

    public init(_ fields: [HTTPField] = []) { storage = .list(fields) }

    init(received: ReceivedFields) { storage = .received(received) }

    /// Room reserved past a literal's fields for what the route chain adds to a response
    /// (`X-Request-Id`), so that adding it does not move the fields to a larger array.
    static let addedFieldsRoom = 2

    public init(dictionaryLiteral elements: (String, String)...) {
        var fields: [HTTPField] = []
        fields.reserveCapacity(elements.count + Self.addedFieldsRoom)
        for (name, value) in elements { fields.append(HTTPField(name: name, value: value)) }
        storage = .list(fields)
    }

    /// Every field, in arrival order.
    public var fields: [HTTPField] {
        switch storage {
        case .list(let fields): fields
        case .received(let received): received.fields()
        }
    }

    public func makeIterator() -> IndexingIterator<[HTTPField]> { fields.makeIterator() }

    public var count: Int {
        switch storage {
        case .list(let fields): fields.count
        case .received(let received): received.count
        }
    }

    public static func == (a: HTTPHeaders, b: HTTPHeaders) -> Bool { a.fields == b.fields }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        switch storage {
        case .list(let fields):
            // Fields are read in place: each copied field was two retains and two releases.
            for i in fields.indices where Self.sameName(fields[i].name, name) { return fields[i].value }
            return nil
        case .received(let received):
            return received.value(named: name)
        }
    }

    /// Every value of `name`, in arrival order.
    public func values(_ name: String) -> [String] {
        switch storage {
        case .list(let fields): fields.filter { Self.sameName($0.name, name) }.map(\.value)
        case .received(let received): received.values(named: name)
        }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Whether the first value of `name` passes `check` (on its UTF-8), or nil when there is
    /// none. A received field's value is read where it arrived: for a check that needs no
    /// string. Not generic, so that a caller in another module runs specialized code.
    public func firstValue(_ name: String, satisfies check: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool? {
        switch storage {
        case .list:
            guard var value = self[name] else { return nil }
            return value.withUTF8(check)
        case .received(let received):
            return received.withFirstValue(named: name, check)
        }
    }

    /// Runs `change` on the fields as a list (made from the received bytes when they are
    /// those), owned here alone while it runs so that changing it copies nothing.
    private mutating func changeFields(_ change: (inout [HTTPField]) -> Void) {
        var fields: [HTTPField]
        switch storage {
        case .list(let list): fields = list
        case .received(let received): fields = received.fields()
        }
        storage = .list([])
        change(&fields)
        storage = .list(fields)
    }

    public mutating func add(_ name: String, _ value: String) {
        changeFields { $0.append(HTTPField(name: name, value: value)) }
    }

    /// The received bytes' buffer, emptied and zeroed (`RequestStorage` reuses it); these
    /// headers are left empty. nil when they are a list.
    mutating func takeReceivedBuffer() -> [UInt8]? {
        guard case .received(var received) = storage else { return nil }
        storage = .list([])  // `received` now holds the buffer alone
        return received.takeBuffer()
    }

    /// The received bytes' buffer (tests).
    var testsOnly_receivedBuffer: [UInt8]? {
        if case .received(let received) = storage { return received.buffer }
        return nil
    }

    /// Replaces every field called `name` with one field.
    public mutating func set(_ name: String, _ value: String) {
        changeFields { fields in
            guard let first = fields.firstIndex(where: { Self.sameName($0.name, name) }) else {
                return fields.append(HTTPField(name: name, value: value))
            }
            fields[first] = HTTPField(name: name, value: value)
            var index = first + 1
            while index < fields.count {
                if Self.sameName(fields[index].name, name) { fields.remove(at: index) } else { index += 1 }
            }
        }
    }

    public mutating func remove(_ name: String) {
        changeFields { $0.removeAll { Self.sameName($0.name, name) } }
    }

    /// ASCII case-insensitive comparison without allocating. Most comparisons are between
    /// names of different lengths (every header lookup walks the fields, and most lookups
    /// miss): the UTF-8 count of a native string is stored, so the length test, inlined where
    /// names are compared, rejects them without a call or reading a byte.
    @inline(__always)
    public static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && sameBytesIgnoringCase(a, b)
    }

    /// `sameName` for two names of one length.
    private static func sameBytesIgnoringCase(_ a: String, _ b: String) -> Bool {
        // Native strings lend their bytes without the copy of the string value that the
        // mutating `withUTF8` needs; any other string is compared byte by byte.
        let contiguous = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                for i in 0..<x.count where x[i] != y[i] {
                    guard sameLetter(x[i], y[i]) else { return false }
                }
                return true
            }
        }
        if let contiguous, let result = contiguous { return result }
        return zip(a.utf8, b.utf8).allSatisfy { $0 == $1 || sameLetter($0, $1) }
    }

    /// Two different bytes that are one ASCII letter in its two cases.
    @inline(__always)
    private static func sameLetter(_ x: UInt8, _ y: UInt8) -> Bool {
        let lower = x | 0x20
        return lower == y | 0x20 && lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")
    }
}

/// How the body that follows a head is delimited (RFC 9112 §6.3), decided once by the parser.
public enum BodyFraming: Sendable, Equatable {
    /// No body: no Content-Length and no Transfer-Encoding on a request.
    case none
    case contentLength(Int)
    case chunked
}

/// A parsed request head. `path` and `query` are slices of the raw target, not decoded.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    /// The request-target exactly as sent (origin-, absolute- or asterisk-form).
    public var target: String
    /// The target's path up to `?`: `/p` for `http://host/p?q` (`/` when the absolute-form
    /// target has no path), `*` for `OPTIONS *`.
    public var path: String
    /// The target after `?`, if any.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: BodyFraming
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool
    /// `Expect: 100-continue` was sent (RFC 9110 §10.1.1).
    public var expectsContinue: Bool

    public init(
        method: String, target: String, path: String, query: String?, version: HTTPVersion,
        headers: HTTPHeaders, framing: BodyFraming, keepAlive: Bool, expectsContinue: Bool
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }
}

/// A complete request as handed to a handler.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// Path parameters bound by the router (`{name}` → value).
    public var pathParameters: PathParameters
    /// True when the request came over an HTTPS listener (set by the server); default false.
    public var arrivedOverTLS = false
    /// The id its response carries (`X-Request-Id`): the client's or a new one, set before the
    /// handler runs by whoever wraps it (the service's route table); nil until then.
    public var id: String?

    public init(head: HTTPRequestHead, body: [UInt8] = [], pathParameters: PathParameters = [:]) {
        self.head = head
        self.body = body
        self.pathParameters = pathParameters
    }

    public var method: String { head.method }
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }
}

/// Path parameters bound by the router, by name. A route has a few, so they are a list
/// searched by name: a dictionary was built, and every lookup (misses included) hashed, on
/// each request.
public struct PathParameters: Sendable, ExpressibleByDictionaryLiteral {
    /// The first two bindings in place (every route here has at most two: a model's name and
    /// version), the rest in an array: binding a request's parameters allocates nothing.
    private var first: (name: String, value: String)?
    private var second: (name: String, value: String)?
    private var more: [(name: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { self[name] = value }
    }

    public var isEmpty: Bool { first == nil }

    /// The bindings in the order they were made.
    private var bindings: [(name: String, value: String)] { [first, second].compactMap { $0 } + more }

    /// Every binding, as a dictionary (for tests and logs; lookups use the subscript).
    public var dictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: bindings.lazy.map { ($0.name, $0.value) })
    }

    /// The value bound to `name`, or nil; setting replaces it (nil removes it).
    public subscript(name: String) -> String? {
        get {
            if let first, first.name == name { return first.value }
            if let second, second.name == name { return second.value }
            return more.first { $0.name == name }?.value
        }
        set {
            if first?.name == name || second?.name == name || more.contains(where: { $0.name == name }) {
                // Replacing or removing: rebuilt in order (rare: routing binds each name once).
                var all = bindings
                let k = all.firstIndex { $0.name == name }!
                if let newValue { all[k].value = newValue } else { all.remove(at: k) }
                self = PathParameters(all)
            } else if let newValue {
                if first == nil { first = (name, newValue) } else if second == nil { second = (name, newValue) } else { more.append((name, newValue)) }
            }
        }
    }

    private init(_ bindings: [(name: String, value: String)]) {
        for (name, value) in bindings { self[name] = value }
    }
}

/// A status code with its reason phrase.
public struct HTTPStatus: Sendable, Equatable, Hashable, ExpressibleByIntegerLiteral {
    public var code: Int

    public init(_ code: Int) { self.code = code }
    public init(integerLiteral value: Int) { self.code = value }

    public static let ok: HTTPStatus = 200
    public static let noContent: HTTPStatus = 204
    public static let badRequest: HTTPStatus = 400
    public static let unauthorized: HTTPStatus = 401
    public static let forbidden: HTTPStatus = 403
    public static let notFound: HTTPStatus = 404
    public static let methodNotAllowed: HTTPStatus = 405
    public static let requestTimeout: HTTPStatus = 408
    public static let lengthRequired: HTTPStatus = 411
    public static let contentTooLarge: HTTPStatus = 413
    public static let uriTooLong: HTTPStatus = 414
    public static let unsupportedMediaType: HTTPStatus = 415
    public static let unprocessableContent: HTTPStatus = 422
    public static let tooManyRequests: HTTPStatus = 429
    public static let headerFieldsTooLarge: HTTPStatus = 431
    public static let internalServerError: HTTPStatus = 500
    public static let notImplemented: HTTPStatus = 501
    public static let serviceUnavailable: HTTPStatus = 503
    public static let versionNotSupported: HTTPStatus = 505

    public var reason: String {
        switch code {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(code)"
        }
    }
}

/// A response as produced by a handler; the server adds Content-Length, Date, Connection.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The `X-Request-Id` the encoder writes when `headers` name none (without either, it
    /// writes a new id). The route chain sets it here rather than in `headers`: a shared
    /// response's headers (a static health answer) would be copied for every request.
    public var requestID: String?
    /// The body came from `ResponseBodies.take(capacity:)` and goes back there once written.
    public var recyclesBody: Bool

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = [], requestID: String? = nil,
                recyclesBody: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.requestID = requestID
        self.recyclesBody = recyclesBody
    }
}

/// Named limits, each answered with its own status. Defaults suit JSON scoring traffic.
public struct HTTPLimits: Sendable, Equatable {
    /// Request line (method, target, version) in bytes; over it: 414.
    public var maxRequestLineBytes = 8 * 1024
    /// The whole head (request line + fields) in bytes; over it: 431.
    public var maxHeaderBytes = 32 * 1024
    /// Number of header fields; over it: 431.
    public var maxHeaderCount = 100
    /// Decoded body bytes; over it: 413, answered from the head when Content-Length says so.
    public var maxBodyBytes = 4 * 1024 * 1024
    /// Seconds a client has to send a complete head once it started one; then 408.
    public var headerTimeout: Double = 10
    /// Seconds a client has to send the whole body after the head; then 408.
    public var bodyTimeout: Double = 30
    /// Seconds an idle keep-alive connection is kept open; then closed quietly.
    public var idleTimeout: Double = 60
    /// Requests parsed ahead of the one being answered on one connection.
    public var maxPipelinedRequests = 16

    public init() {}
}

/// Why a request could not be parsed or framed; each case knows its status.
public enum HTTPParseError: Error, Sendable, Equatable {
    case malformedRequestLine
    case requestLineTooLong
    case unsupportedVersion
    case malformedHeader
    case whitespaceBeforeColon
    case obsoleteLineFolding
    case invalidCharacterInField
    case headersTooLarge
    case tooManyHeaders
    case missingHost
    case duplicateHost
    case contentLengthWithTransferEncoding
    case invalidContentLength
    case conflictingContentLength
    case transferEncodingNotChunked
    case unsupportedTransferCoding
    case malformedChunk
    case chunkSizeTooLarge
    case bodyTooLarge
    /// Transfer-Encoding on an HTTP/1.0 request (RFC 9112 §6.1): 400.
    case transferEncodingInHTTP10
    /// Chunk extensions or trailer fields beyond the decoder's metadata budget: 413.
    case chunkMetadataTooLarge

    public var status: HTTPStatus {
        switch self {
        case .requestLineTooLong: .uriTooLong
        case .unsupportedVersion: .versionNotSupported
        case .headersTooLarge, .tooManyHeaders: .headerFieldsTooLarge
        case .unsupportedTransferCoding: .notImplemented
        case .bodyTooLarge, .chunkSizeTooLarge, .chunkMetadataTooLarge: .contentTooLarge
        default: .badRequest
        }
    }

    /// A sentence for the problem+json `detail`.
    public var detail: String {
        switch self {
        case .malformedRequestLine: "The request line is not 'METHOD SP request-target SP HTTP-version'."
        case .requestLineTooLong: "The request line is longer than the server accepts."
        case .unsupportedVersion: "Only HTTP/1.0 and HTTP/1.1 are supported."
        case .malformedHeader: "A header field is not 'name: value'."
        case .whitespaceBeforeColon: "Whitespace between a field name and the colon is not allowed (RFC 9112 §5.1)."
        case .obsoleteLineFolding: "Obsolete line folding is not accepted (RFC 9112 §5.2)."
        case .invalidCharacterInField: "A header field contains a NUL, CR or LF, or a name has a character outside tchar."
        case .headersTooLarge: "The request head is larger than the server accepts."
        case .tooManyHeaders: "The request has more header fields than the server accepts."
        case .missingHost: "HTTP/1.1 requests must carry exactly one Host header (RFC 9112 §3.2)."
        case .duplicateHost: "More than one Host header was sent (RFC 9112 §3.2)."
        case .contentLengthWithTransferEncoding: "Content-Length and Transfer-Encoding together are rejected (RFC 9112 §6.3)."
        case .invalidContentLength: "Content-Length is not a non-negative decimal integer."
        case .conflictingContentLength: "Content-Length was sent more than once (RFC 9112 §6.3)."
        case .transferEncodingNotChunked: "Transfer-Encoding must end with chunked (RFC 9112 §6.3)."
        case .unsupportedTransferCoding: "Only the chunked transfer coding is implemented."
        case .malformedChunk: "The chunked body is malformed."
        case .chunkSizeTooLarge: "A chunk size is larger than the server accepts."
        case .bodyTooLarge: "The body is larger than the server accepts."
        case .transferEncodingInHTTP10: "Transfer-Encoding is not accepted on an HTTP/1.0 request (RFC 9112 §6.1)."
        case .chunkMetadataTooLarge: "The chunk extensions or trailer fields are larger than the server accepts."
        }
    }
}
