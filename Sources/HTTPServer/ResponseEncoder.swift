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
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        DecimalDigits.append(code, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: response.status.reason.utf8)
        out.append(contentsOf: "\r\n".utf8)
        for field in response.headers where !isServerOwned(field.name) {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if !response.headers.contains(RequestID.headerName) {
            out.append(contentsOf: RequestID.headerName.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: RequestID.generate().utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if !bodyless {
            out.append(contentsOf: "Content-Length: ".utf8)
            DecimalDigits.append(response.body.count, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Date: ".utf8)
        out.append(contentsOf: date.utf8)
        out.append(contentsOf: "\r\n".utf8)
        if !outgoing.keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if outgoing.requestVersion == .http1_0 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if !bodyless && !outgoing.headOnly { out.append(contentsOf: response.body) }
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
