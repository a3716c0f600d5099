// libFuzzer entry point for the JSON parser and writer that every predict and admin body
// goes through. Built by fuzz/run.sh together with Sources/JSON/*.swift as one module.
//
// Invariants checked on every input (a violation traps, which libFuzzer reports as a crash):
// - parse never crashes, at any nesting the input reaches (depth is bounded, not recursed);
// - an error's offset lies within the input;
// - a parsed value written back and parsed again is the same value, and writing that gives
//   the same bytes (the writer emits only what the parser accepts, losslessly);
// - with a depth limit of 2, anything nested deeper is refused;
// - a string read in place (`withParsedString`) has the bytes `parseString` gives, or the
//   same error.

private func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("json invariant broken: \(message())") }
}

private func depth(of value: JSONValue) -> Int {
    switch value {
    case .array(let elements): 1 + (elements.map(depth).max() ?? 0)
    case .object(let object): 1 + (object.members.map { depth(of: $0.value) }.max() ?? 0)
    default: 0
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func jsonFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let value = try JSONParser.parse(bytes)
        let written = JSONWriter.encode(value)
        let again: JSONValue
        do { again = try JSONParser.parse(written) } catch {
            fatalError("json invariant broken: the writer's output does not parse: \(error)")
        }
        invariant(again == value, "round trip changed the value")
        invariant(JSONWriter.encode(again) == written, "writing is not stable")
        if let shallow = try? JSONParser.parse(bytes, maxDepth: 2) {
            invariant(depth(of: shallow) <= 2, "maxDepth 2 accepted depth \(depth(of: shallow))")
        }
    } catch {
        invariant(error.offset >= 0 && error.offset <= size, "error offset \(error.offset) outside 0...\(size)")
    }
    if bytes.first == UInt8(ascii: "\"") { checkStringReadInPlace(bytes) }
    return 0
}

private func checkStringReadInPlace(_ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { buffer in
        var a = JSONParser(buffer: buffer, maxDepth: 8)
        var b = JSONParser(buffer: buffer, maxDepth: 8)
        let parsed = Result { () throws(JSONParseError) in try a.parseString() }
        let inPlace = Result { () throws(JSONParseError) in try b.withParsedString { Array($0) } }
        switch (parsed, inPlace) {
        case (.success(let string), .success(let utf8)):
            invariant(Array(string.utf8) == utf8 && a.index == b.index, "a string read in place differs")
        case (.failure(let x), .failure(let y)):
            invariant(x == y, "a string read in place fails differently: \(x) vs \(y)")
        default:
            fatalError("json invariant broken: one string reader accepts what the other refuses")
        }
    }
}
