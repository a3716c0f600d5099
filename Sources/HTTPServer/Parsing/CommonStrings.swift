#if canImport(JSON)
import JSON
#endif
#if canImport(Posix)
import Posix
#endif
import Glibc

/// Strings the parser meets on nearly every request: a token equal to one byte for byte
/// (case included: a name keeps the case it arrived in) becomes that string without being
/// decoded again. Matched as the JSON walker matches member names (`KnownMembers`).
enum CommonStrings {
    /// Methods the routes serve.
    static let methods = KnownMembers("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS")
    /// Header names clients send most, as they spell them.
    static let fieldNames = KnownMembers(
        "Host", "User-Agent", "Accept", "Content-Type", "Content-Length", "Connection", "Accept-Encoding",
        "X-Request-Id", "Authorization", "Expect", "Transfer-Encoding", "Inference-Header-Content-Length",
        "host", "user-agent", "accept", "content-type", "content-length", "connection", "accept-encoding",
        "x-request-id", "authorization")

    /// The string of `common` whose bytes are `token`'s, or nil.
    static func match(_ token: UnsafeRawBufferPointer, in common: KnownMembers) -> String? {
        common.index(of: token.assumingMemoryBound(to: UInt8.self)).map { common.names[$0] }
    }
}

/// Head strings that this thread made recently, by their bytes (a predict's target,
/// `application/json`, a client's User-Agent, its Host). A client sends the same ones on
/// every request, and a repeated one is the kept string (a retain, or nothing for one short
/// enough to be stored inline) instead of a new one (a UTF-8 check and, for a long one, an
/// allocation and a free when the request ends). Direct-mapped by a hash of the bytes, 64
/// entries a thread, strings up to 256 bytes.
/// A kept string is returned only when its UTF-8 is exactly the bytes, which then decode to it.
/// Credentials (`Authorization`, `Proxy-Authorization`, `Cookie`, `X-Api-Key` values) are
/// never kept (`HeadScanner.isCredential`).
final class RecentStrings {
    private static let perThread = PerThread { RecentStrings() }
    static let slotCount = 64
    static let longest = 256

    private var entries: [String?] = Array(repeating: nil, count: RecentStrings.slotCount)

    /// The bytes as a string (invalid UTF-8, obs-text, becomes U+FFFD): the calling thread's
    /// kept one when it is.
    @inline(__always)
    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        if bytes.isEmpty { return "" }
        guard bytes.count <= longest else { return String(decoding: bytes, as: UTF8.self) }
        return perThread.withCurrent { $0.kept(bytes) }
    }

    /// Tests: whether the calling thread keeps `text`.
    static func testsOnly_keeps(_ text: String) -> Bool { perThread.current.entries.contains { $0 == text } }

    private func kept(_ bytes: UnsafeRawBufferPointer) -> String {
        let slot = ByteSlots.slot(of: bytes, slotCount: Self.slotCount)
        if let kept = entries[slot], kept.utf8.count == bytes.count,
            kept.utf8.withContiguousStorageIfAvailable({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) == true
        {
            return kept
        }
        let made = String(decoding: bytes, as: UTF8.self)
        entries[slot] = made
        return made
    }
}

/// Where bytes go in a small direct-mapped table (the per-thread `RecentStrings` and
/// `ResolvedRoutes`): FNV-1a over the bytes, folded to `slotCount`, a power of two.
enum ByteSlots {
    @inline(__always)
    static func slot(of bytes: UnsafeRawBufferPointer, slotCount: Int) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int(truncatingIfNeeded: (hash ^ hash >> 32) & UInt64(slotCount - 1))
    }
}
