/// Decimal digits of an integer appended straight to a byte buffer: status codes, lengths and
/// JSON numbers are written on every response, and `String(value)` on the way costs more
/// than the rest of writing a small header.
public enum DecimalDigits {
    public static func append(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let n = value.magnitude
        var scale: UInt = 1
        while scale <= n / 10 { scale *= 10 }
        var rest = n
        while scale > 0 {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / scale))
            rest %= scale
            scale /= 10
        }
    }

    /// `value` rounded to thousandths, written as the shortest JSON number that reads back
    /// as that rounded value (`12`, `0.5`, `3.142`), like `JSONWriter.number` would write it,
    /// for durations in milliseconds. Values whose thousandths do not fit an Int are the
    /// caller's to write otherwise.
    public static func appendThousandths(_ value: Double, to out: inout [UInt8]) {
        let thousandths = Int((value * 1000).rounded())
        if thousandths < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = Int(thousandths.magnitude)
        append(magnitude / 1000, to: &out)
        var fraction = magnitude % 1000
        guard fraction != 0 else { return }
        out.append(UInt8(ascii: "."))
        var scale = 100
        while fraction != 0 {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction / scale))
            fraction %= scale
            scale /= 10
        }
    }
}
