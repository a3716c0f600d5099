import Glibc
import JSON

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
    ///
    /// The head's size is counted first, its pieces are copied into that much room on the
    /// stack and the head is appended at once: appending its fifteen-odd pieces one
    /// `append(contentsOf:)` at a time cost more than the rest of answering `/health/live`.
    public static func encode(_ outgoing: OutgoingResponse, date: String, into out: inout [UInt8]) {
        let response = outgoing.response
        let code = response.status.code
        let bodyless = code == 204 || code == 304 || (100..<200).contains(code)
        let connection: StaticString? =
            !outgoing.keepAlive ? "Connection: close\r\n"
            : outgoing.requestVersion == .http1_0 ? "Connection: keep-alive\r\n" : nil
        let statusLine: StaticString? = code == 200 ? "HTTP/1.1 200 OK\r\n" : nil

        // Handler headers the server owns are skipped; which ones, by index, for the second pass.
        // The same pass sees whether the handler set a request id.
        var skipped: [Int] = []
        var hasRequestID = false
        var size = statusLine?.utf8CodeUnitCount ?? "HTTP/1.1 ".utf8.count + DecimalDigits.count(code) + 1 + response.status.reason.utf8.count + 2
        for (index, field) in response.headers.enumerated() {
            if isServerOwned(field.name) {
                skipped.append(index)
            } else {
                if !hasRequestID, HTTPHeaders.sameName(field.name, RequestID.headerName) { hasRequestID = true }
                size += field.name.utf8.count + 2 + field.value.utf8.count + 2
            }
        }
        let generatedID = hasRequestID ? nil : response.requestID ?? RequestID.generate()
        if let generatedID { size += RequestID.headerName.utf8.count + 2 + generatedID.utf8.count + 2 }
        if !bodyless { size += "Content-Length: ".utf8.count + DecimalDigits.count(response.body.count) + 2 }
        size += "Date: ".utf8.count + date.utf8.count + 2
        if let connection { size += connection.utf8CodeUnitCount }
        size += 2
        let sendsBody = !bodyless && !outgoing.headOnly

        out.reserveCapacity(out.count + size + (sendsBody ? response.body.count : 0))
        // Written on the stack (a head is a few hundred bytes), then copied over in one go.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buffer in
            var head = HeadCursor(buffer.baseAddress!)
            if let statusLine {
                head.write(statusLine)
            } else {
                head.write("HTTP/1.1 ")
                head.write(decimal: code)
                head.write(byte: UInt8(ascii: " "))
                head.write(response.status.reason)
                head.write("\r\n")
            }
            var next = 0
            for (index, field) in response.headers.enumerated() {
                if next < skipped.count, skipped[next] == index {
                    next += 1
                    continue
                }
                head.write(field.name)
                head.write(": ")
                head.write(field.value)
                head.write("\r\n")
            }
            if let generatedID {
                head.write(RequestID.headerName)
                head.write(": ")
                head.write(generatedID)
                head.write("\r\n")
            }
            if !bodyless {
                head.write("Content-Length: ")
                head.write(decimal: response.body.count)
                head.write("\r\n")
            }
            head.write("Date: ")
            head.write(date)
            head.write("\r\n")
            if let connection { head.write(connection) }
            head.write("\r\n")
            precondition(head.position == buffer.baseAddress! + size, "response head size miscounted")
            out.append(contentsOf: UnsafeBufferPointer(buffer))
        }
        if sendsBody { out.append(contentsOf: response.body) }
    }
}

/// Writes a response head into room already made for it.
private struct HeadCursor {
    var position: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) { position = start }

    mutating func write(_ text: StaticString) {
        text.withUTF8Buffer { write($0) }
    }

    mutating func write(_ text: String) {
        // Native strings (what handlers and literals make) lend their bytes without a copy of
        // the string value, which `withUTF8` (mutating) needs; small ones (up to 15 bytes,
        // kept inside the value) lend none, and their copy is a value copy, no retain.
        if text.utf8.withContiguousStorageIfAvailable({ write($0) }) != nil { return }
        var copy = text
        copy.withUTF8 { write($0) }
    }

    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        position.update(from: base, count: bytes.count)
        position += bytes.count
    }

    mutating func write(byte: UInt8) {
        position.pointee = byte
        position += 1
    }

    mutating func write(decimal value: Int) {
        position += DecimalDigits.write(value, to: position)
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
