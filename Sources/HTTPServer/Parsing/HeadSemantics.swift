/// What the field lines said about framing and connection handling, gathered while
/// scanning (no Strings, no allocation) and judged afterwards by `HeadSemantics.decide`.
/// Syntax and meaning stay separate: the scanner only notes, the decision is one function.
struct FramingFacts: Sendable {
    var hostCount = 0
    var contentLengthCount = 0
    /// The value of the first Content-Length field; later ones are rejected anyway.
    var contentLength: Range<Int> = 0..<0
    var transferEncodingCount = 0
    /// Transfer codings listed so far across every Transfer-Encoding field, in order.
    var codingCount = 0
    var chunkedCount = 0
    var lastCodingIsChunked = false
    /// A coding other than chunked (gzip, deflate, compress, or anything unknown).
    var sawOtherCoding = false
    /// A list element that is not `token *( OWS ";" … )`.
    var sawMalformedCoding = false
    var connectionClose = false
    var connectionKeepAlive = false
    var expects100Continue = false

    /// Records one field line. Names compare ASCII case-insensitively (RFC 9110 §5.1).
    mutating func note(name: Range<Int>, value: Range<Int>, in bytes: UnsafeRawBufferPointer) {
        switch name.count {
        case 4 where bytes.equalsIgnoringCase(name, "host"):
            hostCount += 1
        case 14 where bytes.equalsIgnoringCase(name, "content-length"):
            if contentLengthCount == 0 { contentLength = value }
            contentLengthCount += 1
        case 17 where bytes.equalsIgnoringCase(name, "transfer-encoding"):
            transferEncodingCount += 1
            bytes.forEachListElement(in: value) { element in noteCoding(element, in: bytes) }
        case 10 where bytes.equalsIgnoringCase(name, "connection"):
            bytes.forEachListElement(in: value) { element in
                if bytes.equalsIgnoringCase(element, "close") { connectionClose = true }
                if bytes.equalsIgnoringCase(element, "keep-alive") { connectionKeepAlive = true }
            }
        case 6 where bytes.equalsIgnoringCase(name, "expect"):
            if bytes.equalsIgnoringCase(value, "100-continue") { expects100Continue = true }
        default:
            break
        }
    }

    private mutating func noteCoding(_ element: Range<Int>, in bytes: UnsafeRawBufferPointer) {
        codingCount += 1
        if bytes.equalsIgnoringCase(element, "chunked") {
            chunkedCount += 1
            lastCodingIsChunked = true
            return
        }
        lastCodingIsChunked = false
        // transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 §7)
        var index = element.lowerBound
        while index < element.upperBound, ByteClass.isTokenChar(bytes[index]) { index += 1 }
        if index == element.lowerBound { sawMalformedCoding = true; return }
        while index < element.upperBound, ByteClass.isWhitespace(bytes[index]) { index += 1 }
        if index < element.upperBound, bytes[index] != UInt8(ascii: ";") { sawMalformedCoding = true; return }
        sawOtherCoding = true
    }
}

/// The meaning of a syntactically valid head: body framing, persistence, expectations.
enum HeadSemantics {
    struct Decision {
        var framing: BodyFraming
        var keepAlive: Bool
        var expectsContinue: Bool
    }

    /// Decides framing once, after syntax, in the order of RFC 9112 §6.3 and §3.2.
    static func decide(
        facts: FramingFacts, version: HTTPVersion, bytes: UnsafeRawBufferPointer, limits: HTTPLimits
    ) throws(ScanStop) -> Decision {
        // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without Host,
        // and to any request with more than one Host field.
        if facts.hostCount > 1 { throw .failure(.duplicateHost) }
        if facts.hostCount == 0 && version == .http1_1 { throw .failure(.missingHost) }

        let framing: BodyFraming
        if facts.transferEncodingCount > 0 {
            // RFC 9112 §6.1: a request with both may be an attempt at request smuggling;
            // the server MAY reject it, and we always do.
            if facts.contentLengthCount > 0 { throw .failure(.contentLengthWithTransferEncoding) }
            // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is unreliable (an HTTP/1.0
            // intermediary may have forwarded it without understanding it) — reject.
            if version == .http1_0 { throw .failure(.transferEncodingInHTTP10) }
            // RFC 9112 §6.3 item 4: if chunked is not the final coding of a request, the
            // length cannot be determined — 400. Chunked applied twice is invalid (§7).
            if facts.sawMalformedCoding || !facts.lastCodingIsChunked || facts.chunkedCount > 1 {
                throw .failure(.transferEncodingNotChunked)
            }
            // RFC 9112 §6.1: a coding the server does not understand is answered 501.
            if facts.sawOtherCoding { throw .failure(.unsupportedTransferCoding) }
            framing = .chunked
        } else if facts.contentLengthCount > 0 {
            // RFC 9112 §6.3 item 5: several Content-Length fields, or a list, are rejected
            // here even when the values agree (a proxy may have chosen another one).
            if facts.contentLengthCount > 1 { throw .failure(.conflictingContentLength) }
            let length = try contentLength(facts.contentLength, in: bytes)
            if length > limits.maxBodyBytes { throw .failure(.bodyTooLarge) }
            framing = .contentLength(length)
        } else {
            // RFC 9112 §6.3 item 7: a request with neither has no body.
            framing = .none
        }

        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        let keepAlive = switch version {
        case .http1_1: !facts.connectionClose
        case .http1_0: facts.connectionKeepAlive && !facts.connectionClose
        }
        // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
        let expectsContinue = facts.expects100Continue && version == .http1_1
        return Decision(framing: framing, keepAlive: keepAlive, expectsContinue: expectsContinue)
    }

    /// `Content-Length = 1*DIGIT` (RFC 9110 §8.6): no sign, no spaces inside, no list,
    /// no overflow.
    static func contentLength(_ value: Range<Int>, in bytes: UnsafeRawBufferPointer) throws(ScanStop) -> Int {
        guard !value.isEmpty else { throw .failure(.invalidContentLength) }
        var length = 0
        for index in value {
            let digit = bytes[index]
            if digit == UInt8(ascii: ",") { throw .failure(.conflictingContentLength) }
            guard ByteClass.isDigit(digit) else { throw .failure(.invalidContentLength) }
            let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(digit - 0x30))
            if overflow1 || overflow2 { throw .failure(.invalidContentLength) }
            length = sum
        }
        return length
    }
}

extension UnsafeRawBufferPointer {
    /// Calls `body` with each non-empty element of a comma-separated list, OWS trimmed
    /// (RFC 9110 §5.6.1: empty elements are ignored).
    @inline(__always)
    func forEachListElement(in range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = range.lowerBound
        while start <= range.upperBound {
            var end = start
            while end < range.upperBound, self[end] != UInt8(ascii: ",") { end += 1 }
            var low = start
            var high = end
            while low < high, ByteClass.isWhitespace(self[low]) { low += 1 }
            while high > low, ByteClass.isWhitespace(self[high - 1]) { high -= 1 }
            if low < high { body(low..<high) }
            start = end + 1
        }
    }
}
