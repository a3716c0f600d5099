/// MurmurHash3_x86_32 (Austin Appleby), the hash scikit-learn's `HashingVectorizer` and
/// `FeatureHasher` use (`sklearn.utils.murmurhash3_32`, seed 0, signed result).
public enum MurmurHash3 {
    /// The 32-bit hash of `bytes` with `seed` (unsigned; reinterpret as `Int32` for scikit-learn's
    /// signed value).
    public static func hash32(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt32 = 0) -> UInt32 {
        let c1: UInt32 = 0xcc9e_2d51, c2: UInt32 = 0x1b87_3593
        var h = seed
        let blockCount = bytes.count / 4
        for block in 0..<blockCount {
            let i = block * 4
            var k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            k &*= c1
            k = (k << 15) | (k >> 17)
            k &*= c2
            h ^= k
            h = (h << 13) | (h >> 19)
            h = h &* 5 &+ 0xe654_6b64
        }
        let tail = blockCount * 4
        var k: UInt32 = 0
        switch bytes.count & 3 {
        case 3:
            k ^= UInt32(bytes[tail + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(bytes[tail + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(bytes[tail])
            k &*= c1
            k = (k << 15) | (k >> 17)
            k &*= c2
            h ^= k
        default:
            break
        }
        h ^= UInt32(truncatingIfNeeded: bytes.count)
        h ^= h >> 16
        h &*= 0x85eb_ca6b
        h ^= h >> 13
        h &*= 0xc2b2_ae35
        h ^= h >> 16
        return h
    }

    /// The hash of a byte array.
    public static func hash32(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { hash32($0, seed: seed) }
    }

    /// The hash of a string's UTF-8 bytes (what scikit-learn hashes for a term).
    public static func hash32(_ text: String, seed: UInt32 = 0) -> UInt32 {
        var text = text
        return text.withUTF8 { hash32($0, seed: seed) }
    }

    /// scikit-learn's column and sign for a term: h = signed hash; column = |h| mod n
    /// (2³¹ mod n for h = −2³¹); sign = +1 when h ≥ 0 else −1 (only used with alternate_sign).
    public static func hashingColumn(_ term: String, nFeatures: Int) -> (column: Int, sign: Double) {
        var term = term
        return term.withUTF8 { hashingColumn($0, nFeatures: nFeatures) }
    }

    /// `hashingColumn` for a term given as UTF-8 bytes.
    public static func hashingColumn(_ term: UnsafeBufferPointer<UInt8>, nFeatures: Int) -> (column: Int, sign: Double) {
        let h = Int32(bitPattern: hash32(term))
        let column = Int(Int64(h).magnitude % UInt64(nFeatures))
        return (column, h >= 0 ? 1 : -1)
    }
}
