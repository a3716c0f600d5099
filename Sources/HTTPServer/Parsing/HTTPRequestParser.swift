import Glibc

/// The outcome of parsing one request head from the start of a buffer.
public enum HeadParseResult: Sendable, Equatable {
    /// A whole head; `consumed` counts every byte up to and including the blank line that
    /// ends it (and any empty lines before the request line). The body, or the next
    /// pipelined request, starts at `consumed`.
    case complete(HTTPRequestHead, consumed: Int)
    /// The bytes so far are a valid prefix of a head; call again with more (the same bytes
    /// plus what arrived). Never returned once a limit is already exceeded.
    case needMore
    /// The bytes can never become a valid head; answer `error.status` and close.
    case failure(HTTPParseError)
}

/// A pure, incremental HTTP/1.1 request-head parser (RFC 9112), in the manner of
/// picohttpparser: bytes in, a value or an error out, no I/O.
///
/// Callers keep the unconsumed bytes and call again when more arrive. Every decision is taken
/// at the first byte that settles it, scanning left to right, so a result other than
/// `.needMore` never changes when more bytes are appended — a property the tests and the
/// fuzzer check. With a `HeadScanProgress` the next call resumes after the last complete line
/// instead of starting over, so a client sending its head a line (or a byte) at a time costs
/// time linear in what it sends.
public enum HTTPRequestParser {
    /// Parses one request head from the start of `bytes` (leading empty lines allowed per
    /// RFC 9112 §2.2, counted in consumed).
    public static func parseHead(_ bytes: UnsafeRawBufferPointer, limits: HTTPLimits) -> HeadParseResult {
        var progress = HeadScanProgress()
        return parseHead(bytes, limits: limits, progress: &progress)
    }

    /// Parses one request head, resuming where an earlier call on a prefix of the same bytes
    /// stopped with `.needMore`. Pass a fresh `HeadScanProgress` for a new head (and after
    /// anything but `.needMore`); the result equals a fresh parse of the same bytes.
    public static func parseHead(
        _ bytes: UnsafeRawBufferPointer, limits: HTTPLimits, progress: inout HeadScanProgress
    ) -> HeadParseResult {
        let scanner = HeadScanner(bytes: bytes, limits: limits)
        do {
            let (head, consumed) = try scanner.scan(resuming: &progress)
            return .complete(head, consumed: consumed)
        } catch {
            switch error {
            case .needMore: return .needMore
            case .failure(let parseError): return .failure(parseError)
            }
        }
    }

    /// Convenience over an array slice; `consumed` is relative to the slice's start.
    public static func parseHead(_ bytes: ArraySlice<UInt8>, limits: HTTPLimits) -> HeadParseResult {
        bytes.withUnsafeBytes { parseHead($0, limits: limits) }
    }

    /// Convenience over an array slice, resuming; `consumed` is relative to the slice's start.
    public static func parseHead(
        _ bytes: ArraySlice<UInt8>, limits: HTTPLimits, progress: inout HeadScanProgress
    ) -> HeadParseResult {
        bytes.withUnsafeBytes { parseHead($0, limits: limits, progress: &progress) }
    }
}

/// What a scan that stopped for more bytes had settled: every line before `resumeAt` is
/// complete and checked, and its facts are kept. Byte offsets refer to the buffer's start,
/// so it is valid only for the same bytes with more appended. A fresh value starts a head.
public struct HeadScanProgress: Sendable {
    /// Where the first line not yet complete starts.
    var resumeAt = 0
    /// The request line, once complete.
    var requestLine: HeadScanner.RequestLine?
    /// Field lines completed so far, as byte ranges.
    var fields: [(name: Range<Int>, value: Range<Int>)] = []
    var facts = FramingFacts()
    /// An empty buffer the head's fields are copied into when it has room for them (its
    /// connection's reused ones, `RequestStorage`), taken by the head that completes.
    public var fieldStorage: [UInt8] = []

    public init() {}

    /// A fresh start for the next head, keeping the field list's room: a connection's heads
    /// are alike, and a new list was allocated and freed for each of them.
    public mutating func reset() {
        resumeAt = 0
        requestLine = nil
        fields.removeAll(keepingCapacity: true)
        facts = FramingFacts()
    }
}

/// Why a scan stopped early. Internal: callers see `HeadParseResult`.
enum ScanStop: Error, Equatable {
    case needMore
    case failure(HTTPParseError)
}

/// One left-to-right pass over a request head. Lives only for one `parseHead` call.
struct HeadScanner {
    let bytes: UnsafeRawBufferPointer
    let limits: HTTPLimits

    /// Bytes before this index can be read without a partial-or-error decision; the fast
    /// loops run up to it and leave the byte that stops them to `byte(at:)`, so results
    /// are the same as stepping every byte through `byte(at:)`.
    let scanEnd: Int

    init(bytes: UnsafeRawBufferPointer, limits: HTTPLimits) {
        self.bytes = bytes
        self.limits = limits
        self.scanEnd = min(bytes.count, max(0, limits.maxHeaderBytes))
    }

    /// The one place that decides "partial or error": the byte at `index`, or why there is
    /// none. A byte at or past `maxHeaderBytes` can only belong to a head that is too large,
    /// so that is answered 431 whether or not the byte has arrived (RFC 9112 §2.3 leaves the
    /// limit to the server; RFC 6585 §5 names the status).
    @inline(__always)
    func byte(at index: Int) throws(ScanStop) -> UInt8 {
        if index >= limits.maxHeaderBytes { throw .failure(.headersTooLarge) }
        if index >= bytes.count { throw .needMore }
        return bytes[index]
    }

    /// A byte of the request line starting at `lineStart`. Only the CR that ends the line
    /// may sit at offset `maxRequestLineBytes`; any other byte there means the line is too
    /// long (414, RFC 9112 §3), decided even before the line's end has arrived.
    @inline(__always)
    func requestLineByte(at index: Int, lineStart: Int) throws(ScanStop) -> UInt8 {
        let value = try byte(at: index)
        if index - lineStart >= limits.maxRequestLineBytes && value != ByteClass.cr {
            throw .failure(.requestLineTooLong)
        }
        return value
    }

    /// Scans from `progress.resumeAt` (0 for a fresh progress), recording each complete line
    /// in `progress` before going on, so a `.needMore` leaves it ready to resume.
    func scan(resuming progress: inout HeadScanProgress) throws(ScanStop) -> (HTTPRequestHead, Int) {
        var index = progress.resumeAt
        let requestLine: RequestLine
        if let scanned = progress.requestLine {
            requestLine = scanned
        } else {
            // RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) received
            // before the request-line. They count toward maxHeaderBytes, so an endless stream
            // of them ends in 431. A bare LF is not an empty line here: CRLF only.
            while true {
                let first = try byte(at: index)
                if first == ByteClass.lf { throw .failure(.malformedRequestLine) }
                if first != ByteClass.cr { break }
                guard try byte(at: index + 1) == ByteClass.lf else { throw .failure(.malformedRequestLine) }
                index += 2
                progress.resumeAt = index
            }
            requestLine = try scanRequestLine(from: &index)
            progress.requestLine = requestLine
            progress.resumeAt = index
        }
        try scanFields(from: &index, progress: &progress)
        let decision = try HeadSemantics.decide(
            facts: progress.facts, version: requestLine.version, bytes: bytes, limits: limits)
        // The field lines, from the first one's name to the end of the blank line.
        let lines = (progress.fields.first?.name.lowerBound ?? index)..<index
        let fields = ReceivedFields(progress.fields, in: bytes, lines: lines, reusing: &progress.fieldStorage)

        let target = bytes.string(requestLine.target)
        let head = HTTPRequestHead(
            method: bytes.string(requestLine.method, common: CommonStrings.methods),
            target: target,
            // A target without a query is its path: the same string, not made twice.
            path: requestLine.path.map { $0 == requestLine.target ? target : bytes.string($0) } ?? "/",
            query: requestLine.query.map { bytes.string($0) },
            version: requestLine.version,
            headers: HTTPHeaders(received: fields),
            framing: decision.framing,
            keepAlive: decision.keepAlive,
            expectsContinue: decision.expectsContinue
        )
        return (head, index)
    }

    /// Fields whose values are credentials: made afresh for each request, never kept among
    /// the thread's recent strings, so a token is not held past its request's lifetime.
    static func isCredential(_ name: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Bool {
        switch name.count {
        case 6: bytes.equalsIgnoringCase(name, "cookie")
        case 9: bytes.equalsIgnoringCase(name, "x-api-key")
        case 13: bytes.equalsIgnoringCase(name, "authorization")
        case 19: bytes.equalsIgnoringCase(name, "proxy-authorization")
        default: false
        }
    }

    /// Byte ranges of the request line's parts; `path == nil` means "/" (absolute-form
    /// target without a path).
    struct RequestLine: Sendable {
        var method: Range<Int>
        var target: Range<Int>
        var path: Range<Int>?
        var query: Range<Int>?
        var version: HTTPVersion
    }

    /// `request-line = method SP request-target SP HTTP-version CRLF` (RFC 9112 §3).
    /// Single SPs only: RFC 9112 §3 allows lenient whitespace parsing but we take none.
    func scanRequestLine(from index: inout Int) throws(ScanStop) -> RequestLine {
        let lineStart = index

        // method = token (RFC 9110 §9.1)
        // Fast loops (here and below) only skip bytes the checked step would accept; the
        // byte that stops them gets the partial-or-error decision.
        let lineScanEnd = min(scanEnd, lineStart &+ max(0, limits.maxRequestLineBytes))
        while index < lineScanEnd && ByteClass.isTokenChar(bytes[index]) { index += 1 }
        while ByteClass.isTokenChar(try requestLineByte(at: index, lineStart: lineStart)) { index += 1 }
        guard index > lineStart, bytes[index] == ByteClass.sp else { throw .failure(.malformedRequestLine) }
        let method = lineStart..<index
        index += 1

        // request-target: visible ASCII only, no spaces or controls (RFC 9112 §3.2).
        let targetStart = index
        while index < lineScanEnd && ByteClass.isVisibleASCII(bytes[index]) { index += 1 }
        while ByteClass.isVisibleASCII(try requestLineByte(at: index, lineStart: lineStart)) { index += 1 }
        guard index > targetStart, bytes[index] == ByteClass.sp else { throw .failure(.malformedRequestLine) }
        let target = targetStart..<index
        index += 1
        let (path, query) = try Self.splitTarget(target, method: method, bytes: bytes)

        // Nearly every request line ends "HTTP/1.1\r\n": compared in two loads when all ten
        // bytes lie within the line limit, which the checked steps below would accept alike.
        if index + 10 <= lineScanEnd,
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) == 0x312E_312F_5054_5448,  // "HTTP/1.1"
            UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index + 8, as: UInt16.self)) == 0x0A0D  // "\r\n"
        {
            index += 10
            return RequestLine(method: method, target: target, path: path, query: query, version: .http1_1)
        }

        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
        for expected in "HTTP/".utf8 {
            guard try requestLineByte(at: index, lineStart: lineStart) == expected else {
                throw .failure(.malformedRequestLine)
            }
            index += 1
        }
        let major = try requestLineByte(at: index, lineStart: lineStart)
        guard ByteClass.isDigit(major) else { throw .failure(.malformedRequestLine) }
        index += 1
        guard try requestLineByte(at: index, lineStart: lineStart) == UInt8(ascii: ".") else {
            throw .failure(.malformedRequestLine)
        }
        index += 1
        let minor = try requestLineByte(at: index, lineStart: lineStart)
        guard ByteClass.isDigit(minor) else { throw .failure(.malformedRequestLine) }
        index += 1

        // CRLF only; a bare LF (or anything else) after the version is malformed.
        guard try requestLineByte(at: index, lineStart: lineStart) == ByteClass.cr,
              try byte(at: index + 1) == ByteClass.lf
        else { throw .failure(.malformedRequestLine) }
        index += 2

        // Well-formed but not spoken: 505 (RFC 9110 §15.6.6).
        let version: HTTPVersion
        switch (major, minor) {
        case (UInt8(ascii: "1"), UInt8(ascii: "1")): version = .http1_1
        case (UInt8(ascii: "1"), UInt8(ascii: "0")): version = .http1_0
        default: throw .failure(.unsupportedVersion)
        }
        return RequestLine(method: method, target: target, path: path, query: query, version: version)
    }

    /// Splits a request-target into path and query (RFC 9112 §3.2):
    /// - origin-form `/p?q` → `/p`, `q`;
    /// - absolute-form `http://host/p?q` → `/p`, `q` (a missing path is `/`, returned as nil);
    /// - asterisk-form `*` only with OPTIONS → `*`;
    /// - authority-form (CONNECT) and anything else → 400: Vigia is not a proxy.
    static func splitTarget(
        _ target: Range<Int>, method: Range<Int>, bytes: UnsafeRawBufferPointer
    ) throws(ScanStop) -> (path: Range<Int>?, query: Range<Int>?) {
        let first = bytes[target.lowerBound]
        if first == UInt8(ascii: "*") {
            guard target.count == 1, UnsafeRawBufferPointer(rebasing: bytes[method]).elementsEqual("OPTIONS".utf8) else {
                throw .failure(.malformedRequestLine)
            }
            return (target, nil)
        }
        var pathStart: Int
        if first == UInt8(ascii: "/") {
            pathStart = target.lowerBound
        } else {
            let schemeEnd: Int
            if bytes.hasPrefixIgnoringCase(target, "http://") {
                schemeEnd = target.lowerBound + 7
            } else if bytes.hasPrefixIgnoringCase(target, "https://") {
                schemeEnd = target.lowerBound + 8
            } else {
                throw .failure(.malformedRequestLine)
            }
            // authority runs to the first "/" or "?" and must not be empty (RFC 3986 §3.2).
            pathStart = schemeEnd
            while pathStart < target.upperBound,
                  bytes[pathStart] != UInt8(ascii: "/"), bytes[pathStart] != UInt8(ascii: "?") {
                pathStart += 1
            }
            guard pathStart > schemeEnd else { throw .failure(.malformedRequestLine) }
        }
        // memchr: a target's bytes one at a time to its `?` had cost more than the rest of it.
        var queryMark = target.upperBound
        if pathStart < target.upperBound, let base = bytes.baseAddress,
           let mark = memchr(base + pathStart, Int32(UInt8(ascii: "?")), target.upperBound - pathStart)
        {
            queryMark = UnsafeRawPointer(mark) - base
        }
        let path: Range<Int>? = queryMark > pathStart ? pathStart..<queryMark : nil
        let query: Range<Int>? = queryMark < target.upperBound ? (queryMark + 1)..<target.upperBound : nil
        return (path, query)
    }

    /// `*( field-line CRLF ) CRLF` (RFC 9112 §5), ending just after the blank line; each
    /// complete line goes into `progress` (which `index` starts at).
    func scanFields(from index: inout Int, progress: inout HeadScanProgress) throws(ScanStop) {
        if progress.fields.isEmpty { progress.fields.reserveCapacity(12) }
        while true {
            let first = try byte(at: index)
            if first == ByteClass.cr {
                guard try byte(at: index + 1) == ByteClass.lf else { throw .failure(.malformedHeader) }
                index += 2
                return
            }
            if first == ByteClass.lf { throw .failure(.malformedHeader) }  // bare LF line ending
            if ByteClass.isWhitespace(first) {
                // RFC 9112 §2.2: whitespace before the first field line is rejected;
                // RFC 9112 §5.2: obs-fold is rejected with 400.
                throw .failure(progress.fields.isEmpty ? .malformedHeader : .obsoleteLineFolding)
            }
            if progress.fields.count >= limits.maxHeaderCount { throw .failure(.tooManyHeaders) }

            let line = try scanFieldLine(from: &index)
            progress.facts.note(name: line.name, value: line.value, in: bytes)
            progress.fields.append(line)
            progress.resumeAt = index
        }
    }

    /// One `field-line = field-name ":" OWS field-value OWS` and its CRLF (RFC 9112 §5),
    /// from its first byte (known not to be CR, LF, SP or HTAB) to just past the CRLF.
    /// The chunked decoder's trailer states apply the same rules with the same errors.
    func scanFieldLine(from index: inout Int) throws(ScanStop) -> (name: Range<Int>, value: Range<Int>) {
        let nameStart = index
        index = tokenEnd(from: index)
        var current = try byte(at: index)
        while ByteClass.isTokenChar(current) {
            index += 1
            current = try byte(at: index)
        }
        if current != ByteClass.colon {
            // RFC 9112 §5.1: no whitespace between field name and colon — 400.
            if ByteClass.isWhitespace(current) && index > nameStart { throw .failure(.whitespaceBeforeColon) }
            if current == ByteClass.cr || current == ByteClass.lf { throw .failure(.malformedHeader) }
            throw .failure(.invalidCharacterInField)
        }
        guard index > nameStart else { throw .failure(.malformedHeader) }
        let name = nameStart..<index
        index += 1

        // Leading OWS is not part of the value; trailing OWS is trimmed below.
        while ByteClass.isWhitespace(try byte(at: index)) { index += 1 }
        let valueStart = index
        while true {
            index = fieldValueEnd(from: index)
            let value = try byte(at: index)
            if value == ByteClass.cr { break }
            guard ByteClass.isFieldValueChar(value) else {
                // RFC 9110 §5.5: NUL, CR and LF in a value must be rejected; so are other CTLs.
                throw .failure(value == ByteClass.lf ? .malformedHeader : .invalidCharacterInField)
            }
            index += 1
        }
        var valueEnd = index
        while valueEnd > valueStart && ByteClass.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        // A CR not followed by LF is a CR inside the value.
        guard try byte(at: index + 1) == ByteClass.lf else { throw .failure(.invalidCharacterInField) }
        index += 2
        return (name, valueStart..<valueEnd)
    }

    /// Where the token characters from `start` end: eight bytes at a time while they are
    /// letters, digits or `-` (a field name's), then byte by byte.
    @inline(__always)
    func tokenEnd(from start: Int) -> Int {
        end(from: start, wordPasses: ByteClass.allNameChars, bytePasses: ByteClass.isTokenChar)
    }

    /// Where the plain field-value bytes from `start` end: eight bytes at a time while all
    /// eight are visible ASCII, SP or obs-text, then byte by byte (an HTAB is left to the
    /// checked step).
    @inline(__always)
    func fieldValueEnd(from start: Int) -> Int {
        end(from: start, wordPasses: ByteClass.allPlainFieldValueChars, bytePasses: ByteClass.isFieldValueChar)
    }

    /// A fast loop from `start` to the first byte that fails `bytePasses`, or about
    /// `scanEnd`: whole words while `wordPasses` (which passes only words whose every byte
    /// passes), then byte by byte. The byte it stops at is left to the checked step
    /// (`byte(at:)`). A local index: the caller's `inout` one was stored to memory on every byte.
    @inline(__always)
    private func end(from start: Int, wordPasses: (UInt64) -> Bool, bytePasses: (UInt8) -> Bool) -> Int {
        var index = start
        while index &+ 8 <= scanEnd, wordPasses(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
            index &+= 8
        }
        while index < scanEnd && bytePasses(bytes[index]) { index &+= 1 }
        return index
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func hasPrefixIgnoringCase(_ range: Range<Int>, _ lowercaseASCII: StaticString) -> Bool {
        let length = lowercaseASCII.utf8CodeUnitCount
        guard range.count >= length else { return false }
        return equalsIgnoringCase(range.lowerBound..<(range.lowerBound + length), lowercaseASCII)
    }
}
