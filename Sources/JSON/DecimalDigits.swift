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

    /// How many bytes `value`'s digits (and sign) take.
    public static func count(_ value: Int) -> Int {
        var digits = 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return value < 0 ? digits + 1 : digits
    }

    /// Writes `value`'s digits (and sign) at `start`, into room the caller made (`count(value)`
    /// bytes); returns how many it wrote.
    public static func write(_ value: Int, to start: UnsafeMutablePointer<UInt8>) -> Int {
        let total = count(value)
        var position = start + total
        var rest = value.magnitude
        repeat {
            position -= 1
            position.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        if value < 0 { start.pointee = UInt8(ascii: "-") }
        return total
    }

    /// `value` rounded to thousandths, written as the shortest JSON number that reads back
    /// as that rounded value (`12`, `0.5`, `3.142`), like `JSONWriter.number` would write it,
    /// for durations in milliseconds. Values whose thousandths do not fit an Int are the
    /// caller's to write otherwise.
    public static func appendThousandths(_ value: Double, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { room in
            let written = write(thousandths: Int((value * 1000).rounded()), to: room.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: room[..<written]))
        }
    }

    /// `thousandths` / 1000 as the shortest JSON number that reads back as it, written at
    /// `start` into room for 21 bytes (sign, 19 digits, point); returns how many it wrote.
    public static func write(thousandths: Int, to start: UnsafeMutablePointer<UInt8>) -> Int {
        var at = start
        if thousandths < 0 {
            at.pointee = UInt8(ascii: "-")
            at += 1
        }
        let magnitude = thousandths.magnitude
        at += write(Int(magnitude / 1000), to: at)
        var fraction = Int(magnitude % 1000)
        guard fraction != 0 else { return at - start }
        at.pointee = UInt8(ascii: ".")
        at += 1
        var scale = 100
        while fraction != 0 {
            at.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction / scale)
            at += 1
            fraction %= scale
            scale /= 10
        }
        return at - start
    }
}
