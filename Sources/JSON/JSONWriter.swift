/// Appends compact JSON to a byte buffer. Responses are built straight into bytes, with no
/// intermediate tree when the caller knows the shape (the predict path), or from a JSONValue.
public struct JSONWriter {
    /// Internal so that `raw(_:)` can inline; clients read `bytes`.
    @usableFromInline var storage: [UInt8]

    public var bytes: [UInt8] { storage }

    public init(capacity: Int = 256) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    /// Writes after what `storage` holds (an empty buffer to reuse, say), with room for
    /// `capacity` bytes in all.
    public init(appendingTo storage: [UInt8], capacity: Int) {
        self.storage = storage
        self.storage.reserveCapacity(capacity)
    }

    /// A literal of up to four bytes (most are one: `]`, `,`, `}`) is appended byte by byte,
    /// inlined, at a few instructions a byte; longer ones take one bulk append (~60).
    @inlinable @inline(__always)
    public mutating func raw(_ text: StaticString) {
        let count = text.utf8CodeUnitCount
        if count <= 4 {
            let start = text.utf8Start
            for k in 0..<count { storage.append(start[k]) }
        } else {
            raw(bytes: UnsafeRawBufferPointer(start: text.utf8Start, count: count))
        }
    }

    /// Bytes the caller knows to be valid JSON where they go (digits, a pre-escaped string).
    public mutating func raw(bytes more: UnsafeRawBufferPointer) {
        storage.append(contentsOf: more)
    }

    /// RFC 8259 string escaping, shared with the problem+json encoder.
    public mutating func string(_ value: String) {
        JSONString.append(value, to: &storage)
    }

    /// `string` of valid UTF-8 bytes.
    public mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        JSONString.append(utf8: utf8, to: &storage)
    }

    /// Shortest round-tripping form; integral values within 2^53 print without a fraction.
    /// Non-finite values cannot be JSON and are written as null.
    public mutating func number(_ value: Double) {
        guard value.isFinite else { return raw("null") }
        if value.rounded() == value, abs(value) < 9.007_199_254_740_992e15 {
            DecimalDigits.append(Int(value), to: &storage)
        } else {
            // The standard library's shortest form (what `description` says), written as the
            // ASCII digits it formats on the stack: `description` would make a String first,
            // a heap allocation for any form longer than 15 characters (most scores).
            var sink = ASCIIAppender()
            swap(&sink.bytes, &storage)
            value.write(to: &sink)
            swap(&sink.bytes, &storage)
        }
    }

    /// `value` rounded to thousandths (durations in milliseconds), as `number` would write
    /// the rounded value; outside ±9e12 (or not finite) it goes through `number`.
    public mutating func thousandths(_ value: Double) {
        guard value.isFinite, abs(value) < 9e12 else { return number((value * 1000).rounded() / 1000) }
        DecimalDigits.appendThousandths(value, to: &storage)
    }

    public mutating func number(_ value: Int) {
        DecimalDigits.append(value, to: &storage)
    }

    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    public mutating func null() { raw("null") }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let elements):
            storage.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { storage.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            storage.append(UInt8(ascii: "]"))
        case .object(let object):
            storage.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { storage.append(UInt8(ascii: ",")) }
                string(member.key)
                storage.append(UInt8(ascii: ":"))
                self.value(member.value)
            }
            storage.append(UInt8(ascii: "}"))
        }
    }

    public static func encode(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(value)
        return writer.bytes
    }
}

/// Receives what `TextOutputStreamable.write(to:)` writes, straight into bytes. Floating-point
/// types hand it their digits through `_writeASCII`, the stream requirement meant for this.
private struct ASCIIAppender: TextOutputStream {
    var bytes: [UInt8] = []

    mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
}
