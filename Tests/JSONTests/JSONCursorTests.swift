import Testing
@testable import JSON

/// The tree-free walk: member names matched on their bytes as `String` equality would match
/// them, duplicates refused as the tree parser refuses them.
@Suite(.timeLimit(.minutes(10))) struct JSONCursorTests {
    /// Names of every length from 1 to 40 bytes: each found at its own index, and a name one
    /// byte off at any position (or one byte shorter or longer) found nowhere.
    @Test func knownNamesMatchExactlyWhateverTheirLength() {
        func name(length: Int) -> String {
            let bytes: [UInt8] = (0..<length).map { k in UInt8(97 + (k * 7 + length) % 26) }
            return String(decoding: bytes, as: UTF8.self)
        }
        let names = (1...40).map(name(length:))
        for group in stride(from: 0, to: names.count, by: 20).map({ Array(names[$0..<min($0 + 20, names.count)]) }) {
            let known = KnownMembers(matching: group)!
            func index(_ text: String) -> Int? { Array(text.utf8).withUnsafeBufferPointer { known.index(of: $0) } }
            for (k, name) in group.enumerated() {
                #expect(index(name) == k, "\(name)")
                // Whichever name is expected next (or a place past the end), the same answer.
                for expected in [-1, 0, k, k + 1, group.count - 1, group.count, 99] {
                    #expect(Array(name.utf8).withUnsafeBufferPointer { known.index(of: $0, expecting: expected) } == k)
                }
                var bytes = Array(name.utf8)
                for position in bytes.indices {
                    let original = bytes[position]
                    bytes[position] = original == UInt8(ascii: "z") ? UInt8(ascii: "y") : original + 1
                    #expect(index(String(decoding: bytes, as: UTF8.self)) == nil, "\(name) changed at \(position)")
                    bytes[position] = original
                }
                for other in [String(name.dropLast()), name + "a", "x" + name] {
                    #expect(index(other).map { group[$0] } == (group.contains(other) ? other : nil), "\(other)")
                }
            }
        }
        #expect(KnownMembers(matching: ["é"]) == nil)
        #expect(KnownMembers(matching: (0..<64).map { "n\($0)" }) != nil)
        #expect(KnownMembers(matching: (0..<65).map { "n\($0)" }) == nil)
    }

    /// The in-place comparison of an expected name gives what the byte scan and the lookup
    /// give, for names of 0 to 40 bytes at every distance from the buffer's end (the short
    /// names' one-word load is taken only where 8 bytes remain), one byte off anywhere, without
    /// a closing quote, and for names a quote or backslash keeps out of it.
    @Test func expectedNamesComparedInPlaceMatchTheScan() {
        let names = (0...40).map { length in String(decoding: (0..<length).map { UInt8(97 + ($0 * 5 + length) % 26) }, as: UTF8.self) }
        for group in [Array(names[0..<21]), Array(names[21...]), [#"a"b"#, #"a\b"#, "tab\tx"]] {
            let known = KnownMembers(matching: group)!
            func scanned(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int) -> (index: Int, end: Int)? {
                var parser = JSONParser(buffer: buffer, maxDepth: 8)
                parser.index = start
                guard let plain = parser.plainString(), let k = known.index(of: plain) else { return nil }
                return (k, parser.index)
            }
            var texts: [String] = []
            for name in group {
                texts.append("\"" + name + "\"")
                texts.append("\"" + name)  // no closing quote
                texts.append("\"" + name + "x\"")
                for position in name.utf8.indices {
                    var bytes = Array(name.utf8)
                    let p = name.utf8.distance(from: name.utf8.startIndex, to: position)
                    bytes[p] = bytes[p] == UInt8(ascii: "z") ? UInt8(ascii: "y") : bytes[p] + 1
                    texts.append("\"" + String(decoding: bytes, as: UTF8.self) + "\"")
                }
            }
            for text in texts {
                for padding in ["", ":", ":1", ",\"x\":123456789"] {
                    let bytes = Array((text + padding).utf8)
                    bytes.withUnsafeBufferPointer { buffer in
                        let expected = scanned(buffer, 0)
                        for k in -1...group.count {
                            let found = known.quotedName(k, in: buffer, at: 0)
                            if let expected, expected.index == k {
                                #expect(found == expected.end, "\(text + padding) as \(k)")
                            } else {
                                #expect(found == nil, "\(text + padding) as \(k)")
                            }
                        }
                    }
                }
            }
        }
    }

    private func walk(_ text: String, _ known: KnownMembers) throws(JSONParseError) -> [Int?] {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) -> [Int?] in
            var parser = JSONParser(buffer: buffer, maxDepth: 8)
            var keys: [Int?] = []
            try parser.members(depth: 1, known: known, into: &keys) { (key, parser, keys) throws(JSONParseError) in
                keys.append(key)
                _ = try parser.parseValue(depth: 2)
            }
            return keys
        }
    }

    @Test func membersAreWalkedInOrderWithTheirKeys() throws {
        let known = KnownMembers("name", "datatype", "seller_reputation")
        #expect(try walk(#"{"datatype":1, "other":[2], "seller_reputation":"x" ,"name":null}"#, known) == [1, nil, 2, 0])
        #expect(try walk("{}", known) == [])
        // An escaped spelling is the same name.
        #expect(try walk(#"{"n\u0061me":1,"\u00e9":2}"#, known) == [0, nil])
    }

    @Test func duplicatesAreRefusedWhicheverWayTheyAreSpelt() throws {
        let known = KnownMembers("name", "data")
        for text in [
            #"{"name":1,"name":2}"#, #"{"name":1,"n\u0061me":2}"#, #"{"x":1,"x":2}"#, #"{"x":1,"\u0078":2}"#,
            "{" + (0..<12).map { "\"k\($0)\":0," }.joined() + #""k3":1}"#,
        ] {
            #expect(throws: JSONParseError.self, "\(text)") { try walk(text, known) }
        }
        // Past 32 names the walker's bit set still tells each name apart.
        let many = KnownMembers(matching: (0..<64).map { "n\($0)" })!
        #expect(throws: JSONParseError.self) { try walk(#"{"n35":1,"n3":2,"n35":3}"#, many) }
        #expect(try walk(#"{"n35":1,"n3":2,"n63":3,"n31":4}"#, many) == [35, 3, 63, 31])
        #expect(throws: JSONParseError.self) { try walk(#"{"name" 1}"#, known) }
        #expect(throws: JSONParseError.self) { try walk(#"{"name":1"data":2}"#, known) }
        #expect(throws: JSONParseError.self) { try walk(#"{"name":1"#, known) }
    }
}
