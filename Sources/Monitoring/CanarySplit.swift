import Inference

/// Which listings a canary answers: a pure function of the listing id and the weight.
///
/// The id is hashed (FNV-1a, 64 bits, of its UTF-8 bytes) to a point in [0, 1); the listing
/// goes to the canary when the point is below the weight. So the same listing always gets
/// the same answer while the weight holds, and raising the weight only adds listings (one
/// in the canary at 5 % stays in it at 10 %). A listing without an id is never split.
public enum CanarySplit {
    /// The listing's point in [0, 1).
    public static func point(of id: FeatureText) -> Double {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        id.withUTF8 { bytes in
            for byte in bytes {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01B3
            }
        }
        // Mix the high bits down (FNV's low bits are weak for short keys), then keep 53 bits.
        hash ^= hash >> 33
        hash &*= 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return Double(hash >> 11) / Double(1 << 53)
    }

    /// Whether the canary answers the listing with this id at this weight.
    public static func goesToCanary(id: FeatureText?, weight: Double) -> Bool {
        guard let id, weight > 0 else { return false }
        return point(of: id) < weight
    }
}
