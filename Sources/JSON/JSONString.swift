/// JSON string encoding (RFC 8259 §7): quotes, backslash and C0 controls escaped; everything
/// else (including non-ASCII) passes through as UTF-8.
public enum JSONString {
    /// Copies runs of bytes that need no escaping in one go (titles and ids are mostly such
    /// runs), escaping only `"`, `\\` and C0 controls.
    public static func append(_ string: String, to out: inout [UInt8]) {
        // The string's own storage, borrowed: a `var` copy for `withUTF8` retained it, and the
        // model names and labels written into every response are shared by all threads.
        if string.utf8.withContiguousStorageIfAvailable({ append(utf8: $0, to: &out) }) == nil {
            var copy = string
            copy.withUTF8 { append(utf8: $0, to: &out) }
        }
    }

    /// `append` of a string given as its UTF-8 bytes (which must be valid UTF-8).
    public static func append(utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(utf8, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var runStart = 0
        var i = 0
        while i < utf8.count {
            // Eight bytes at a time while none of them needs escaping.
            if i + 8 <= utf8.count, !needsEscape(UnsafeRawPointer(utf8.baseAddress! + i).loadUnaligned(as: UInt64.self)) {
                i += 8
                continue
            }
            let byte = utf8[i]
            i += 1
            guard needsEscape(byte: byte) else { continue }
            let escaped = i - 1
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<escaped]))
            out.append(0x5C)
            switch byte {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                out.append(UInt8(ascii: "u"))
                out.append(0x30)
                out.append(0x30)
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0xF))
            }
            runStart = i
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
    }

    /// Whether any byte of `utf8` needs an escape: the test `append` makes, for writers that
    /// copy plain text as it is.
    public static func needsEscaping(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i + 8 <= utf8.count {
            if needsEscape(UnsafeRawPointer(utf8.baseAddress! + i).loadUnaligned(as: UInt64.self)) { return true }
            i += 8
        }
        while i < utf8.count {
            if needsEscape(byte: utf8[i]) { return true }
            i += 1
        }
        return false
    }

    /// A C0 control, `"` or `\\`.
    @inline(__always)
    static func needsEscape(byte: UInt8) -> Bool { byte < 0x20 || byte == 0x22 || byte == 0x5C }

    /// Whether any of the eight bytes of `word` is a C0 control, `"` or `\\` (the classic
    /// zero-byte tests: a byte below 0x20, a byte equal to 0x22 or 0x5C). Bytes of 0x80 and
    /// above never match (UTF-8 passes through).
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        return control | hasZeroByte(word ^ (ones &* 0x22)) | hasZeroByte(word ^ (ones &* 0x5C)) != 0
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    public static func encode(_ string: String) -> String {
        var out: [UInt8] = []
        append(string, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
