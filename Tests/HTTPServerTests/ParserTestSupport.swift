import Testing
@testable import HTTPServer

/// Helpers for the parser tests: raw request text in, parser result out.
enum ParserFixture {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func parse(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> HeadParseResult {
        HTTPRequestParser.parseHead(bytes[...], limits: limits)
    }

    static func parse(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HeadParseResult {
        parse(bytes(text), limits: limits)
    }

    /// The head of a request that must parse, with `consumed` checked against `expectedConsumed`
    /// (default: the whole input).
    static func head(
        _ text: String, limits: HTTPLimits = HTTPLimits(), consumed expectedConsumed: Int? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> HTTPRequestHead? {
        let input = bytes(text)
        guard case .complete(let head, let consumed) = parse(input, limits: limits) else {
            Issue.record("expected a complete head, got \(parse(input, limits: limits))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(consumed == (expectedConsumed ?? input.count), sourceLocation: sourceLocation)
        expectResumedParseAgrees(input, limits: limits, sourceLocation: sourceLocation)
        return head
    }

    /// Feeds `input` one byte at a time to one resumed parse (`HeadScanProgress`): until the
    /// fresh parse of the whole input decides, every step must be `.needMore` or that same
    /// decision, and the step that decides must equal the fresh parse of the same prefix.
    static func expectResumedParseAgrees(
        _ input: [UInt8], limits: HTTPLimits, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var progress = HeadScanProgress()
        for end in 0...input.count {
            let resumed = HTTPRequestParser.parseHead(input[0..<end], limits: limits, progress: &progress)
            let fresh = HTTPRequestParser.parseHead(input[0..<end], limits: limits)
            if resumed != fresh {
                Issue.record("resumed parse of \(end) bytes gave \(resumed), a fresh one \(fresh)", sourceLocation: sourceLocation)
                return
            }
            if resumed != .needMore { return }
        }
    }

    /// Asserts `bytes` fail with `error` (and its `status`), and that no prefix fails
    /// differently: every prefix is `.needMore` or the same failure.
    static func expectFailure(
        _ input: [UInt8], _ error: HTTPParseError, status: Int, limits: HTTPLimits = HTTPLimits(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let result = parse(input, limits: limits)
        #expect(result == .failure(error), sourceLocation: sourceLocation)
        #expect(error.status.code == status, sourceLocation: sourceLocation)
        for cut in 0..<input.count {
            let prefix = HTTPRequestParser.parseHead(input[0..<cut], limits: limits)
            if prefix != .needMore && prefix != result {
                Issue.record("prefix of \(cut) bytes gave \(prefix)", sourceLocation: sourceLocation)
                return
            }
        }
        expectResumedParseAgrees(input, limits: limits, sourceLocation: sourceLocation)
    }

    static func expectFailure(
        _ text: String, _ error: HTTPParseError, status: Int, limits: HTTPLimits = HTTPLimits(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        expectFailure(bytes(text), error, status: status, limits: limits, sourceLocation: sourceLocation)
    }

    /// Decodes `body` whole with a fresh decoder.
    static func decodeChunked(
        _ body: [UInt8], maxBodyBytes: Int = 1 << 20, maxMetadataBytes: Int = 16 * 1024
    ) -> (ChunkedDecodeResult, [UInt8]) {
        var decoder = ChunkedBodyDecoder(maxBodyBytes: maxBodyBytes, maxMetadataBytes: maxMetadataBytes)
        var decoded: [UInt8] = []
        let result = body.withUnsafeBytes { decoder.decode($0, into: &decoded) }
        return (result, decoded)
    }

    static func decodeChunked(_ text: String, maxBodyBytes: Int = 1 << 20) -> (ChunkedDecodeResult, [UInt8]) {
        decodeChunked(bytes(text), maxBodyBytes: maxBodyBytes)
    }

    /// Decodes `body` in pieces cut at `cuts`, summing consumed counts into one result as if whole.
    static func decodeChunked(_ body: [UInt8], cuts: [Int], maxBodyBytes: Int = 1 << 20) -> (ChunkedDecodeResult, [UInt8]) {
        var decoder = ChunkedBodyDecoder(maxBodyBytes: maxBodyBytes)
        var decoded: [UInt8] = []
        var start = 0
        for end in cuts + [body.count] where end >= start {
            let result = body[start..<end].withUnsafeBytes { decoder.decode($0, into: &decoded) }
            switch result {
            case .needMore(let consumed):
                #expect(consumed == end - start)
                start = end
            case .complete(let consumed):
                return (.complete(consumed: start + consumed), decoded)
            case .failure:
                return (result, decoded)
            }
        }
        return (.needMore(consumed: start), decoded)
    }
}
