import Testing
@testable import HTTPServer

/// One named test per strictness rule: raw bytes beside the expected outcome, in the manner
/// of llhttp's test specs. Every case also checks that no prefix fails differently.
@Suite(.timeLimit(.minutes(10))) struct ParserStrictnessTests {
    typealias F = ParserFixture

    // MARK: Line endings (RFC 9112 §2.2: CRLF; we accept no bare LF)

    @Test func rejectsBareLineFeedAfterRequestLine() {
        F.expectFailure("GET / HTTP/1.1\nHost: a\n\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsBareLineFeedAfterFieldLine() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", .malformedHeader, status: 400)
    }

    @Test func rejectsBareLineFeedEndingTheHead() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\n\n", .malformedHeader, status: 400)
    }

    @Test func rejectsBareLineFeedBeforeRequestLine() {
        F.expectFailure("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsCarriageReturnWithoutLineFeedInEmptyLeadingLine() {
        F.expectFailure("\r GET / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsBareCarriageReturnInsideFieldValue() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", .invalidCharacterInField, status: 400)
    }

    @Test func rejectsCarriageReturnWithoutLineFeedEndingTheHead() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\n\rX", .malformedHeader, status: 400)
    }

    // MARK: Request line (RFC 9112 §3)

    @Test(arguments: ["G@T", "GE(T", "GE\"T", "GET\u{0}", "GÉT", "GE/T"])
    func rejectsMethodWithCharacterOutsideTchar(method: String) {
        F.expectFailure("\(method) / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsEmptyMethod() {
        F.expectFailure(" / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsTwoSpacesBetweenMethodAndTarget() {
        F.expectFailure("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsSpaceInsideTarget() {
        F.expectFailure("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test(arguments: ["/a\tb", "/a\u{0}b", "/a\u{7f}b", "/a\u{1b}b", "/caf\u{e9}"])
    func rejectsControlOrNonASCIIByteInTarget(target: String) {
        F.expectFailure("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsMissingVersion() {
        F.expectFailure("GET /\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsTrailingSpaceAfterVersion() {
        F.expectFailure("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsAsteriskFormWithoutOPTIONS() {
        F.expectFailure("GET * HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsAuthorityForm() {
        F.expectFailure("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsAbsoluteFormWithEmptyAuthority() {
        F.expectFailure("GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    @Test func rejectsRelativeTargetWithoutSlash() {
        F.expectFailure("GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    // MARK: Version (RFC 9112 §2.3)

    @Test(arguments: ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0"])
    func answers505ForWellFormedUnsupportedVersion(version: String) {
        F.expectFailure("GET / \(version)\r\nHost: a\r\n\r\n", .unsupportedVersion, status: 505)
    }

    @Test(arguments: ["HTTP/x", "HTTP/1", "HTTP/2", "HTTP/1.1x", "http/1.1", "HTTP/11.1", "HTTP/1.", "HTTPS/1.1", "HTTP 1.1"])
    func rejectsMalformedVersionWith400(version: String) {
        F.expectFailure("GET / \(version)\r\nHost: a\r\n\r\n", .malformedRequestLine, status: 400)
    }

    // MARK: Field syntax (RFC 9112 §5, RFC 9110 §5.5)

    @Test func rejectsWhitespaceBeforeColon() {
        F.expectFailure("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .whitespaceBeforeColon, status: 400)
    }

    @Test func rejectsTabBeforeColon() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 5\r\n\r\n", .whitespaceBeforeColon, status: 400)
    }

    @Test func rejectsObsoleteLineFolding() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n", .obsoleteLineFolding, status: 400)
    }

    @Test func rejectsObsoleteLineFoldingWithTab() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n\tb\r\n\r\n", .obsoleteLineFolding, status: 400)
    }

    @Test func rejectsWhitespaceBeforeTheFirstField() {
        F.expectFailure("GET / HTTP/1.1\r\n Host: a\r\n\r\n", .malformedHeader, status: 400)
    }

    @Test func rejectsNULInFieldValue() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", .invalidCharacterInField, status: 400)
    }

    @Test func rejectsNULInFieldName() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX\u{0}Y: b\r\n\r\n", .invalidCharacterInField, status: 400)
    }

    @Test func rejectsCarriageReturnInFieldName() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX\rY: b\r\n\r\n", .malformedHeader, status: 400)
    }

    @Test func rejectsLineFeedInFieldName() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX\nY: b\r\n\r\n", .malformedHeader, status: 400)
    }

    @Test func rejectsLineFeedInFieldValue() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n", .malformedHeader, status: 400)
    }

    @Test(arguments: ["\u{7f}", "\u{1}", "\u{1f}", "\u{b}"])
    func rejectsControlCharacterInFieldValue(control: String) {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX: a\(control)b\r\n\r\n", .invalidCharacterInField, status: 400)
    }

    @Test(arguments: ["X(Y", "X/Y", "X@Y", "X\"Y", "X{Y", "X\u{e9}Y", "X[Y"])
    func rejectsFieldNameCharacterOutsideTchar(name: String) {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\n\(name): b\r\n\r\n", .invalidCharacterInField, status: 400)
    }

    @Test func rejectsEmptyFieldName() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", .malformedHeader, status: 400)
    }

    @Test func rejectsFieldLineWithoutColon() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", .malformedHeader, status: 400)
    }

    // MARK: Host (RFC 9112 §3.2)

    @Test func rejectsMissingHostOnHTTP11() {
        F.expectFailure("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", .missingHost, status: 400)
    }

    @Test func rejectsDuplicateHost() {
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", .duplicateHost, status: 400)
    }

    @Test func rejectsDuplicateHostEvenWhenEqualAndOnHTTP10() {
        F.expectFailure("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", .duplicateHost, status: 400)
    }

    // MARK: Framing (RFC 9112 §6) — the request smuggling cases

    @Test func rejectsContentLengthWithTransferEncoding() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                        .contentLengthWithTransferEncoding, status: 400)
    }

    @Test func rejectsTransferEncodingBeforeContentLength() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                        .contentLengthWithTransferEncoding, status: 400)
    }

    @Test func rejectsDuplicateContentLengthEvenWithEqualValues() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                        .conflictingContentLength, status: 400)
    }

    @Test func rejectsDuplicateContentLengthWithDifferentValues() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n",
                        .conflictingContentLength, status: 400)
    }

    @Test func rejectsContentLengthList() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", .conflictingContentLength, status: 400)
    }

    @Test(arguments: ["abc", "+5", "-5", "5.0", "0x5", "5 5", "", "5;", "\u{663}"])
    func rejectsContentLengthThatIsNotDigits(value: String) {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\n", .invalidContentLength, status: 400)
    }

    @Test func rejectsOverflowingContentLength() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                        .invalidContentLength, status: 400)
    }

    @Test(arguments: ["gzip", "chunked, gzip", "chunked;q=1", "identity", ""])
    func rejectsTransferEncodingWhoseLastCodingIsNotChunked(value: String) {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n", .transferEncodingNotChunked, status: 400)
    }

    @Test func rejectsChunkedAppliedTwice() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                        .transferEncodingNotChunked, status: 400)
    }

    @Test func rejectsMalformedTransferCoding() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"x\", chunked\r\n\r\n",
                        .transferEncodingNotChunked, status: 400)
    }

    @Test(arguments: ["gzip, chunked", "deflate, chunked", "x-custom;p=1, chunked"])
    func answers501ForCodingOtherThanChunked(value: String) {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n", .unsupportedTransferCoding, status: 501)
    }

    @Test func answers501ForOtherCodingInASeparateField() {
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                        .unsupportedTransferCoding, status: 501)
    }

    @Test func rejectsTransferEncodingOnHTTP10() {
        F.expectFailure("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingInHTTP10, status: 400)
    }

    @Test func rejectsContentLengthOverBodyLimitFromTheHead() {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1000
        F.expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", .bodyTooLarge, status: 413, limits: limits)
    }
}
