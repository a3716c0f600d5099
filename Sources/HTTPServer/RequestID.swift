import Synchronization

/// Request ids for `X-Request-Id`: the client's when it is sane (1–128 visible ASCII
/// characters), else a new one — a per-process random prefix and a counter. The encoder
/// adds a new one to any response that has none (parse errors, timeouts, overload), so
/// every response carries one.
public enum RequestID {
    public static let headerName = "X-Request-Id"

    /// The prefix's bytes (at most 8 hex digits, little-endian in one word) and its length,
    /// so that an id copies them rather than walking a string's UTF-8 view.
    private static let prefix: (bytes: UInt64, count: Int) = {
        var generator = SystemRandomNumberGenerator()
        let text = String(UInt32.random(in: .min ... .max, using: &generator), radix: 16)
        var word: UInt64 = 0
        for (k, byte) in text.utf8.enumerated() { word |= UInt64(byte) << (8 * UInt64(k)) }
        return (word, text.utf8.count)
    }()
    private static let counter = Atomic<UInt64>(0)

    /// The client's id if it sent a usable one, else a new id.
    public static func take(from headers: HTTPHeaders) -> String {
        if let sent = headers[headerName], !sent.isEmpty, sent.utf8.count <= 128,
           sent.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return sent
        }
        return generate()
    }

    /// `<prefix>-<counter in hex>`, written into the string's own storage: up to 15 bytes
    /// (the first 16 million ids of a process) it is a small string, with no allocation.
    public static func generate() -> String {
        let next = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let digits = max(1, (UInt64.bitWidth - next.leadingZeroBitCount + 3) / 4)
        let hex: StaticString = "0123456789abcdef"
        let prefix = Self.prefix
        return String(unsafeUninitializedCapacity: prefix.count + 1 + digits) { buffer in
            var at = 0
            var word = prefix.bytes
            while at < prefix.count {
                buffer[at] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                at += 1
            }
            buffer[at] = UInt8(ascii: "-")
            at += 1
            for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                buffer[at] = hex.utf8Start[Int((next >> UInt64(shift)) & 0xF)]
                at += 1
            }
            return at
        }
    }
}
