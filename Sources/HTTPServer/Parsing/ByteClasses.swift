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
        // Low word covers 0x00–0x3F, high word 0x40–0x7F.
        let low: UInt64 = 0x03FF_6CFA_0000_0000  // ! # $ % & ' * + - . 0-9
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE // A-Z ^ _ ` a-z | ~
        if byte < 64 { return (low >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (high >> UInt64(byte - 64)) & 1 == 1 }
        return false
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
    @inline(__always)
    func equalsIgnoringCase(_ range: Range<Int>, _ lowercaseASCII: StaticString) -> Bool {
        guard range.count == lowercaseASCII.utf8CodeUnitCount else { return false }
        let expected = lowercaseASCII.utf8Start
        var offset = 0
        for index in range {
            if ByteClass.lowercased(self[index]) != expected[offset] { return false }
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
