import Posix

/// Term counts per column of one text block on the scoring path: a count and a bit per column,
/// and a bit per 64 columns over those, all zero between uses, in memory the calling thread
/// keeps from call to call (so scoring allocates nothing once warm). Reading the bits in order
/// hands the columns out sorted in time proportional to how many there are, where sorting the
/// hits cost a radix sort (two passes and four scans of 256 counters for a title's 300 char
/// n-grams); the additions after it stay in column order, as the feature vector's, so scores
/// are the same to the last bit.
///
/// Confined to its thread: created, used and freed on it (`forCurrentThread`), never shared.
final class ColumnCounter {
    /// Columns each count, bit and summary bit has room for.
    private var capacity = 0
    private var counts: UnsafeMutablePointer<Int32>
    /// Bit c of word c / 64: column c was counted (its count may have come back to 0 under
    /// alternate-sign hashing).
    private var words: UnsafeMutablePointer<UInt64>
    /// Bit w of summary word w / 64: `words[w]` is not 0.
    private var summary: UnsafeMutablePointer<UInt64>
    /// Room for a block's weighted columns between counting and normalising.
    private var mergedCapacity = 0
    private(set) var mergedColumns: UnsafeMutablePointer<Int32>
    private(set) var mergedValues: UnsafeMutablePointer<Double>

    /// Blocks wider than this sort their hits instead: their counter would keep megabytes on
    /// every thread that scores (a hashing space of 2^20 columns, say).
    static let maximumWidth = 1 << 18

    private init() {
        counts = .allocate(capacity: 1)
        words = .allocate(capacity: 1)
        summary = .allocate(capacity: 1)
        mergedColumns = .allocate(capacity: 1)
        mergedValues = .allocate(capacity: 1)
    }

    deinit {
        counts.deallocate()
        words.deallocate()
        summary.deallocate()
        mergedColumns.deallocate()
        mergedValues.deallocate()
    }

    /// Makes `mergedColumns` and `mergedValues` hold at least `count` entries (their content
    /// is not kept).
    func reserveMerged(_ count: Int) {
        guard mergedCapacity < count else { return }
        let capacity = max(count, 2 * mergedCapacity, 256)
        mergedColumns.deallocate()
        mergedValues.deallocate()
        mergedColumns = .allocate(capacity: capacity)
        mergedValues = .allocate(capacity: capacity)
        mergedCapacity = capacity
    }

    /// The calling thread's counter with room for `width` ≤ `maximumWidth` columns, all zero.
    static func forCurrentThread(width: Int) -> ColumnCounter {
        let counter = perThread.current
        if counter.capacity < width { counter.grow(to: width) }
        return counter
    }

    private static let perThread = PerThread { ColumnCounter() }

    private func grow(to width: Int) {
        let capacity = (width + 4095) & ~4095  // whole summary words
        counts.deallocate()
        words.deallocate()
        summary.deallocate()
        counts = .allocate(capacity: capacity)
        counts.initialize(repeating: 0, count: capacity)
        words = .allocate(capacity: capacity / 64)
        words.initialize(repeating: 0, count: capacity / 64)
        summary = .allocate(capacity: capacity / 4096)
        summary.initialize(repeating: 0, count: capacity / 4096)
        self.capacity = capacity
    }

    /// Adds `delta` to `column`'s count (column < the width asked for).
    @inline(__always)
    func add(_ column: Int32, _ delta: Int32) {
        let c = Int(column)
        counts[c] &+= delta
        let w = c &>> 6
        words[w] |= 1 &<< UInt64(c & 63)
        summary[w &>> 6] |= 1 &<< UInt64(w & 63)
    }

    /// Each counted column below `width` with its count, in increasing column order, until
    /// `body` says stop; whether every column was handed over. Zeroes what it reads (all of
    /// it, even after a stop), so the counter is ready for the next block in one pass.
    @inline(__always)
    func takeCounts(width: Int, _ body: (Int32, Int32) -> Bool) -> Bool {
        var handing = true
        let summaryCount = (width + 4095) / 4096
        for s in 0..<summaryCount {
            var summaryBits = summary[s]
            summary[s] = 0
            while summaryBits != 0 {
                let w = s &<< 6 | summaryBits.trailingZeroBitCount
                summaryBits &= summaryBits &- 1
                var bits = words[w]
                words[w] = 0
                while bits != 0 {
                    let c = w &<< 6 | bits.trailingZeroBitCount
                    bits &= bits &- 1
                    let count = counts[c]
                    counts[c] = 0
                    if handing { handing = body(Int32(truncatingIfNeeded: c), count) }
                }
            }
        }
        return handing
    }
}
