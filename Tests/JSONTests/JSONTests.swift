import Testing
@testable import JSON

@Suite(.timeLimit(.minutes(10))) struct JSONParserTests {
    private func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    private func rejects(_ text: String, _ reason: String) {
        #expect(throws: JSONParseError.self, "\(text) should be rejected: \(reason)") { try parse(text) }
    }

    /// Decimal numbers (with a fraction or an exponent) come out bit for bit as the standard
    /// library's conversion gives them, on and off the exact fast path (more than 2^53 in the
    /// digits, powers past 10^±22, negative zero, exponents with signs and leading zeros).
    @Test func decimalsConvertAsTheStandardLibraryDoes() throws {
        var texts = [
            "0.1", "-0.0", "0.0", "18.09", "1e22", "1e23", "1e-22", "1e-23", "9007199254740993.5", "9007199254740992.0",
            "123456789012345678901234567890.5", "0.000000000000000000000000001", "1.7976931348623157e308", "4.9e-324",
            "2.2250738585072014e-308", "1E+2", "1e-0", "-12.5e-3", "0.30000000000000004", "1.50000000000000000000",
            "3.14159265358979323846", "1e00000000000000000000000000000001",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let digits = String(UInt64.random(in: 0...UInt64(1) << UInt64.random(in: 1...62, using: &generator), using: &generator))
            let point = Int.random(in: 0...digits.count, using: &generator)
            var text = (Bool.random(using: &generator) ? "-" : "") + (point == 0 ? "0" : String(digits.prefix(point)))
            if point < digits.count { text += "." + digits.dropFirst(point) }
            if Bool.random(using: &generator) { text += "e" + String(Int.random(in: -30...30, using: &generator)) }
            texts.append(text)
        }
        for text in texts {
            let expected = try #require(Double(text), "\(text)")
            let parsed = try parse(text)
            guard case .number(let value) = parsed else { Issue.record("\(text) → \(parsed)"); continue }
            if text.contains(where: { ".eE".contains($0) }) {
                #expect(value.bitPattern == expected.bitPattern, "\(text): \(value) vs \(expected)")
            } else {
                #expect(value == expected, "\(text)")  // an integer: -0 is 0, as Python reads it
            }
        }
    }

    @Test func parsesAListingWithUnicodeAndEscapes() throws {
        let value = try parse(#"{"id":"a1","title":"Pistola de cola quente \u00e7 \"x\" 🔫","price_usd":12.5,"n":-3,"ok":true,"z":null,"l":[1,2e3]}"#)
        #expect(value["id"] == "a1")
        #expect(value["title"] == .string("Pistola de cola quente ç \"x\" 🔫"))
        #expect(value["price_usd"] == 12.5)
        #expect(value["n"] == -3)
        #expect(value["ok"] == true)
        #expect(value["z"] == .null)
        #expect(value["l"] == [1, 2000])
    }

    @Test func keepsMemberOrder() throws {
        let value = try parse(#"{"b":1,"a":2,"c":3}"#)
        #expect(value.objectValue?.keys == ["b", "a", "c"])
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try parse(#""\ud83d\udd2b""#) == "🔫")
    }

    @Test func rejectsNaNAndInfinity() {
        rejects("NaN", "not JSON")
        rejects("[Infinity]", "not JSON")
        rejects("[-Infinity]", "not JSON")
    }

    @Test func rejectsTrailingGarbageAndCommas() {
        rejects("{} x", "trailing data")
        rejects("[1,]", "trailing comma")
        rejects(#"{"a":1,}"#, "trailing comma")
        rejects("", "empty body")
        rejects("[1 2]", "missing comma")
    }

    @Test func rejectsBadNumbers() {
        rejects("01", "leading zero")
        rejects("1.", "no fraction digits")
        rejects("-", "sign alone")
        rejects("1e", "no exponent digits")
        rejects("1e999", "out of range")
        rejects("+1", "plus sign")
    }

    @Test func rejectsBadStrings() {
        rejects("\"a\u{01}b\"", "raw control character")
        rejects(#""\x""#, "unknown escape")
        rejects(#""\ud83d""#, "lone high surrogate")
        rejects(#""\udd2b""#, "lone low surrogate")
        rejects("\"abc", "unterminated")
    }

    /// The unescaped run is read eight bytes at a time: a raw control byte, an invalid UTF-8
    /// byte or valid non-ASCII text at any position of any length is still seen.
    @Test func rawBytesAreCheckedAtAnyPositionOfAnyLength() throws {
        for length in 0...40 {
            for position in 0...length {
                func body(_ special: [UInt8]) -> [UInt8] {
                    var bytes = (0..<length).map { UInt8(0x61 + $0 % 26) }
                    bytes.insert(contentsOf: special, at: position)
                    return [0x22] + bytes + [0x22]
                }
                for bad: [UInt8] in [[0x00], [0x1F], [0xFF], [0xC3], [0xC3, 0x28], [0xED, 0xA0, 0x80]] {
                    #expect(throws: JSONParseError.self, "\(length) \(position) \(bad)") { try JSONParser.parse(body(bad)) }
                }
                for good: [UInt8] in [[0x7F], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x94, 0xAB]] {
                    let text = body(good)
                    #expect(try JSONParser.parse(text) == .string(String(decoding: text.dropFirst().dropLast(), as: UTF8.self)))
                }
            }
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
    }

    @Test func rejectsDuplicateMemberNames() {
        rejects(#"{"a":1,"a":2}"#, "duplicate key")
    }

    @Test func findsDuplicatesInLargeObjects() throws {
        let members = (0..<5000).map { "\"k\($0)\":\($0)" }
        let unique = "{" + members.joined(separator: ",") + "}"
        #expect(try parse(unique).objectValue?.count == 5000)
        rejects("{" + members.joined(separator: ",") + ",\"k42\":1}", "duplicate key in a large object")
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(Array(ok.utf8))
    }

    @Test func reportsTheOffsetOfTheProblem() {
        do {
            _ = try parse(#"{"a": tru}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 6)
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct JSONWriterTests {
    @Test func escapesStringsAndWritesNumbersCompactly() {
        let value: JSONValue = ["s": "a\"b\\c\n\u{01}ç", "i": 3, "d": 0.25, "neg": -2.5, "b": false, "n": nil, "a": [1, "x"]]
        let text = String(decoding: JSONWriter.encode(value), as: UTF8.self)
        #expect(text == #"{"s":"a\"b\\c\n\u0001ç","i":3,"d":0.25,"neg":-2.5,"b":false,"n":null,"a":[1,"x"]}"#)
    }

    @Test func roundTripsThroughTheParser() throws {
        let value: JSONValue = ["title": "Réplica \"AAA\" \t 🔫", "score": 0.9991639809606191, "list": [true, nil, -0.001]]
        #expect(try JSONParser.parse(JSONWriter.encode(value)) == value)
    }

    /// Durations in the access log are written by integer arithmetic; the text must be
    /// exactly what `number` writes for the value rounded to thousandths.
    @Test func thousandthsAreWhatNumberWritesForTheRoundedValue() {
        var state: UInt64 = 0x7A11_2026
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        var values: [Double] = [0, -0.0, 0.0004, 0.0005, 0.001, 0.05, 0.1, 1.5, 2.9995, 999.9999, 1e9 + 0.123, -3.25, 8.9e12, 1e13, .infinity, .nan]
        for _ in 0..<20_000 {
            let magnitude = [1.0, 10, 1000, 1e6, 1e9][Int(next() % 5)]
            values.append(Double(next()) / Double(1 << 53) * magnitude * (next() % 4 == 0 ? -1 : 1))
        }
        for value in values {
            var fast = JSONWriter(), reference = JSONWriter()
            fast.thousandths(value)
            reference.number((value * 1000).rounded() / 1000)
            #expect(fast.bytes == reference.bytes, "\(value): \(String(decoding: fast.bytes, as: UTF8.self))")
        }
    }

    /// Numbers are written from the digits the standard library formats on the stack, not
    /// through `description`: the text must still be exactly `description`'s (the shortest form
    /// that reads back as the same Double), at every magnitude and for scores in [0, 1].
    @Test func fractionsAreWrittenAsTheirShortestRoundTrippingForm() throws {
        var state: UInt64 = 0x5C0_2E5
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        var values: [Double] = [0.002398165843686279, 0.1, -0.5, .leastNonzeroMagnitude, 2.2250738585072014e-308, 1.7976931348623157e308, 9.007_199_254_740_993e15, 1e16, 1e-7, 123.456]
        for _ in 0..<20_000 { values.append(Double(bitPattern: next())) }
        for _ in 0..<20_000 { values.append(Double(next() >> 11) / Double(1 << 53)) }
        var checked = 0
        for value in values where value.isFinite {
            var writer = JSONWriter()
            writer.number(value)
            let text = String(decoding: writer.bytes, as: UTF8.self)
            if value.rounded() == value, abs(value) < 9.007_199_254_740_992e15 {
                #expect(text == String(Int(value)))
            } else {
                #expect(text == value.description)
                checked += 1
            }
            #expect(try JSONParser.parse(writer.bytes) == .number(value), "\(text)")
        }
        #expect(checked > 39_000)
    }

    @Test func writesNonFiniteAsNull() {
        var writer = JSONWriter()
        writer.number(Double.nan)
        #expect(writer.bytes == Array("null".utf8))
    }
}

@Suite(.timeLimit(.minutes(10))) struct JSONStringTests {
    @Test func backslashAndTabAreEscaped() {
        #expect(JSONString.encode("a\\b\tc") == #""a\\b\tc""#)
    }

    /// Strings of every length up to 40 with a character that needs escaping (or a non-ASCII
    /// one, or none) at every position: what one byte at a time would write, and what parses back.
    @Test func escapesAreFoundAtAnyPositionOfAnyLength() throws {
        func reference(_ string: String) -> String {
            var out = "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{8}": out += "\\b"
                case "\u{C}": out += "\\f"
                case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        for length in 0...40 {
            for special in ["\"", "\\", "\u{0}", "\u{1F}", "\n", "\u{7F}", "é", "€", " ", "a"] {
                for position in 0...length {
                    var scalars = (0..<length).map { Character(Unicode.Scalar(UInt8(0x41 + $0 % 26))) }
                    scalars.insert(Character(special), at: position)
                    let string = String(scalars)
                    let encoded = JSONString.encode(string)
                    #expect(encoded == reference(string), "\(length) \(position) \(special.unicodeScalars.first!.value)")
                    #expect(try JSONParser.parse(Array(encoded.utf8)) == .string(string))
                }
            }
        }
    }

    @Test func decimalDigitsAreWhatStringWrites() {
        for value in [0, 7, 9, 10, 99, 100, 200, 404, 1_234_567, -1, -10, Int.max, Int.min, Int.max - 1] {
            var out: [UInt8] = [0x41]
            DecimalDigits.append(value, to: &out)
            #expect(out == [0x41] + Array(String(value).utf8), "\(value)")
            var room = [UInt8](repeating: 0, count: 24)
            let written = room.withUnsafeMutableBufferPointer { DecimalDigits.write(value, to: $0.baseAddress! + 2) }
            #expect(written == DecimalDigits.count(value) && written == String(value).utf8.count, "\(value)")
            #expect(room[2..<(2 + written)].elementsEqual(String(value).utf8), "\(value)")
            #expect(room[..<2] == [0, 0] && room[(2 + written)...].allSatisfy { $0 == 0 }, "\(value): nothing outside its room")
        }
    }
}
