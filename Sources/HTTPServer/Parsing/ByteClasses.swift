#if canImport(JSON)
import JSON
#endif
/// Character classes of RFC 9110 §5.6 and RFC 9112, as branch-light predicates on one byte.
/// Kept free of Foundation and of tables that need lazy initialisation, so the scanner's
/// inner loops compile to a few comparisons per byte.
enum ByteClass {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    /// `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`
    /// (RFC 9110 §5.6.2). Methods, field names, transfer codings and chunk-extension names are tokens.
    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        // Bitmap of the 128 ASCII code points; bytes ≥ 0x80 are never tchar.
        // Low word covers 0x00–0x3F, high word 0x40–0x7F. Without branches on the byte: a
        // select of the word and one shift.
        let low: UInt64 = 0x03FF_6CFA_0000_0000  // ! # $ % & ' * + - . 0-9
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE // A-Z ^ _ ` a-z | ~
        let word = byte & 0x40 == 0 ? low : high
        return byte < 0x80 && (word >> UInt64(byte & 0x3F)) & 1 == 1
    }

    /// Visible ASCII (`%x21-7E`): the only bytes allowed in a request-target (RFC 9112 §3.2).
    @inline(__always)
    static func isVisibleASCII(_ byte: UInt8) -> Bool { byte >= 0x21 && byte <= 0x7E }

    /// `field-vchar / SP / HTAB`, where `field-vchar = VCHAR / obs-text` (RFC 9110 §5.5).
    /// Rejects NUL, CR, LF, DEL and every other control byte.
    @inline(__always)
    static func isFieldValueChar(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == htab
    }

    /// Every byte of a word 0x01, and every byte's high bit (the word-at-a-time tests below).
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether all eight bytes of `word` are field-value characters other than HTAB: none is
    /// a control byte (below 0x20) or DEL. Exact, for any bytes: a byte at or above 0x80 sets
    /// no flag, and a byte that does not match sets no borrow into the next one.
    @inline(__always)
    static func allPlainFieldValueChars(_ word: UInt64) -> Bool {
        let belowSpace = (word &- ones &* 0x20) & ~word & highs
        let notDelete = word ^ (ones &* 0x7F)
        let delete = (notDelete &- ones) & ~notDelete & highs
        return belowSpace | delete == 0
    }

    /// Whether all eight bytes of `word` are ASCII letters, digits or `-`, the token
    /// characters field names are made of. Exact for any bytes: each test is made within its
    /// byte (no carry crosses into the next), on bytes already known to be below 0x80.
    @inline(__always)
    static func allNameChars(_ word: UInt64) -> Bool {
        guard word & highs == 0 else { return false }
        // A byte's high bit after adding 0x80 - n is set when the byte is at least n.
        let lower = word | ones &* 0x20  // letters of either case, and only they, land in a–z
        let letter = (lower &+ ones &* (0x80 - 0x61)) & ~(lower &+ ones &* (0x80 - 0x7B))
        let digit = (word &+ ones &* (0x80 - 0x30)) & ~(word &+ ones &* (0x80 - 0x3A))
        let notDash = word ^ (ones &* 0x2D)
        let dash = ~(((notDash & ~highs) &+ ~highs) | notDash)  // high bit set where the byte is 0
        return (letter | digit | dash) & highs == highs
    }

    /// `word` with its ASCII capitals made small, every other byte as it is; exact for any
    /// bytes (each byte's test stays within it).
    @inline(__always)
    static func lowercased(word: UInt64) -> UInt64 {
        let low7 = word & ~highs
        let capital = (low7 &+ ones &* (0x80 - 0x41)) & ~(low7 &+ ones &* (0x80 - 0x5B)) & ~word & highs
        return word | capital >> 2
    }

    /// `OWS` / `BWS` element: SP or HTAB.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == sp || byte == htab }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// The value of a hexadecimal digit, or nil (RFC 9112 §7.1 `chunk-size = 1*HEXDIG`).
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// ASCII lower-casing of letters; other bytes unchanged.
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}

extension UnsafeRawBufferPointer {
    /// Whether the bytes in `range` equal `lowercaseASCII` ignoring ASCII case. No allocation.
    /// (Public for handlers that check a field's value where it arrived.)
    @inlinable
    public func equalsIgnoringCase(_ range: Range<Int>, _ lowercaseASCII: StaticString) -> Bool {
        equalsIgnoringCase(range, UnsafeRawBufferPointer(start: lowercaseASCII.utf8Start, count: lowercaseASCII.utf8CodeUnitCount))
    }

    /// Whether the bytes in `range` equal `other` ignoring ASCII case (a capital and its small
    /// letter are equal, no other two different bytes are).
    @usableFromInline
    func equalsIgnoringCase(_ range: Range<Int>, _ other: UnsafeRawBufferPointer) -> Bool {
        let count = other.count
        guard range.count == count else { return false }
        if count >= 8 {
            // Eight bytes at a time, the last eight overlapping the ones before when the
            // length is not a multiple of eight.
            var offset = 0
            while true {
                let at = Swift.min(offset, count - 8)
                let word = loadUnaligned(fromByteOffset: range.lowerBound + at, as: UInt64.self)
                let expected = other.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                guard word == expected || ByteClass.lowercased(word: word) == ByteClass.lowercased(word: expected) else {
                    return false
                }
                if at == count - 8 { return true }
                offset += 8
            }
        }
        var offset = 0
        for index in range {
            if ByteClass.lowercased(self[index]) != ByteClass.lowercased(other[offset]) { return false }
            offset += 1
        }
        return true
    }

    /// A String of the bytes in `range` (invalid UTF-8, obs-text, becomes U+FFFD); a long one
    /// this thread made recently is that string (`RecentStrings`).
    @inline(__always)
    func string(_ range: Range<Int>) -> String {
        RecentStrings.string(UnsafeRawBufferPointer(rebasing: self[range]))
    }

    /// The bytes in `range` as a string, the literal itself when they are exactly one of
    /// `common` (no decoding, no validation: methods and header names nearly every request
    /// carries); otherwise as `string(_:)` makes it.
    @inline(__always)
    func string(_ range: Range<Int>, common: KnownMembers) -> String {
        CommonStrings.match(UnsafeRawBufferPointer(rebasing: self[range]), in: common) ?? string(range)
    }
}
