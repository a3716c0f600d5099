import Testing
@testable import JSON

@Suite(.timeLimit(.minutes(2))) struct ValidatedUTF8Tests {
    /// What the standard library's validating initializer says, for every input.
    private func agrees(_ bytes: [UInt8]) -> Bool {
        let ours = bytes.withUnsafeBufferPointer(String.init(validUTF8:))
        return ours == String(validating: bytes, as: UTF8.self)
    }

    @Test func agreesWithTheStandardLibraryOnValidAndInvalidSequences() {
        let cases: [[UInt8]] = [
            [], Array("plain ascii title".utf8), Array("Envío inmediato, réplica 東京 😀".utf8),
            [0xFF], [0xC0, 0x80],                       // invalid byte; overlong NUL
            [0xE2, 0x82],                               // truncated 3-byte sequence
            [0xF0, 0x90, 0x80, 0x41],                   // truncated 4-byte sequence: one U+FFFD, as long as it
            [0xED, 0xA0, 0x80],                         // a surrogate
            [0xF4, 0x90, 0x80, 0x80],                   // past U+10FFFF
            Array("abcdefgh".utf8) + [0x80] + Array("ijklmnop".utf8),  // a stray byte between words
        ]
        for bytes in cases { #expect(agrees(bytes), "\(bytes)") }
    }

    @Test func agreesOnRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        let characters = ["é", "ç", "ñ", "東", "😀"].map { Array($0.utf8) }
        var valid = 0, invalid = 0
        for round in 0..<3_000 {
            // ASCII, whole multi-byte characters and, in one round of two, a few stray high
            // bytes: many inputs valid with non-ASCII text, many not.
            var bytes: [UInt8] = []
            for _ in 0..<(round % 24) {
                switch Int.random(in: 0..<8, using: &generator) {
                case 0 where round % 2 == 0: bytes.append(UInt8.random(in: 0x80...0xF5, using: &generator))
                case 1, 2: bytes += characters.randomElement(using: &generator)!
                default: bytes.append(UInt8.random(in: 0x20...0x7E, using: &generator))
                }
            }
            if String(validating: bytes, as: UTF8.self) == nil { invalid += 1 } else if bytes.contains(where: { $0 >= 0x80 }) { valid += 1 }
            #expect(agrees(bytes), "\(bytes)")
        }
        #expect(invalid > 300 && valid > 300)
    }

    /// A string read in place (`withParsedString`) is accepted exactly when `parseString`
    /// accepts it, with the same bytes: escapes undone, invalid UTF-8 refused at the same offset.
    @Test func aStringReadInPlaceIsTheParsedStringsBytes() {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [Array("abc".utf8), Array("é".utf8), Array("東".utf8), Array("😀".utf8), Array(#"\""#.utf8),
                                 Array(#"\u00e7"#.utf8), Array(#"\ud83d\ude00"#.utf8), Array(#"\n"#.utf8), [0xFF], [0xC3],
                                 Array("a longer run of plain ASCII bytes".utf8)]
        var accepted = 0, refused = 0
        for round in 0..<3_000 {
            var body: [UInt8] = [0x22]
            for _ in 0..<(round % 9) { body += pieces.randomElement(using: &generator)! }
            body.append(0x22)
            let parsed = body.withUnsafeBufferPointer { buffer in
                var parser = JSONParser(buffer: buffer, maxDepth: 8)
                return Result { () throws(JSONParseError) in (try parser.parseString(), parser.index) }
            }
            let inPlace = body.withUnsafeBufferPointer { buffer in
                var parser = JSONParser(buffer: buffer, maxDepth: 8)
                return Result { () throws(JSONParseError) in (try parser.withParsedString { Array($0) }, parser.index) }
            }
            switch (parsed, inPlace) {
            case (.success(let string), .success(let bytes)):
                accepted += 1
                #expect(Array(string.0.utf8) == bytes.0 && string.1 == bytes.1, "\(body)")
            case (.failure(let a), .failure(let b)):
                refused += 1
                #expect(a == b, "\(body)")
            default:
                Issue.record("one way accepts, the other refuses: \(body)")
            }
        }
        #expect(accepted > 300 && refused > 300)
    }
}
