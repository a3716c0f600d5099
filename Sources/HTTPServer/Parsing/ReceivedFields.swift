/// A request's field lines as they arrived, in one buffer: each field's name and value as
/// offsets, then the head's bytes from its first field line to its end. A string is made
/// only for a field that is looked up (or when every field is asked for), where making a name
/// and a value string for each field on every request was a fifth of the head's cost.
///
/// The connection reuses the buffer (`RequestStorage`), emptied and zeroed, so that a
/// credential's bytes do not outlive their request there.
struct ReceivedFields: Sendable {
    /// The field count (a little-endian `UInt32`), four `UInt32`s a field (name start, name
    /// end, value start, value end, offsets into this buffer), then the field lines' bytes.
    /// One array: headers holding it are one reference wide.
    private(set) var buffer: [UInt8]

    /// The fields at `ranges` (offsets into `bytes`, in arrival order) with the bytes in
    /// `lines` that hold them, written into the buffer taken from `storage` (emptied first,
    /// its room kept; `storage` is left empty). Taken by a swap: a buffer passed as a value
    /// was a second reference, and emptying it made a new one.
    init(
        _ ranges: [(name: Range<Int>, value: Range<Int>)], in bytes: UnsafeRawBufferPointer,
        lines: Range<Int>, reusing storage: inout [UInt8]
    ) {
        var buffer: [UInt8] = []
        swap(&buffer, &storage)
        if !buffer.isEmpty { buffer.removeAll(keepingCapacity: true) }
        let words = 1 + 4 * ranges.count
        buffer.reserveCapacity(4 * words + lines.count)
        // Moved from where the lines are in `bytes` to where they are in the buffer.
        let shift = 4 * words - lines.lowerBound
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: words) { words in
            words[0] = UInt32(ranges.count).littleEndian
            var at = 1
            for field in ranges {
                words[at] = UInt32(field.name.lowerBound + shift).littleEndian
                words[at + 1] = UInt32(field.name.upperBound + shift).littleEndian
                words[at + 2] = UInt32(field.value.lowerBound + shift).littleEndian
                words[at + 3] = UInt32(field.value.upperBound + shift).littleEndian
                at += 4
            }
            buffer.append(contentsOf: UnsafeRawBufferPointer(words))
        }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[lines]))
        self.buffer = buffer
    }

    /// Fields held.
    var count: Int { buffer.withUnsafeBytes(Self.count(in:)) }

    /// The field count in `bytes` (this buffer's; none when it is empty, taken).
    @inline(__always)
    private static func count(in bytes: UnsafeRawBufferPointer) -> Int {
        bytes.isEmpty ? 0 : Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
    }

    /// Field `k`'s name and value, as ranges of `bytes` (this buffer's).
    @inline(__always)
    private func ranges(_ k: Int, in bytes: UnsafeRawBufferPointer) -> (name: Range<Int>, value: Range<Int>) {
        let at = 4 + 16 * k
        func offset(_ j: Int) -> Int { Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 4 * j, as: UInt32.self))) }
        return (offset(0)..<offset(1), offset(2)..<offset(3))
    }

    /// Every field, as strings.
    func fields() -> [HTTPField] {
        buffer.withUnsafeBytes { bytes in
            (0..<Self.count(in: bytes)).map { k in
                let (name, value) = ranges(k, in: bytes)
                return HTTPField(name: bytes.string(name, common: CommonStrings.fieldNames), value: Self.value(value, of: name, in: bytes))
            }
        }
    }

    /// The values of the fields called `name` (ASCII case ignored), in arrival order.
    func values(named name: String) -> [String] {
        var found: [String] = []
        _ = eachField(named: name) { bytes, fieldName, value -> Void? in
            found.append(Self.value(value, of: fieldName, in: bytes))
            return nil
        }
        return found
    }

    /// The first value of `name`, or nil.
    func value(named name: String) -> String? {
        eachField(named: name) { bytes, fieldName, value in Self.value(value, of: fieldName, in: bytes) }
    }

    /// `body` on the bytes of the first value of `name`, or nil.
    func withFirstValue<Result>(named name: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        eachField(named: name) { bytes, _, value in
            UnsafeRawBufferPointer(rebasing: bytes[value]).withMemoryRebound(to: UInt8.self, body)
        }
    }

    /// `body` on this buffer's bytes and the name and value ranges of each field called `name`
    /// (ASCII case ignored), in arrival order, until it returns a result; nil when it never
    /// does.
    @inline(__always)
    private func eachField<Result>(
        named name: String, _ body: (UnsafeRawBufferPointer, Range<Int>, Range<Int>) -> Result?
    ) -> Result? {
        withBytes(of: name) { wanted in
            buffer.withUnsafeBytes { bytes -> Result? in
                for k in 0..<Self.count(in: bytes) {
                    let (fieldName, value) = ranges(k, in: bytes)
                    if fieldName.count == wanted.count, bytes.equalsIgnoringCase(fieldName, UnsafeRawBufferPointer(wanted)),
                       let result = body(bytes, fieldName, value) {
                        return result
                    }
                }
                return nil
            }
        }
    }

    /// A value as a string: a credential's made afresh (never kept among the thread's recent
    /// strings, `HeadScanner.isCredential`), any other's as `string(_:)` makes it.
    private static func value(_ value: Range<Int>, of name: Range<Int>, in bytes: UnsafeRawBufferPointer) -> String {
        HeadScanner.isCredential(name, in: bytes)
            ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value]), as: UTF8.self)
            : bytes.string(value)
    }

    /// Takes the buffer out (leaving these empty), zeroed and emptied with its room kept, for
    /// the connection's next head.
    mutating func takeBuffer() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &buffer)
        taken.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        taken.removeAll(keepingCapacity: true)
        return taken
    }
}

/// Calls `body` with `text`'s UTF-8: a native string's own bytes, any other's copied.
@inline(__always)
private func withBytes<Result>(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
    if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
    return Array(text.utf8).withUnsafeBufferPointer(body)
}
