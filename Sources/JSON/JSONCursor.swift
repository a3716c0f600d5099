/// Decoding without a tree: walk a document in place with the parser's cursor, matching
/// member names on their bytes. The V2 infer decoder is built on these; `@inlinable`, so
/// that each decoder's closures are called directly, as if the walk were written out in it.
extension JSONParser {
    /// Walks the object at the cursor, calling `member` with the index in `known` of each
    /// member's name (nil: another name) and the parser at its value (which `member` must
    /// consume). Names match as the tree parser's lookups compare them (`String` equality);
    /// duplicate names are refused as the parser refuses them. Inlined, so that `member` is
    /// called directly.
    /// `state` is handed to `member` (rather than captured by it), so that what it fills is
    /// never copied.
    @inlinable @inline(__always)
    public mutating func members<State>(
        depth: Int, known: KnownMembers, into state: inout State,
        _ member: (Int?, inout JSONParser, inout State) throws(JSONParseError) -> Void
    ) throws(JSONParseError) {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        guard consume(UInt8(ascii: "{")) else { throw error("expected '{'") }
        var seenKnown: UInt64 = 0
        var expected = 0  // the known name after the last one seen
        var others: [String] = []  // other names: scanned while few,
        var seen: Set<String> = []  // hashed past 8, so that many members stay linear
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return }
        while true {
            skipWhitespace()
            guard next == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
            let offset = index
            var key = knownMemberName(known, expecting: expected)
            if key == nil {
                // Escaped, not ASCII, or none of `known`: decoded and compared as a string.
                let name = try parseString()
                key = known.names.firstIndex(of: name)
                if key == nil {
                    let duplicate: Bool
                    if others.count < 8 {
                        duplicate = others.contains(name)
                        others.append(name)
                    } else {
                        if seen.isEmpty { seen = Set(others) }
                        duplicate = !seen.insert(name).inserted
                    }
                    if duplicate { throw JSONParseError(offset: offset, reason: "duplicate member name \"\(name)\"") }
                }
            }
            if let key {
                guard seenKnown & (1 << UInt64(key)) == 0 else {
                    throw JSONParseError(offset: offset, reason: "duplicate member name \"\(known.names[key])\"")
                }
                seenKnown |= 1 << UInt64(key)
                expected = key + 1
            }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw error("expected ':'") }
            skipWhitespace()
            try member(key, &self, &state)
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "}")) else { throw error(index < buffer.count ? "expected ',' or '}'" : "unexpected end of JSON") }
            return
        }
    }

    /// The index in `known` of the member name at the cursor (a `"`) when it is plain (ASCII,
    /// no escapes) and one of them, the cursor then past its closing quote; nil, the cursor
    /// unmoved, otherwise. For plain ASCII, equal bytes and equal strings are the same thing.
    @inlinable @inline(__always)
    public mutating func knownMemberName(_ known: KnownMembers, expecting expected: Int = 0) -> Int? {
        let start = index
        // The expected name, or the one after it (an optional member left out), compared in
        // place: a word or two instead of the byte scan.
        if let end = known.quotedName(expected, in: buffer, at: start) {
            index = end
            return expected
        }
        if let end = known.quotedName(expected + 1, in: buffer, at: start) {
            index = end
            return expected + 1
        }
        guard let plain = plainString(), let key = known.index(of: plain, expecting: expected) else {
            index = start
            return nil
        }
        return key
    }

    /// The string at the cursor when it is plain ASCII without escapes: its bytes (the cursor
    /// then past its closing quote); nil, the cursor unmoved, for anything else, which
    /// `parseString` then decodes or refuses with its own message.
    @inlinable @inline(__always)
    public mutating func plainString() -> UnsafeBufferPointer<UInt8>? {
        guard next == UInt8(ascii: "\"") else { return nil }
        var end = index + 1
        while end < buffer.count {
            let byte = buffer[end]
            if byte == UInt8(ascii: "\"") {
                let plain = UnsafeBufferPointer(rebasing: buffer[(index + 1)..<end])
                index = end + 1
                return plain
            }
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
            end += 1
        }
        return nil
    }

    /// Walks the array at the cursor, calling `element` with the parser at each element.
    @inlinable @inline(__always)
    public mutating func elements(depth: Int, _ element: (inout JSONParser) throws(JSONParseError) -> Void) throws(JSONParseError) {
        var none: Void = ()
        try elements(depth: depth, into: &none) { (parser, _) throws(JSONParseError) in try element(&parser) }
    }

    /// The same, handing `state` to `element`.
    @inlinable @inline(__always)
    public mutating func elements<State>(
        depth: Int, into state: inout State, _ element: (inout JSONParser, inout State) throws(JSONParseError) -> Void
    ) throws(JSONParseError) {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        guard consume(UInt8(ascii: "[")) else { throw error("expected '['") }
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return }
        while true {
            skipWhitespace()
            try element(&self, &state)
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw error(index < buffer.count ? "expected ',' or ']'" : "unexpected end of JSON") }
            return
        }
    }
}

/// Member names an object walker looks for (`JSONParser.members(depth:known:into:_:)`):
/// plain ASCII, at most 64 of them. Matched on a name's length, its first 8 bytes in one word
/// and its last 8 in another (names of up to 16 bytes: nothing else to compare), then on any
/// bytes between those.
public struct KnownMembers: Sendable {
    public let names: [String]
    /// Each name's length and first and last 8 bytes.
    @usableFromInline let entries: [Entry]
    @usableFromInline let bytes: [[UInt8]]
    /// Names without a quote, backslash or control byte (bit k: name k): for these, equal bytes
    /// followed by a quote are the whole plain string, which `quotedName` relies on.
    @usableFromInline let quotable: UInt64

    @usableFromInline
    struct Entry: Equatable, Sendable {
        @usableFromInline let prefix: UInt64
        @usableFromInline let suffix: UInt64
        @usableFromInline let count: Int

        @inlinable @inline(__always)
        init(_ name: UnsafeBufferPointer<UInt8>) {
            prefix = KnownMembers.prefix(name)
            suffix = KnownMembers.suffix(name)
            count = name.count
        }
    }

    /// Names written in the source: at most 64, ASCII.
    public init(_ names: String...) {
        self.init(matching: names)!
    }

    /// nil when there are more than 64 `names` or one is not ASCII (the walker's limits).
    public init?(matching names: [String]) {
        guard names.count <= 64, names.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) else { return nil }
        self.names = names
        bytes = names.map { Array($0.utf8) }
        entries = bytes.map { $0.withUnsafeBufferPointer(Entry.init) }
        var quotable: UInt64 = 0
        for (k, name) in bytes.enumerated()
        where !name.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            quotable |= 1 << UInt64(k)
        }
        self.quotable = quotable
    }

    /// The index past the closing quote when `buffer` holds, from `start` (an opening quote),
    /// name `k` and its closing quote; nil otherwise, or when `k` is out of range. What
    /// `plainString` and `index(of:)` would find there, compared in place.
    @inlinable @inline(__always)
    public func quotedName(_ k: Int, in buffer: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        guard k >= 0, k < entries.count, quotable & (1 << UInt64(k)) != 0, let base = buffer.baseAddress else { return nil }
        let entry = entries[k]
        let first = start + 1
        let quote = first + entry.count
        guard start >= 0, quote < buffer.count, buffer[start] == UInt8(ascii: "\""), buffer[quote] == UInt8(ascii: "\"") else { return nil }
        if entry.count >= 8 {
            guard UInt64(littleEndian: UnsafeRawPointer(base + first).loadUnaligned(as: UInt64.self)) == entry.prefix else { return nil }
            if entry.count > 8 {
                guard UInt64(littleEndian: UnsafeRawPointer(base + quote - 8).loadUnaligned(as: UInt64.self)) == entry.suffix else { return nil }
            }
        } else if first + 8 <= buffer.count {
            // Its bytes and the ones after, masked to its length (the quote is checked above).
            let word = UInt64(littleEndian: UnsafeRawPointer(base + first).loadUnaligned(as: UInt64.self))
            guard word & (1 << UInt64(entry.count * 8) &- 1) == entry.prefix else { return nil }
        } else {
            guard KnownMembers.prefix(UnsafeBufferPointer(rebasing: buffer[first..<quote])) == entry.prefix else { return nil }
        }
        guard entry.count <= 16 || tailMatches(k, UnsafeBufferPointer(rebasing: buffer[first..<quote])) else { return nil }
        return quote + 1
    }

    /// The first (up to) 8 bytes, little-endian: one unaligned load for a name of 8 bytes or
    /// more, the bytes one by one for a shorter one (a load would read past its end).
    @inlinable @inline(__always)
    static func prefix(_ name: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let base = name.baseAddress else { return 0 }
        if name.count >= 8 { return UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self)) }
        var word: UInt64 = 0
        var k = name.count
        while k > 0 {
            k -= 1
            word = word << 8 | UInt64(base[k])
        }
        return word
    }

    /// The last 8 bytes of a name longer than 8 (overlapping the prefix below 16), in one
    /// unaligned load; 0 for a shorter one, which the prefix covers.
    @inlinable @inline(__always)
    static func suffix(_ name: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let base = name.baseAddress, name.count > 8 else { return 0 }
        return UInt64(littleEndian: UnsafeRawPointer(base + name.count - 8).loadUnaligned(as: UInt64.self))
    }

    /// The index of the name whose bytes are `name`'s, or nil. The name at `expected` is tried
    /// first: clients write members in the same order request after request, so a walker
    /// that expects the one after the last it saw mostly compares one name.
    @inlinable
    public func index(of name: UnsafeBufferPointer<UInt8>, expecting expected: Int = 0) -> Int? {
        let key = Entry(name)
        return entries.withUnsafeBufferPointer { entries -> Int? in
            if expected >= 0, expected < entries.count, entries[expected] == key, tailMatches(expected, name) { return expected }
            for k in entries.indices where entries[k] == key && tailMatches(k, name) { return k }
            return nil
        }
    }

    /// Whether name `k`'s bytes between its first and last 8 equal `name`'s (names of up to
    /// 16 bytes have none).
    @inlinable @inline(__always)
    func tailMatches(_ k: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        name.count <= 16 || bytes[k].withUnsafeBufferPointer { $0[8..<name.count - 8].elementsEqual(name[8..<name.count - 8]) }
    }
}
