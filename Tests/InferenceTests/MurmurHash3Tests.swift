import Testing
@testable import Inference

@Suite(.timeLimit(.minutes(10))) struct MurmurHash3Tests {
    /// Published MurmurHash3_x86_32 vectors (SMHasher-verified list).
    @Test func matchesPublishedVectors() {
        #expect(MurmurHash3.hash32([UInt8](), seed: 0) == 0)
        #expect(MurmurHash3.hash32([UInt8](), seed: 1) == 0x514E_28B7)
        #expect(MurmurHash3.hash32([UInt8](), seed: 0xFFFF_FFFF) == 0x81F1_6F39)
        #expect(MurmurHash3.hash32([0, 0, 0, 0], seed: 0) == 0x2362_F9DE)
        #expect(MurmurHash3.hash32("aaaa", seed: 0x9747_B28C) == 0x5A97_808A)
        #expect(MurmurHash3.hash32("aaa", seed: 0x9747_B28C) == 0x283E_0130)
        #expect(MurmurHash3.hash32("a", seed: 0x9747_B28C) == 0x7FA0_9EA6)
        #expect(MurmurHash3.hash32("abc", seed: 0) == 0xB3DD_93FA)
        #expect(MurmurHash3.hash32("Hello, world!", seed: 0x9747_B28C) == 0x2488_4CBA)
        #expect(MurmurHash3.hash32("The quick brown fox jumps over the lazy dog", seed: 0x9747_B28C) == 0x2FA8_26CD)
    }

    /// scikit-learn's own test: `murmurhash3_32(b"foo", 0) == -156908512`, seed 42 → -1322301282.
    @Test func matchesScikitLearnSignedValues() {
        #expect(Int32(bitPattern: MurmurHash3.hash32("foo")) == -156_908_512)
        #expect(Int32(bitPattern: MurmurHash3.hash32("foo", seed: 42)) == -1_322_301_282)
    }

    @Test func hashesTermsAsUTF8() {
        #expect(Int32(bitPattern: MurmurHash3.hash32("ação")) == -206_526_165)
        #expect(MurmurHash3.hashingColumn("ação", nFeatures: 16) == (5, -1))
        #expect(MurmurHash3.hashingColumn("pistola", nFeatures: 16) == (9, 1))
    }
}
