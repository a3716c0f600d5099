/// Why a body is not acceptable JSON; always answered 400.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset in the body where parsing stopped.
    public var offset: Int
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict RFC 8259 parser: one value, no trailing garbage, no NaN/Infinity, no comments,
/// no duplicate member names, valid UTF-8 only, bounded nesting.
public struct JSONParser {
    /// Deepest array/object nesting accepted; deeper documents are refused, not recursed into.
    public static let defaultMaxDepth = 64

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in try parse(buffer, maxDepth: maxDepth) }
    }

    /// `parse` over bytes the caller holds (a line of a larger buffer, say).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(buffer: buffer, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != buffer.count { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// The document; the decoders that walk it with the cursor methods read it in place.
    public let buffer: UnsafeBufferPointer<UInt8>
    public let maxDepth: Int
    /// The cursor: the offset of the next byte to read.
    public var index = 0

    public init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.maxDepth = maxDepth
    }

    /// A parse error at the cursor.
    @inlinable
    public func error(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }

    @inlinable @inline(__always)
    public mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The value at the cursor as a tree; `depth` is the nesting it sits at.
    public mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < buffer.count else { throw error("unexpected end of JSON") }
        switch buffer[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw error("NaN and Infinity are not JSON numbers")
        default:
            throw error("unexpected character '\(Self.printable(buffer[index]))'")
        }
    }

    private static func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= buffer.count else { throw error("unexpected end of JSON") }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { buffer[index + $0] == expected[$0] }
        }
        guard matches else { throw error("invalid literal") }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        var seen: Set<String> = []
        skipWhitespace()
        if index < buffer.count, buffer[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(members))
        }
        while true {
            skipWhitespace()
            guard index < buffer.count, buffer[index] == UInt8(ascii: "\"") else {
                throw error("expected a member name in double quotes")
            }
            let keyOffset = index
            let key = try parseString()
            // Small objects (listings) scan; large ones hash, so a body with many members
            // costs linear time, not quadratic.
            let duplicate: Bool
            if members.count < 16 {
                duplicate = members.contains { $0.key == key }
            } else {
                if seen.isEmpty { seen = Set(members.map(\.key)) }
                duplicate = !seen.insert(key).inserted
            }
            if duplicate {
                throw JSONParseError(offset: keyOffset, reason: "duplicate member name \"\(key)\"")
            }
            skipWhitespace()
            guard index < buffer.count, buffer[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append((key: key, value: value))
            skipWhitespace()
            guard index < buffer.count else { throw error("unexpected end of JSON") }
            switch buffer[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(JSONObject(members))
            default: throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        var elements: [JSONValue] = []
        try self.elements(depth: depth, into: &elements) { (parser, elements) throws(JSONParseError) in
            elements.append(try parser.parseValue(depth: depth))
        }
        return .array(elements)
    }

    /// The number at the cursor (a `-` or a digit): RFC 8259's grammar, finite values only.
    /// The scan that checks the grammar also gathers the digits, so that most numbers are
    /// converted without reading them again: integers of up to 16 characters exactly, and
    /// decimals by Clinger's fast path (digits making an integer of at most 2^53, a power of
    /// ten within 10^±22: both exact Doubles, so one multiplication or division rounds once,
    /// to what `strtod` gives). Anything else goes through the standard library.
    public mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        let negative = buffer[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < buffer.count, Self.isDigit(buffer[index]) else { throw error("invalid number") }
        var mantissa: UInt64 = 0
        var mantissaFits = true
        if buffer[index] == UInt8(ascii: "0") {
            index += 1
            if index < buffer.count, Self.isDigit(buffer[index]) { throw error("leading zeros are not allowed") }
        } else {
            scanDigits(into: &mantissa, fits: &mantissaFits)
        }
        var isInteger = true
        var fractionDigits = 0
        if index < buffer.count, buffer[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < buffer.count, Self.isDigit(buffer[index]) else { throw error("invalid number") }
            let first = index
            scanDigits(into: &mantissa, fits: &mantissaFits)
            fractionDigits = index - first
        }
        var exponent = 0
        if index < buffer.count, buffer[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            var negativeExponent = false
            if index < buffer.count, buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-") {
                negativeExponent = buffer[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < buffer.count, Self.isDigit(buffer[index]) else { throw error("invalid number") }
            while index < buffer.count, Self.isDigit(buffer[index]) {
                exponent = min(exponent * 10 + Int(buffer[index] &- UInt8(ascii: "0")), 100_000)
                index += 1
            }
            if negativeExponent { exponent = -exponent }
        }
        if isInteger, index - start <= 16 {
            // Up to 16 digits: exact in an Int64 (−0 is 0, as Python reads it).
            let value = Int64(mantissa)
            return Double(negative ? -value : value)
        }
        let power = exponent - fractionDigits
        if mantissaFits, mantissa <= 1 << 53, power >= -22, power <= 22 {
            let magnitude = power < 0 ? Double(mantissa) / Self.powersOfTen[-power] : Double(mantissa) * Self.powersOfTen[power]
            return negative ? -magnitude : magnitude
        }
        let text = UnsafeBufferPointer(rebasing: buffer[start..<index])
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
            throw JSONParseError(offset: start, reason: "number out of range")
        }
        return value
    }

    /// Moves past the digits at the cursor, appending them to `mantissa` while it has room
    /// (`fits` turns false when it has not).
    @inline(__always)
    private mutating func scanDigits(into mantissa: inout UInt64, fits: inout Bool) {
        while index < buffer.count, Self.isDigit(buffer[index]) {
            if mantissa <= (UInt64.max - 9) / 10 {
                mantissa = mantissa * 10 + UInt64(buffer[index] &- UInt8(ascii: "0"))
            } else {
                fits = false
            }
            index += 1
        }
    }

    /// 10^0 … 10^22, each exact in a Double.
    static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { product, _ in product * 10 } }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// The string at the cursor (a `"`), unescaped and checked to be valid UTF-8.
    public mutating func parseString() throws(JSONParseError) -> String {
        let start = index + 1
        switch try scanString() {
        case .input(let range, let ascii):
            let slice = UnsafeBufferPointer(rebasing: buffer[range])
            if ascii { return String(decoding: slice, as: UTF8.self) }
            guard let string = String(validUTF8: slice) else { throw Self.invalidUTF8(at: start) }
            return string
        case .unescaped(let bytes):
            guard let string = bytes.withUnsafeBufferPointer(String.init(validUTF8:)) else { throw Self.invalidUTF8(at: start) }
            return string
        }
    }

    /// Calls `body` with the UTF-8 of the string at the cursor (a `"`), unescaped and checked
    /// to be valid: the input's own bytes when the string has no escapes, so that a caller
    /// keeping them copies them once, where it wants them.
    public mutating func withParsedString<Result>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> Result
    ) throws(JSONParseError) -> Result {
        let start = index + 1
        switch try scanString() {
        case .input(let range, let ascii):
            let slice = UnsafeBufferPointer(rebasing: buffer[range])
            guard ascii || Self.isValidUTF8(slice) else { throw Self.invalidUTF8(at: start) }
            return try body(slice)
        case .unescaped(let bytes):
            return try bytes.withUnsafeBufferPointer { bytes throws(JSONParseError) in
                guard Self.isValidUTF8(bytes) else { throw Self.invalidUTF8(at: start) }
                return try body(bytes)
            }
        }
    }

    /// The error for a string whose bytes, from `offset`, are not UTF-8.
    private static func invalidUTF8(at offset: Int) -> JSONParseError {
        JSONParseError(offset: offset, reason: "string is not valid UTF-8")
    }

    /// Whether `bytes` are valid UTF-8 (the standard library's check, without making a String).
    public static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        (try? UTF8Span(validating: bytes.span)) != nil
    }

    /// A string's bytes once scanned: a range of the input (no escapes; `ascii` when no byte
    /// is above 0x7F), or the unescaped bytes, not yet checked to be UTF-8.
    private enum ScannedString {
        case input(Range<Int>, ascii: Bool)
        case unescaped([UInt8])
    }

    /// Steps over the string at the cursor, unescaping it only when it has escapes.
    @inline(__always)
    private mutating func scanString() throws(JSONParseError) -> ScannedString {
        index += 1
        let start = index
        var sawNonASCII = false
        // Fast path: no escapes. Eight bytes at a time while none ends the run.
        if let base = buffer.baseAddress {
            while index + 8 <= buffer.count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if JSONString.needsEscape(word) { break }
                if word & 0x8080_8080_8080_8080 != 0 { sawNonASCII = true }
                index += 8
            }
        }
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") {
                let end = index
                index += 1
                return .input(start..<end, ascii: !sawNonASCII)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            if byte >= 0x80 { sawNonASCII = true }
            index += 1
        }
        guard index < buffer.count else { throw error("unterminated string") }
        // Slow path: decode escapes into a byte buffer.
        var bytes = Array(UnsafeBufferPointer(rebasing: buffer[start..<index]))
        while index < buffer.count {
            let byte = buffer[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return .unescaped(bytes)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < buffer.count else { throw error("unterminated string") }
                let escape = buffer[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw error("invalid escape sequence")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                bytes.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= buffer.count else { throw error("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func parseUnicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let first = try parseHex4()
        if (0xD800...0xDBFF).contains(first) {
            guard index + 2 <= buffer.count, buffer[index] == UInt8(ascii: "\\"), buffer[index + 1] == UInt8(ascii: "u")
            else { throw error("unpaired surrogate in \\u escape") }
            index += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw error("unpaired surrogate in \\u escape") }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw error("invalid \\u escape") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("unpaired surrogate in \\u escape") }
        return scalar
    }
}

extension JSONParser {
    /// The byte at the cursor, or nil at the end.
    @inlinable
    public var next: UInt8? { index < buffer.count ? buffer[index] : nil }

    /// Steps over `byte` if it is next.
    @inlinable
    public mutating func consume(_ byte: UInt8) -> Bool {
        guard index < buffer.count, buffer[index] == byte else { return false }
        index += 1
        return true
    }
}
