import Testing
@testable import HTTPServer

/// The chunked-body decoder (RFC 9112 §7.1): results, strictness, limits, resumability.
@Suite(.timeLimit(.minutes(10))) struct ParserChunkedTests {
    typealias F = ParserFixture

    static let validBodies: [String] = [
        "5\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        "A;name=value\r\n0123456789\r\n0; last ; q=\"a \\\"quoted\\\" ;x\"\r\n\r\n",
        "3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum:  abc \r\n\r\n",
        "00000000000000F\r\n0123456789abcde\r\n000\r\n\r\n",
        "1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n",
    ]

    @Test func decodesChunksAndDiscardsTrailers() {
        let body = "4\r\nWiki\r\n7\r\npedia i\r\nB\r\nn \r\nchunks.\r\n0\r\nX-Trailer: yes\r\n\r\n"
        let (result, decoded) = F.decodeChunked(body)
        #expect(result == .complete(consumed: body.utf8.count))
        #expect(decoded == Array("Wikipedia in \r\nchunks.".utf8))
    }

    @Test func acceptsChunkExtensionsAndIgnoresThem() {
        let (result, decoded) = F.decodeChunked(Self.validBodies[2])
        #expect(result == .complete(consumed: Self.validBodies[2].utf8.count))
        #expect(decoded == Array("0123456789".utf8))
    }

    @Test func completeConsumedPointsAtTheNextRequest() {
        let body = "3\r\nabc\r\n0\r\n\r\n"
        let (result, decoded) = F.decodeChunked(body + "GET / HTTP/1.1\r\n")
        #expect(result == .complete(consumed: body.utf8.count))
        #expect(decoded == Array("abc".utf8))
    }

    @Test func incompleteBodyConsumesEverythingAndNeedsMore() {
        let (result, decoded) = F.decodeChunked("5\r\nhel")
        #expect(result == .needMore(consumed: 6))
        #expect(decoded == Array("hel".utf8))
    }

    @Test(arguments: validBodies)
    func decodingSplitAtEveryPositionEqualsWhole(body: String) {
        let input = F.bytes(body)
        let whole = F.decodeChunked(input)
        #expect(whole.0 == .complete(consumed: input.count))
        for cut in 0...input.count {
            let split = F.decodeChunked(input, cuts: [cut])
            #expect(split.0 == whole.0, "cut at \(cut)")
            #expect(split.1 == whole.1, "cut at \(cut)")
        }
        let byteAtATime = F.decodeChunked(input, cuts: Array(0...input.count))
        #expect(byteAtATime.0 == whole.0)
        #expect(byteAtATime.1 == whole.1)
    }

    @Test func finishedDecoderStaysComplete() {
        var decoder = ChunkedBodyDecoder(maxBodyBytes: 100)
        var body: [UInt8] = []
        #expect(F.bytes("0\r\n\r\n").withUnsafeBytes { decoder.decode($0, into: &body) } == .complete(consumed: 5))
        #expect(decoder.isComplete)
        #expect(F.bytes("1\r\n").withUnsafeBytes { decoder.decode($0, into: &body) } == .complete(consumed: 0))
    }

    @Test func failureIsSticky() {
        var decoder = ChunkedBodyDecoder(maxBodyBytes: 100)
        var body: [UInt8] = []
        #expect(F.bytes("z").withUnsafeBytes { decoder.decode($0, into: &body) } == .failure(.malformedChunk))
        #expect(F.bytes("0\r\n\r\n").withUnsafeBytes { decoder.decode($0, into: &body) } == .failure(.malformedChunk))
    }

    // MARK: Sizes and limits

    @Test func acceptsSixteenHexDigitSize() {
        let (result, decoded) = F.decodeChunked("0000000000000001\r\nx\r\n0\r\n\r\n")
        #expect(result == .complete(consumed: 26))
        #expect(decoded == [UInt8(ascii: "x")])
    }

    @Test func rejectsSizeOfSeventeenHexDigits() {
        #expect(F.decodeChunked("00000000000000001\r\nx\r\n0\r\n\r\n").0 == .failure(.chunkSizeTooLarge))
    }

    @Test func rejectsSizeThatOverflowsSixtyFourBits() {
        #expect(F.decodeChunked("ffffffffffffffff\r\n", maxBodyBytes: .max).0 == .failure(.chunkSizeTooLarge))
    }

    @Test func rejectsSizeOverTheBodyLimitBeforeTheData() {
        #expect(F.decodeChunked("7fffffffffffffff\r\n", maxBodyBytes: .max - 1).0 == .failure(.bodyTooLarge))
        #expect(F.decodeChunked("65\r\n", maxBodyBytes: 100).0 == .failure(.bodyTooLarge))
    }

    @Test func acceptsBodyOfExactlyTheLimitAcrossChunks() {
        let body = "32\r\n" + String(repeating: "a", count: 50) + "\r\n32\r\n" + String(repeating: "b", count: 50) + "\r\n0\r\n\r\n"
        let (result, decoded) = F.decodeChunked(body, maxBodyBytes: 100)
        #expect(result == .complete(consumed: body.utf8.count))
        #expect(decoded.count == 100)
    }

    @Test func answers413ForCumulativeBodyOneOverTheLimit() {
        let body = "32\r\n" + String(repeating: "a", count: 50) + "\r\n33\r\n" + String(repeating: "b", count: 51) + "\r\n0\r\n\r\n"
        let (result, decoded) = F.decodeChunked(body, maxBodyBytes: 100)
        #expect(result == .failure(.bodyTooLarge))
        #expect(result.failureStatus == 413)
        #expect(decoded.count == 50)
    }

    @Test func answers413ForEndlessChunkExtension() {
        let body = "1;" + String(repeating: "e", count: 200)
        var decoder = ChunkedBodyDecoder(maxBodyBytes: 100, maxMetadataBytes: 100)
        var decoded: [UInt8] = []
        let result = F.bytes(body).withUnsafeBytes { decoder.decode($0, into: &decoded) }
        #expect(result == .failure(.chunkMetadataTooLarge))
        #expect(result.failureStatus == 413)
    }

    @Test func answers413ForEndlessTrailerSection() {
        let body = "0\r\n" + String(repeating: "X: y\r\n", count: 100)
        var decoder = ChunkedBodyDecoder(maxBodyBytes: 100, maxMetadataBytes: 100)
        var decoded: [UInt8] = []
        #expect(F.bytes(body).withUnsafeBytes { decoder.decode($0, into: &decoded) } == .failure(.chunkMetadataTooLarge))
    }

    // MARK: Chunk framing strictness

    @Test(arguments: [
        ("5\r\nhelloX\r\n0\r\n\r\n", "data longer than its size"),
        ("5\r\nhello\n0\r\n\r\n", "bare LF after data"),
        ("5\r\nhello0\r\n\r\n", "no CRLF after data"),
        ("5\nhello\r\n0\r\n\r\n", "bare LF after size"),
        ("\r\nhello\r\n0\r\n\r\n", "empty size"),
        ("g\r\n", "non-hex size"),
        ("-1\r\n", "signed size"),
        ("0x5\r\nhello\r\n", "0x prefix"),
        ("5 \r\nhello\r\n0\r\n\r\n", "whitespace after size without extension"),
        (" 5\r\nhello\r\n0\r\n\r\n", "whitespace before size"),
        ("5\rX\nhello\r\n", "CR without LF after size"),
    ])
    func rejectsMalformedChunkFraming(body: String, why: String) {
        #expect(F.decodeChunked(body).0 == .failure(.malformedChunk), "\(why)")
    }

    @Test(arguments: [
        "5;\r\nhello\r\n0\r\n\r\n",
        "5;=v\r\nhello\r\n0\r\n\r\n",
        "5;a=\r\nhello\r\n0\r\n\r\n",
        "5;a b\r\nhello\r\n0\r\n\r\n",
        "5;a=\"open\r\nhello\r\n0\r\n\r\n",
        "5;a=b c\r\nhello\r\n0\r\n\r\n",
        "5;a=\"q\"x\r\nhello\r\n0\r\n\r\n",
        "5;a \r\nhello\r\n0\r\n\r\n",
        "5;a@b\r\nhello\r\n0\r\n\r\n",
        "5;a=\"\u{0}\"\r\nhello\r\n0\r\n\r\n",
    ])
    func rejectsMalformedChunkExtension(body: String) {
        #expect(F.decodeChunked(body).0 == .failure(.malformedChunk))
    }

    @Test(arguments: [
        "5;a\r\nhello\r\n0\r\n\r\n",
        "5 ; a = b\r\nhello\r\n0\r\n\r\n",
        "5;a;b=c;d=\"\"\r\nhello\r\n0\r\n\r\n",
        "5;a=\"x\\\"y\" ;b\r\nhello\r\n0\r\n\r\n",
    ])
    func acceptsWellFormedChunkExtension(body: String) {
        let (result, decoded) = F.decodeChunked(body)
        #expect(result == .complete(consumed: body.utf8.count))
        #expect(decoded == Array("hello".utf8))
    }

    // MARK: Trailer fields follow the header-field rules

    @Test func rejectsWhitespaceBeforeTheFirstTrailerField() {
        #expect(F.decodeChunked("0\r\n X: y\r\n\r\n").0 == .failure(.malformedHeader))
    }

    @Test(arguments: [
        ("X : y\r\n\r\n", HTTPParseError.whitespaceBeforeColon),
        ("X: y\r\n z\r\n\r\n", .obsoleteLineFolding),
        ("X: y\r\n\tz\r\n\r\n", .obsoleteLineFolding),
        ("X: a\u{0}b\r\n\r\n", .invalidCharacterInField),
        ("X(Y: b\r\n\r\n", .invalidCharacterInField),
        (": b\r\n\r\n", .malformedHeader),
        ("NoColon\r\n\r\n", .malformedHeader),
        ("X: y\n\r\n", .malformedHeader),
        ("X: y\r\n\n", .malformedHeader),
        ("X: a\rb\r\n\r\n", .invalidCharacterInField),
        ("X: a\u{7f}\r\n\r\n", .invalidCharacterInField),
    ])
    func rejectsMalformedTrailerFieldLikeTheSameHeaderField(fields: String, error: HTTPParseError) {
        #expect(F.decodeChunked("0\r\nHost: a\r\n" + fields).0 == .failure(error))
        // The head parser gives the same answer for the same field lines.
        F.expectFailure("GET / HTTP/1.1\r\nHost: a\r\n" + fields, error, status: 400)
    }
}

extension ChunkedDecodeResult {
    var failureStatus: Int? {
        if case .failure(let error) = self { return error.status.code }
        return nil
    }
}
