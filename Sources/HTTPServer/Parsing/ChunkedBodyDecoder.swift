/// The outcome of feeding bytes to a `ChunkedBodyDecoder`.
public enum ChunkedDecodeResult: Sendable, Equatable {
    /// Every input byte was used (`consumed == input.count`); the body continues.
    case needMore(consumed: Int)
    /// The body ended (last chunk and trailer section read); bytes from `consumed` on
    /// belong to the next request on the connection.
    case complete(consumed: Int)
    /// The body is malformed or too large; answer `error.status` and close the connection,
    /// since the framing of what follows is unknown.
    case failure(HTTPParseError)
}

/// Resumable chunked-body decoder; its zero value is the start state.
///
/// Decodes `chunked-body` (RFC 9112 §7.1) one buffer at a time, in the manner of
/// picohttpparser's `phr_decode_chunked`, but copying data into the caller's body instead of
/// in place. Input may be split at any byte; each call picks up where the last one stopped,
/// so callers pass only new bytes. Strict: hex sizes of at most 16 digits, chunk extensions
/// syntax-checked then ignored, CRLF after every chunk's data, trailer fields checked with
/// the same rules as header fields then discarded (RFC 9112 §7.1.2 lets us drop them).
public struct ChunkedBodyDecoder: Sendable {
    /// Where in `chunked-body` the next byte belongs.
    enum State: Sendable {
        case sizeStart, size, awaitSemicolon
        case extensionNameStart, extensionName, extensionAfterName
        case extensionValueStart, extensionToken, extensionQuoted, extensionQuotedEscape, extensionQuotedEnd
        case sizeLF, data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLineLF, endLF
        case done, failed
    }

    /// Most chunk-size hex digits accepted, leading zeros included (picohttpparser's rule):
    /// 16 digits is every 64-bit size.
    public static let maxChunkSizeDigits = 16

    /// Decoded body bytes allowed across all chunks; more is 413 (`.bodyTooLarge`).
    public let maxBodyBytes: Int
    /// Bytes of chunk extensions and trailer section allowed in total, so an endless
    /// extension or trailer cannot hold a connection forever; more is 413
    /// (`.chunkMetadataTooLarge`). Default 16 KiB.
    public let maxMetadataBytes: Int

    private var state: State = .sizeStart
    private var chunkSize = 0
    private var sizeDigits = 0
    private var remainingInChunk = 0
    private var decodedBytes = 0
    private var metadataBytes = 0
    private var trailerFieldCount = 0
    /// Why the decoder stopped, once `state == .failed`; returned again on later calls.
    private var failedWith: HTTPParseError = .malformedChunk

    public init(maxBodyBytes: Int, maxMetadataBytes: Int = 16 * 1024) {
        self.maxBodyBytes = maxBodyBytes
        self.maxMetadataBytes = maxMetadataBytes
    }

    /// Whether the whole body has been decoded.
    public var isComplete: Bool { state == .done }

    /// Decodes `input`, appending chunk data to `body`. After `.complete` further calls
    /// return `.complete(consumed: 0)`; after `.failure` they return the same failure.
    public mutating func decode(_ input: UnsafeRawBufferPointer, into body: inout [UInt8]) -> ChunkedDecodeResult {
        if state == .done { return .complete(consumed: 0) }
        if state == .failed { return .failure(failedWith) }
        var index = 0
        while index < input.count {
            if state == .data {
                let take = min(remainingInChunk, input.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + take)]))
                index += take
                remainingInChunk -= take
                if remainingInChunk == 0 { state = .dataCR }
                continue
            }
            do {
                try step(input[index])
            } catch {
                state = .failed
                failedWith = error
                return .failure(error)
            }
            index += 1
            if state == .done { return .complete(consumed: index) }
        }
        return .needMore(consumed: index)
    }

    /// Advances the state machine by one framing byte (never a data byte).
    private mutating func step(_ byte: UInt8) throws(HTTPParseError) {
        switch state {
        case .sizeStart:
            guard let digit = ByteClass.hexValue(byte) else { throw .malformedChunk }
            chunkSize = 0
            sizeDigits = 0
            try addSizeDigit(digit)
            state = .size

        case .size:
            if let digit = ByteClass.hexValue(byte) {
                try addSizeDigit(digit)
            } else if byte == ByteClass.cr {
                state = .sizeLF
            } else {
                try countMetadata()
                // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
                switch byte {
                case UInt8(ascii: ";"): state = .extensionNameStart
                case ByteClass.sp, ByteClass.htab: state = .awaitSemicolon
                default: throw .malformedChunk
                }
            }

        case .awaitSemicolon:
            try countMetadata()
            if ByteClass.isWhitespace(byte) { return }
            guard byte == UInt8(ascii: ";") else { throw .malformedChunk }
            state = .extensionNameStart

        case .extensionNameStart:
            try countMetadata()
            if ByteClass.isWhitespace(byte) { return }
            guard ByteClass.isTokenChar(byte) else { throw .malformedChunk }
            state = .extensionName

        case .extensionName:
            if byte == ByteClass.cr { state = .sizeLF; return }
            try countMetadata()
            if ByteClass.isTokenChar(byte) { return }
            switch byte {
            case UInt8(ascii: "="): state = .extensionValueStart
            case UInt8(ascii: ";"): state = .extensionNameStart
            case ByteClass.sp, ByteClass.htab: state = .extensionAfterName
            default: throw .malformedChunk
            }

        case .extensionAfterName:
            try countMetadata()
            switch byte {
            case ByteClass.sp, ByteClass.htab: return
            case UInt8(ascii: "="): state = .extensionValueStart
            case UInt8(ascii: ";"): state = .extensionNameStart
            default: throw .malformedChunk
            }

        case .extensionValueStart:
            try countMetadata()
            if ByteClass.isWhitespace(byte) { return }
            if byte == UInt8(ascii: "\"") { state = .extensionQuoted; return }
            guard ByteClass.isTokenChar(byte) else { throw .malformedChunk }
            state = .extensionToken

        case .extensionToken:
            if byte == ByteClass.cr { state = .sizeLF; return }
            try countMetadata()
            if ByteClass.isTokenChar(byte) { return }
            switch byte {
            case UInt8(ascii: ";"): state = .extensionNameStart
            case ByteClass.sp, ByteClass.htab: state = .awaitSemicolon
            default: throw .malformedChunk
            }

        case .extensionQuoted:
            try countMetadata()
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
            switch byte {
            case UInt8(ascii: "\""): state = .extensionQuotedEnd
            case UInt8(ascii: "\\"): state = .extensionQuotedEscape
            case ByteClass.htab, 0x20...0x7E, 0x80...0xFF: return
            default: throw .malformedChunk
            }

        case .extensionQuotedEscape:
            try countMetadata()
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            guard byte == ByteClass.htab || (byte >= 0x20 && byte != 0x7F) else { throw .malformedChunk }
            state = .extensionQuoted

        case .extensionQuotedEnd:
            if byte == ByteClass.cr { state = .sizeLF; return }
            try countMetadata()
            switch byte {
            case UInt8(ascii: ";"): state = .extensionNameStart
            case ByteClass.sp, ByteClass.htab: state = .awaitSemicolon
            default: throw .malformedChunk
            }

        case .sizeLF:
            guard byte == ByteClass.lf else { throw .malformedChunk }
            if chunkSize == 0 {
                state = .trailerLineStart
            } else {
                remainingInChunk = chunkSize
                decodedBytes += chunkSize
                state = .data
            }

        case .data:
            preconditionFailure("data bytes are copied in bulk by decode")

        case .dataCR:
            // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
            guard byte == ByteClass.cr else { throw .malformedChunk }
            state = .dataLF

        case .dataLF:
            guard byte == ByteClass.lf else { throw .malformedChunk }
            state = .sizeStart

        // trailer-section = *( field-line CRLF ), then the final CRLF (RFC 9112 §7.1.2).
        // Same rules and errors as FieldLineScanner for header fields.
        case .trailerLineStart:
            if byte == ByteClass.cr { state = .endLF; return }
            try countMetadata()
            if byte == ByteClass.lf { throw .malformedHeader }
            if ByteClass.isWhitespace(byte) {
                throw trailerFieldCount == 0 ? .malformedHeader : .obsoleteLineFolding
            }
            if byte == ByteClass.colon { throw .malformedHeader }
            guard ByteClass.isTokenChar(byte) else { throw .invalidCharacterInField }
            state = .trailerName

        case .trailerName:
            try countMetadata()
            if ByteClass.isTokenChar(byte) { return }
            switch byte {
            case ByteClass.colon: state = .trailerValue
            case ByteClass.sp, ByteClass.htab: throw .whitespaceBeforeColon
            case ByteClass.cr, ByteClass.lf: throw .malformedHeader
            default: throw .invalidCharacterInField
            }

        case .trailerValue:
            try countMetadata()
            if byte == ByteClass.cr { state = .trailerLineLF; return }
            guard ByteClass.isFieldValueChar(byte) else {
                throw byte == ByteClass.lf ? .malformedHeader : .invalidCharacterInField
            }

        case .trailerLineLF:
            try countMetadata()
            guard byte == ByteClass.lf else { throw .invalidCharacterInField }
            trailerFieldCount += 1
            state = .trailerLineStart

        case .endLF:
            guard byte == ByteClass.lf else { throw .malformedHeader }
            state = .done

        case .done, .failed:
            preconditionFailure("decode returns before stepping a finished decoder")
        }
    }

    /// `chunk-size = 1*HEXDIG`: at most 16 digits, and the running total of chunk sizes
    /// may not pass `maxBodyBytes` (checked per digit: more digits only grow the size).
    private mutating func addSizeDigit(_ digit: UInt8) throws(HTTPParseError) {
        sizeDigits += 1
        if sizeDigits > Self.maxChunkSizeDigits { throw .chunkSizeTooLarge }
        let (times16, overflow) = chunkSize.multipliedReportingOverflow(by: 16)
        if overflow { throw .chunkSizeTooLarge }
        chunkSize = times16 | Int(digit)
        if chunkSize > maxBodyBytes - decodedBytes { throw .bodyTooLarge }
    }

    private mutating func countMetadata() throws(HTTPParseError) {
        metadataBytes += 1
        if metadataBytes > maxMetadataBytes { throw .chunkMetadataTooLarge }
    }
}
