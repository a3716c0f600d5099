// libFuzzer entry point for the JSON parser and writer that every predict and admin body
// goes through. Built by fuzz/run.sh together with Sources/JSON/*.swift as one module.
//
// Invariants checked on every input (a violation traps, which libFuzzer reports as a crash):
// - parse never crashes, at any nesting the input reaches (depth is bounded, not recursed);
// - an error's offset lies within the input;
// - a parsed value written back and parsed again is the same value, and writing that gives
//   the same bytes (the writer emits only what the parser accepts, losslessly);
// - with a depth limit of 2, anything nested deeper is refused.

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
    return 0
}
