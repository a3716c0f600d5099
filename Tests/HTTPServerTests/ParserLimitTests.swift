import Testing
@testable import HTTPServer

/// Each named limit at exactly its value (accepted) and one over (its status), including
/// input that is still incomplete: an endless line or head must not be `.needMore` forever.
@Suite(.timeLimit(.minutes(10))) struct ParserLimitTests {
    typealias F = ParserFixture

    static func limits(requestLine: Int = 8 * 1024, headerBytes: Int = 32 * 1024, headerCount: Int = 100, body: Int = 4 << 20) -> HTTPLimits {
        var limits = HTTPLimits()
        limits.maxRequestLineBytes = requestLine
        limits.maxHeaderBytes = headerBytes
        limits.maxHeaderCount = headerCount
        limits.maxBodyBytes = body
        return limits
    }

    static let longLine = "GET /" + String(repeating: "a", count: 60) + " HTTP/1.1"  // 74 bytes
    static let longLineRequest = longLine + "\r\nHost: a\r\n\r\n"

    @Test func acceptsRequestLineOfExactlyTheLimit() {
        #expect(F.head(Self.longLineRequest, limits: Self.limits(requestLine: Self.longLine.utf8.count)) != nil)
    }

    @Test func answers414ForRequestLineOneByteOverTheLimit() {
        F.expectFailure(Self.longLineRequest, .requestLineTooLong, status: 414,
                        limits: Self.limits(requestLine: Self.longLine.utf8.count - 1))
    }

    @Test func answers414ForIncompleteRequestLineAlreadyOverTheLimit() {
        let endless = "GET /" + String(repeating: "a", count: 100)
        #expect(F.parse(endless, limits: Self.limits(requestLine: 50)) == .failure(.requestLineTooLong))
        // At exactly the limit the line could still end with CRLF.
        let atLimit = "GET /" + String(repeating: "a", count: 45)
        #expect(F.parse(atLimit, limits: Self.limits(requestLine: 50)) == .needMore)
    }

    @Test func leadingEmptyLinesDoNotCountTowardTheRequestLine() {
        let request = "\r\n\r\n" + Self.longLineRequest
        #expect(F.head(request, limits: Self.limits(requestLine: Self.longLine.utf8.count)) != nil)
    }

    static let headRequest = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 40) + "\r\n\r\n"

    @Test func acceptsHeadOfExactlyTheHeaderByteLimit() {
        #expect(F.head(Self.headRequest, limits: Self.limits(headerBytes: Self.headRequest.utf8.count)) != nil)
    }

    @Test func answers431ForHeadOneByteOverTheHeaderByteLimit() {
        F.expectFailure(Self.headRequest, .headersTooLarge, status: 431,
                        limits: Self.limits(headerBytes: Self.headRequest.utf8.count - 1))
    }

    @Test func answers431ForIncompleteHeadAlreadyOverTheLimit() {
        let endless = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 200)
        #expect(F.parse(endless, limits: Self.limits(headerBytes: 100)) == .failure(.headersTooLarge))
        // Exactly `maxHeaderBytes` bytes without the end of the head: the next byte is over.
        let exactly = String(endless.utf8.prefix(100))!
        #expect(F.parse(exactly, limits: Self.limits(headerBytes: 100)) == .failure(.headersTooLarge))
        let under = String(endless.utf8.prefix(99))!
        #expect(F.parse(under, limits: Self.limits(headerBytes: 100)) == .needMore)
    }

    @Test func answers431ForEndlessEmptyLinesBeforeTheRequestLine() {
        let endless = String(repeating: "\r\n", count: 100)
        #expect(F.parse(endless, limits: Self.limits(headerBytes: 64)) == .failure(.headersTooLarge))
    }

    static func request(fieldCount: Int) -> String {
        "GET / HTTP/1.1\r\nHost: a\r\n" + (1..<fieldCount).map { "X-\($0): v\r\n" }.joined() + "\r\n"
    }

    @Test func acceptsExactlyTheHeaderCountLimit() {
        #expect(F.head(Self.request(fieldCount: 10), limits: Self.limits(headerCount: 10))?.headers.count == 10)
    }

    @Test func answers431ForOneFieldOverTheHeaderCountLimit() {
        F.expectFailure(Self.request(fieldCount: 11), .tooManyHeaders, status: 431, limits: Self.limits(headerCount: 10))
    }

    @Test func acceptsContentLengthOfExactlyTheBodyLimit() {
        let head = F.head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n", limits: Self.limits(body: 1000))
        #expect(head?.framing == .contentLength(1000))
    }

    @Test func answers413ForContentLengthOneOverTheBodyLimit() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", .bodyTooLarge, status: 413,
                        limits: Self.limits(body: 1000))
    }
}
