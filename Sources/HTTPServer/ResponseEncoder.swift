import Glibc

/// A response on its way out, with what the connection decided about it.
public struct OutgoingResponse: Sendable {
    public var response: HTTPResponse
    /// HEAD: headers (with the Content-Length a GET would have) and no body.
    public var headOnly: Bool
    /// false: `Connection: close` is sent and the connection closes after it.
    public var keepAlive: Bool
    /// The request's version; an HTTP/1.0 keep-alive answer says `Connection: keep-alive`.
    public var requestVersion: HTTPVersion

    public init(response: HTTPResponse, headOnly: Bool, keepAlive: Bool, requestVersion: HTTPVersion) {
        self.response = response
        self.headOnly = headOnly
        self.keepAlive = keepAlive
        self.requestVersion = requestVersion
    }
}

/// Serializes responses. The server owns framing: handler-set `Content-Length`,
/// `Transfer-Encoding`, `Connection` and `Date` are dropped and the server's own are written.
public enum ResponseEncoder {
    /// The interim answer to `Expect: 100-continue`.
    public static let continueBytes: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    static func isServerOwned(_ name: String) -> Bool {
        HTTPHeaders.sameName(name, "Content-Length") || HTTPHeaders.sameName(name, "Transfer-Encoding")
            || HTTPHeaders.sameName(name, "Connection") || HTTPHeaders.sameName(name, "Date")
    }

    /// Appends the status line, headers and (unless HEAD, 204 or 304) the body to `out`.
    public static func encode(_ outgoing: OutgoingResponse, date: String, into out: inout [UInt8]) {
        let response = outgoing.response
        let code = response.status.code
        let bodyless = code == 204 || code == 304 || (100..<200).contains(code)
        // Appended piece by piece: an interpolated status line or Content-Length line is a heap
        // string on every response; the short number strings stay inline.
        appendLiteral("HTTP/1.1 ", to: &out)
        DecimalDigits.append(code, to: &out)
        out.append(UInt8(ascii: " "))
        append(response.status.reason, to: &out)
        appendLiteral("\r\n", to: &out)
        for field in response.headers where !isServerOwned(field.name) {
            append(field.name, to: &out)
            appendLiteral(": ", to: &out)
            append(field.value, to: &out)
            appendLiteral("\r\n", to: &out)
        }
        if !response.headers.contains(RequestID.headerName) {
            append(RequestID.headerName, to: &out)
            appendLiteral(": ", to: &out)
            append(RequestID.generate(), to: &out)
            appendLiteral("\r\n", to: &out)
        }
        if !bodyless {
            appendLiteral("Content-Length: ", to: &out)
            DecimalDigits.append(response.body.count, to: &out)
            appendLiteral("\r\n", to: &out)
        }
        appendLiteral("Date: ", to: &out)
        append(date, to: &out)
        appendLiteral("\r\n", to: &out)
        if !outgoing.keepAlive {
            appendLiteral("Connection: close\r\n", to: &out)
        } else if outgoing.requestVersion == .http1_0 {
            appendLiteral("Connection: keep-alive\r\n", to: &out)
        }
        appendLiteral("\r\n", to: &out)
        if !bodyless && !outgoing.headOnly { out.append(contentsOf: response.body) }
    }

    /// The bytes of a header piece. `Array.append(contentsOf: string.utf8)` goes element by
    /// element for a short string; its UTF-8 buffer is copied at once.
    @inline(__always)
    private static func append(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    @inline(__always)
    private static func appendLiteral(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }
}

/// The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), recomputed at most once a second.
/// One per event loop; not shared between threads.
struct DateCache {
    private var second: Int = -1
    private var cached = ""

    mutating func current() -> String {
        let now = time(nil)
        if now != second {
            second = now
            cached = Self.format(epochSeconds: now)
        }
        return cached
    }

    static func format(epochSeconds: Int) -> String {
        var t = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
