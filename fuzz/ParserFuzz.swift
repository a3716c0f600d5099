// libFuzzer entry point for the HTTP/1.1 request parser and the chunked-body decoder.
// Built by fuzz/run.sh together with Sources/HTTPServer/Parsing/*.swift and HTTPTypes.swift
// as one module, so it reaches the parser directly (no `import HTTPServer`).
//
// Invariants checked on every input (a violation traps, which libFuzzer reports as a crash):
// - parseHead never crashes; `consumed` is in 1...count;
// - a prefix of the input parses to `.needMore` or to exactly the whole input's result
//   (decisions are final once taken, so prefix-then-whole equals whole);
// - a parse resumed (HeadScanProgress) after the input's first `split` bytes gives exactly
//   the fresh parse of the whole input;
// - a complete head never carries a Content-Length above maxBodyBytes;
// - its headers, read where they arrived, answer every lookup (each field's name, in another
//   case too, and a name no field has) as the same fields held as a list answer it;
// - for chunked framing, decoding the rest split at an arbitrary point, or one byte at a
//   time, gives the same result and the same body as decoding it whole, and the body never
//   exceeds maxBodyBytes.

/// Small limits so that the fuzzer reaches every limit check with short inputs.
private let tightLimits: HTTPLimits = {
    var limits = HTTPLimits()
    limits.maxRequestLineBytes = 64
    limits.maxHeaderBytes = 256
    limits.maxHeaderCount = 6
    limits.maxBodyBytes = 100
    return limits
}()

private let defaultLimits = HTTPLimits()

/// Traps with the message kept (-O drops `precondition` messages; fatalError keeps them),
/// so a crash report says which invariant broke.
private func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("parser invariant broken: \(message())") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func parserFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // A split point that depends on the data, so the fuzzer can steer it.
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in input { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    let split = size == 0 ? 0 : Int(hash % UInt64(size + 1))
    check(input, limits: defaultLimits, split: split)
    check(input, limits: tightLimits, split: split)
    return 0
}

private func check(_ input: UnsafeRawBufferPointer, limits: HTTPLimits, split: Int) {
    let whole = HTTPRequestParser.parseHead(input, limits: limits)
    for cut in [split, max(0, input.count - 1), input.count / 2] where cut <= input.count {
        let prefix = HTTPRequestParser.parseHead(UnsafeRawBufferPointer(rebasing: input[0..<cut]), limits: limits)
        if prefix != .needMore && prefix != whole {
            invariant(false, "prefix of \(cut) bytes gave \(prefix) but the whole input gave \(whole)")
        }
    }
    var progress = HeadScanProgress()
    let first = HTTPRequestParser.parseHead(UnsafeRawBufferPointer(rebasing: input[0..<split]), limits: limits, progress: &progress)
    if first == .needMore {
        let resumed = HTTPRequestParser.parseHead(input, limits: limits, progress: &progress)
        invariant(resumed == whole, "resumed after \(split) bytes gave \(resumed) but a fresh parse gave \(whole)")
    }
    guard case .complete(let head, let consumed) = whole else { return }
    invariant(consumed > 0 && consumed <= input.count, "consumed \(consumed) outside 1...\(input.count)")
    checkLookups(head.headers)
    switch head.framing {
    case .none:
        break
    case .contentLength(let length):
        invariant(length >= 0 && length <= limits.maxBodyBytes, "Content-Length \(length) passed the limit")
    case .chunked:
        checkChunked(UnsafeRawBufferPointer(rebasing: input[consumed...]), limits: limits, split: split)
    }
}

private func checkChunked(_ rest: UnsafeRawBufferPointer, limits: HTTPLimits, split: Int) {
    var wholeDecoder = ChunkedBodyDecoder(maxBodyBytes: limits.maxBodyBytes, maxMetadataBytes: 200)
    var wholeBody: [UInt8] = []
    let wholeResult = wholeDecoder.decode(rest, into: &wholeBody)
    invariant(wholeBody.count <= limits.maxBodyBytes, "decoded body passed maxBodyBytes")
    switch wholeResult {
    case .needMore(let consumed): invariant(consumed == rest.count, "needMore must consume everything")
    case .complete(let consumed): invariant(consumed > 0 && consumed <= rest.count, "complete consumed out of range")
    case .failure: break
    }

    // Split in two at an arbitrary point.
    let cut = rest.count == 0 ? 0 : split % (rest.count + 1)
    var splitDecoder = ChunkedBodyDecoder(maxBodyBytes: limits.maxBodyBytes, maxMetadataBytes: 200)
    var splitBody: [UInt8] = []
    var splitResult = splitDecoder.decode(UnsafeRawBufferPointer(rebasing: rest[0..<cut]), into: &splitBody)
    if case .needMore(let first) = splitResult {
        invariant(first == cut, "needMore must consume everything")
        switch splitDecoder.decode(UnsafeRawBufferPointer(rebasing: rest[cut...]), into: &splitBody) {
        case .needMore(let second): splitResult = .needMore(consumed: first + second)
        case .complete(let second): splitResult = .complete(consumed: first + second)
        case .failure(let error): splitResult = .failure(error)
        }
    }
    invariant(splitResult == wholeResult, "split at \(cut): \(splitResult) vs whole \(wholeResult)")
    invariant(splitBody == wholeBody, "split at \(cut) decoded a different body")

    // One byte at a time.
    var byteDecoder = ChunkedBodyDecoder(maxBodyBytes: limits.maxBodyBytes, maxMetadataBytes: 200)
    var byteBody: [UInt8] = []
    var byteResult = ChunkedDecodeResult.needMore(consumed: 0)
    for index in 0..<rest.count {
        switch byteDecoder.decode(UnsafeRawBufferPointer(rebasing: rest[index..<(index + 1)]), into: &byteBody) {
        case .needMore: byteResult = .needMore(consumed: index + 1)
        case .complete: byteResult = .complete(consumed: index + 1)
        case .failure(let error): byteResult = .failure(error)
        }
        if case .needMore = byteResult { continue }
        break
    }
    invariant(byteResult == wholeResult, "byte-at-a-time gave \(byteResult) vs whole \(wholeResult)")
    invariant(byteBody == wholeBody, "byte-at-a-time decoded a different body")
}

private func checkLookups(_ received: HTTPHeaders) {
    let fields = received.fields
    let list = HTTPHeaders(fields)
    invariant(received.count == fields.count, "count \(received.count) for \(fields.count) fields")
    for name in fields.map(\.name) + fields.map { $0.name.uppercased() } + ["X-Not-Sent"] {
        invariant(received[name] == list[name], "\(name): \(String(describing: received[name])) against \(String(describing: list[name]))")
        invariant(received.values(name) == list.values(name), "values of \(name)")
        let firstBytes = received.firstValue(name) { bytes in list[name].map { Array($0.utf8) == Array(bytes) } ?? false }
        // Bytes that are not UTF-8 become U+FFFD in the string: equal bytes only when valid.
        // (Scalars, not characters: a combining mark after it joins U+FFFD's character.)
        if let firstBytes, !firstBytes {
            invariant(list[name].map { $0.unicodeScalars.contains("\u{FFFD}") } == true, "first bytes of \(name)")
        }
        invariant((firstBytes == nil) == (list[name] == nil), "presence of \(name)")
    }
}
