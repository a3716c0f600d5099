#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Posix
import Synchronization

/// The hits of a word's `char_wb` n-grams in one text block, remembered by the scoring thread.
///
/// `char_wb` pads each word with a space on each side and never lets an n-gram cross it, so
/// what a word contributes to a block (which columns, with which sign) depends on the word and
/// the block alone. Listings repeat their words (a title's words are mostly among the site's
/// few thousand commonest), so a word seen before is replayed from here, one stored hit per
/// column, instead of hashing and looking up its n-grams again: about 30 lookups for an
/// 8-letter word at 2–4-grams. The counts that follow are integers added in any order, so
/// scores are the same to the last bit, cache or not. The same idea as the word caches of
/// subword tokenizers.
///
/// Bounded: at most `entryLimit` words, `wordCapacity` bytes of them and `hitCapacity` hits;
/// when one runs out, everything is forgotten at once (a generation count makes every slot
/// empty) and filling starts again. About 700 KB per scoring thread, allocated when it first
/// scores a `char_wb` block and freed when it exits.
///
/// Confined to its thread: created, used and freed on it (`forCurrentThread`), never shared.
final class WordHitCache {
    /// 32 bytes, two to a cache line.
    private struct Slot {
        var hash: UInt64 = 0
        var block: UInt64 = 0
        /// The slot holds an entry when this is the cache's `generation`.
        var generation: UInt32 = 0
        var hitStart: UInt32 = 0
        var wordStart: UInt16 = 0
        var hitCount: UInt16 = 0
        /// The word's n-grams, found or not.
        var terms: UInt16 = 0
        var wordLength: UInt8 = 0
    }

    /// A word's stored hits and how many n-grams it has.
    struct Entry {
        let hits: UnsafeBufferPointer<TermHit>
        let terms: Int
    }

    /// Slots, twice `entryLimit`, so that a probe meets an empty slot within a few steps.
    static let slotCount = 8192
    static let entryLimit = 4096
    /// Bytes of words (a slot's `wordStart` is 16 bits).
    static let wordCapacity = 64 * 1024
    /// About 20 hits a word of a title at 2–4-grams.
    static let hitCapacity = 96 * 1024
    /// Longer padded words (a URL, a run of digits) are not kept (a slot's `wordLength` is 8 bits).
    static let longestWord = 64

    private let slots: UnsafeMutablePointer<Slot>
    private let words: UnsafeMutablePointer<UInt8>
    private let hits: UnsafeMutablePointer<TermHit>
    private var generation: UInt32 = 1
    private var entries = 0
    private var wordsUsed = 0
    private var hitsUsed = 0
    /// Between `beginRecording` and `endRecording`: `record` keeps the hits it is given.
    private(set) var isRecording = false
    private var recordingStart = 0
    private var recordingOverflowed = false

    /// How often a word was found and how often it was not, since the thread's cache was made.
    private(set) var found = 0
    private(set) var missed = 0

    private init() {
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Slot(), count: Self.slotCount)
        words = .allocate(capacity: Self.wordCapacity)
        hits = .allocate(capacity: Self.hitCapacity)
    }

    deinit {
        slots.deallocate()
        words.deallocate()
        hits.deallocate()
    }

    /// The hits stored for `word` in `block`, if any.
    @inline(__always)
    func entry(block: UInt64, word: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Entry? {
        let mask = Self.slotCount - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].generation == generation {
            let slot = slots[index]
            if slot.hash == hash, slot.block == block, Int(slot.wordLength) == word.count,
                memcmp(words + Int(slot.wordStart), word.baseAddress!, word.count) == 0
            {
                found += 1
                return Entry(hits: UnsafeBufferPointer(start: hits + Int(slot.hitStart), count: Int(slot.hitCount)),
                             terms: Int(slot.terms))
            }
            index = (index + 1) & mask
        }
        missed += 1
        return nil
    }

    /// Starts keeping what `record` is given, for the word about to be walked.
    @inline(__always)
    func beginRecording() {
        isRecording = true
        recordingStart = hitsUsed
        recordingOverflowed = false
    }

    @inline(__always)
    func record(_ hit: TermHit) {
        guard hitsUsed < Self.hitCapacity else {
            recordingOverflowed = true
            return
        }
        hits[hitsUsed] = hit
        hitsUsed += 1
    }

    /// Stores the recorded hits as `word`'s in `block` (not found by `entry` just before), with
    /// its `terms`, when there is room; else forgets everything, so that the next words fill
    /// the cache again.
    func endRecording(block: UInt64, word: UnsafeBufferPointer<UInt8>, hash: UInt64, terms: Int) {
        isRecording = false
        let hitCount = hitsUsed - recordingStart
        guard word.count <= Self.longestWord, hitCount <= Int(UInt16.max), terms <= Int(UInt16.max) else {
            hitsUsed = recordingStart  // not kept; the cache still has room
            return
        }
        guard !recordingOverflowed, entries < Self.entryLimit, wordsUsed + word.count <= Self.wordCapacity else {
            clear()
            return
        }
        let mask = Self.slotCount - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].generation == generation { index = (index + 1) & mask }
        (words + wordsUsed).update(from: word.baseAddress!, count: word.count)
        slots[index] = Slot(hash: hash, block: block, generation: generation, hitStart: UInt32(recordingStart),
                            wordStart: UInt16(wordsUsed), hitCount: UInt16(hitCount), terms: UInt16(terms),
                            wordLength: UInt8(word.count))
        wordsUsed += word.count
        entries += 1
    }

    /// Forgets every entry.
    func clear() {
        if generation == .max {
            slots.update(repeating: Slot(), count: Self.slotCount)
            generation = 1
        } else {
            generation += 1
        }
        entries = 0
        wordsUsed = 0
        hitsUsed = 0
    }

    /// The calling thread's cache.
    static func forCurrentThread() -> WordHitCache { perThread.current }

    private static let perThread = PerThread { WordHitCache() }

    /// A number for each text block made in this process, never reused: a cache entry names
    /// its block by it, so that a block loaded where a freed one was (a new model version)
    /// cannot read the old one's hits.
    static func newBlockID() -> UInt64 {
        nextBlockID.add(1, ordering: .relaxed).newValue
    }

    private static let nextBlockID = Atomic<UInt64>(0)
}

/// What the calling thread's `char_wb` word cache has seen (benchmarks report the share found).
public enum WordHitCacheStatistics {
    /// Words found and words walked (not found) on this thread so far.
    public static var onThisThread: (found: Int, missed: Int) {
        let cache = WordHitCache.forCurrentThread()
        return (cache.found, cache.missed)
    }
}

/// A collector that also hands each hit to the thread's `WordHitCache` while it records.
struct RecordingHits<Base: HitCollector>: HitCollector {
    var base: Base
    let cache: WordHitCache

    @inline(__always)
    mutating func collect(_ hit: TermHit) {
        base.collect(hit)
        if cache.isRecording { cache.record(hit) }
    }
}
