/// One input value as the pipeline sees it. JSON null and absent keys are `.missing`;
/// JSON integers are `.number`.
public enum FeatureValue: Sendable, Equatable, Hashable {
    case string(FeatureText)
    case number(Double)
    case bool(Bool)
    case missing

    /// A string value.
    @inline(__always)
    public static func string(_ text: String) -> FeatureValue { .string(FeatureText(text)) }
}

/// A string value's text: a `String`, or UTF-8 bytes in a `TextBuffer` that a request thread
/// fills again for its next request once no value refers to it, so that a warm predict of a
/// title longer than a small string's bytes (`smallStringBytes`) allocates nothing. Equal and hashed as the
/// `String` of its bytes, whichever form it has.
public struct FeatureText: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    @usableFromInline
    enum Storage: Sendable {
        case string(String)
        case buffer(TextBuffer)
    }

    @usableFromInline
    let storage: Storage

    @inlinable
    public init(_ string: String) { storage = .string(string) }

    public init(stringLiteral value: String) { self.init(value) }

    /// The most UTF-8 bytes a `String` holds inline, without a heap allocation (64-bit).
    public static let smallStringBytes = 15

    /// The bytes in `buffer` (`TextBuffer.holding`, which writes only a buffer nothing holds).
    public init(buffer: TextBuffer) { storage = .buffer(buffer) }

    /// The text as a `String` (a buffer's bytes copied into one).
    public var string: String {
        switch storage {
        case .string(let s): s
        case .buffer(let b): b.withUTF8 { String(decoding: $0, as: UTF8.self) }
        }
    }

    public var description: String { string }

    /// The buffer holding the text, when it is held in one (for taking it back).
    @inlinable
    public var buffer: TextBuffer? {
        if case .buffer(let b) = storage { return b }
        return nil
    }

    /// The number of UTF-8 bytes.
    @inlinable
    public var utf8Count: Int {
        switch storage {
        case .string(let s): s.utf8.count
        case .buffer(let b): b.count
        }
    }

    /// Calls `body` with the text's UTF-8, valid during the call: a String's own storage
    /// borrowed where it is contiguous (a `var` copy for `String.withUTF8` would retain it),
    /// else a contiguous copy.
    @inlinable @inline(__always)
    public func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        switch storage {
        case .string(let s):
            if let result = try s.utf8.withContiguousStorageIfAvailable(body) { return result }
            var contiguous = s
            return try contiguous.withUTF8(body)
        case .buffer(let b):
            return try b.withUTF8(body)
        }
    }

    public static func == (lhs: FeatureText, rhs: FeatureText) -> Bool {
        if case .string(let a) = lhs.storage, case .string(let b) = rhs.storage { return a == b }
        return lhs.string == rhs.string
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(string) }
}

/// UTF-8 bytes on the heap, written by the one thread that holds the only reference
/// (`isKnownUniquelyReferenced`) and read-only once a `FeatureText` holds it: the
/// copy-on-write rule of Swift's own collections, checked by hand, which is what makes it
/// safe to share (`@unchecked Sendable`).
public final class TextBuffer: @unchecked Sendable {
    @usableFromInline let bytes: UnsafeMutablePointer<UInt8>
    /// Bytes it can hold.
    public let capacity: Int
    /// Bytes it holds. Unchecked: the rule above keeps writes exclusive, and the run-time
    /// check cost more than the copy it guards.
    @exclusivity(unchecked) @usableFromInline
    private(set) var count = 0

    /// Room for `capacity` bytes (at least 1).
    private init(capacity: Int) {
        self.capacity = max(1, capacity)
        bytes = .allocate(capacity: self.capacity)
    }

    deinit { bytes.deallocate() }

    /// A buffer holding `utf8` (valid UTF-8): `kept`, written again, when nothing else holds
    /// it and it has room; otherwise a new one of at least `minimumCapacity` bytes. The one
    /// place a buffer is written, so the rule above holds.
    public static func holding(_ utf8: UnsafeBufferPointer<UInt8>, reusing kept: inout TextBuffer?,
                               minimumCapacity: Int) -> TextBuffer {
        if kept == nil || !isKnownUniquelyReferenced(&kept!) || kept.unsafelyUnwrapped.capacity < utf8.count {
            kept = TextBuffer(capacity: max(utf8.count, minimumCapacity))
        }
        kept.unsafelyUnwrapped.fill(with: utf8)
        return kept.unsafelyUnwrapped
    }

    /// Replaces the contents with `utf8`, which fits.
    private func fill(with utf8: UnsafeBufferPointer<UInt8>) {
        precondition(utf8.count <= capacity, "text fits its buffer")
        if let source = utf8.baseAddress { bytes.update(from: source, count: utf8.count) }
        count = utf8.count
    }

    @inlinable @inline(__always)
    public func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: bytes, count: count))
    }
}

extension FeatureValue: Codable {
    /// Decodes a JSON scalar: null → `.missing`, true/false → `.bool`, number → `.number`,
    /// string → `.string`. Arrays and objects are rejected.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .missing
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a string, number, boolean or null")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s.string)
        case .number(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .missing: try c.encodeNil()
        }
    }
}
