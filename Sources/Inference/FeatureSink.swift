import CSystem
// Where a pipeline's output columns go: a SparseVector (explain, training, `features`) or
// straight into a dot product with the model's weights (predict), in the same order.

/// Receives a pipeline's non-zero columns in strictly increasing index order.
protocol FeatureSink {
    mutating func add(_ index: Int32, _ value: Double)
    /// The weights `add` reads at each index, if any: a text block starts loading a column's
    /// weight when it finds the column's term, well before it adds the column.
    var weights: UnsafePointer<Double>? { get }
}

extension FeatureSink {
    @inline(__always) var weights: UnsafePointer<Double>? { nil }
}

extension SparseVector: FeatureSink {
    @inline(__always)
    mutating func add(_ index: Int32, _ value: Double) {
        indices.append(index)
        values.append(value)
    }
}

/// Σ weights[index] × value over the columns as they arrive: the additions `SparseVector.dot`
/// makes, in its order, so the sum is the same to the last bit without the vector.
struct DotProductSink: FeatureSink {
    let base: UnsafePointer<Double>
    var sum = 0.0

    init(weights: UnsafePointer<Double>) {
        base = weights
    }

    @inline(__always)
    var weights: UnsafePointer<Double>? { base }

    @inline(__always)
    mutating func add(_ index: Int32, _ value: Double) {
        sum += base[Int(index)] * value
    }
}

/// One term found in a text block: its column shifted left by one, the low bit set for a
/// negative sign (hashing with `alternate_sign`). Sorting keys sorts by column.
typealias TermHit = UInt32

extension TermHit {
    @inline(__always) init(column: Int32, negative: Bool) { self = UInt32(bitPattern: column) << 1 | (negative ? 1 : 0) }
    @inline(__always) var column: Int32 { Int32(bitPattern: self >> 1) }
    @inline(__always) var sign: Int32 { self & 1 == 0 ? 1 : -1 }
    @inline(__always) var weight: Double { Double(sign) }
}

/// What a text block made of one value: its terms, found or not, and its hits (the terms
/// found in the vocabulary; every term, hashed).
struct TermTally {
    var terms: Int
    var hits: Int
}

/// Where a text block's hits go as its terms are looked up.
protocol HitCollector {
    mutating func collect(_ hit: TermHit)
}

/// A term visitor that turns terms into hits and can also take a hit found before.
protocol HitVisitor: TermVisitor {
    /// Terms visited, found or not (input skew monitoring compares the count with training's).
    var terms: Int { get set }
    mutating func collect(_ hit: TermHit)
}

/// What a block reads per column once its terms are found (idf, the model's weights), to
/// start loading as each column is found: a vocabulary larger than the caches misses on
/// them, and the loads then overlap the rest of the walk instead of queueing in the sum.
struct ColumnValues {
    let idf: UnsafePointer<Double>?
    /// The block's first column's weight.
    let weights: UnsafePointer<Double>?

    static var none: ColumnValues { ColumnValues(idf: nil, weights: nil) }

    @inline(__always)
    func expect(_ column: Int32) {
        if let idf { csystem_prefetch(idf + Int(column)) }
        if let weights { csystem_prefetch(weights + Int(column)) }
    }
}

/// Terms looked up in a vocabulary, each found one a hit.
struct VocabularyHits<Collector: HitCollector>: HitVisitor {
    let lookup: TermTable.Lookup
    var collector: Collector
    let columnValues: ColumnValues
    var terms = 0

    init(lookup: TermTable.Lookup, collector: Collector, columnValues: ColumnValues = .none) {
        self.lookup = lookup
        self.collector = collector
        self.columnValues = columnValues
    }

    @inline(__always)
    mutating func collect(_ hit: TermHit) { collector.collect(hit) }

    @inline(__always)
    mutating func visit(_ term: UnsafeBufferPointer<UInt8>, hash: UInt64) {
        terms += 1
        if let column = lookup.column(ofPadded: term, hash: hash) {
            columnValues.expect(column)
            collector.collect(TermHit(column: column, negative: false))
        }
    }

    @inline(__always)
    var expectsHashes: Bool { lookup.exceedsCaches }

    @inline(__always)
    func expect(hash: UInt64) { lookup.prefetch(hash: hash) }
}

/// Terms hashed into `nFeatures` columns (scikit-learn's HashingVectorizer), each a hit.
struct HashedHits<Collector: HitCollector>: HitVisitor {
    let nFeatures: Int
    let alternateSign: Bool
    var collector: Collector
    var terms = 0

    init(nFeatures: Int, alternateSign: Bool, collector: Collector) {
        self.nFeatures = nFeatures
        self.alternateSign = alternateSign
        self.collector = collector
    }

    @inline(__always)
    mutating func collect(_ hit: TermHit) { collector.collect(hit) }

    @inline(__always)
    mutating func visit(_ term: UnsafeBufferPointer<UInt8>, hash: UInt64) {
        terms += 1
        let (column, sign) = MurmurHash3.hashingColumn(term, nFeatures: nFeatures)
        collector.collect(TermHit(column: Int32(column), negative: alternateSign && sign < 0))
    }
}

/// Hits counted per column in a `ColumnCounter`; `count` is how many came.
struct CountedHits: HitCollector {
    let counter: ColumnCounter
    private(set) var count = 0

    init(counter: ColumnCounter) {
        self.counter = counter
    }

    @inline(__always)
    mutating func collect(_ hit: TermHit) {
        counter.add(hit.column, hit.sign)
        count += 1
    }
}

/// Hits only counted (a term count needs no columns).
struct HitCount: HitCollector {
    private(set) var count = 0

    @inline(__always)
    mutating func collect(_ hit: TermHit) { count += 1 }
}

/// Columns nobody reads (a walk run for its term count).
struct DiscardedColumns: FeatureSink {
    @inline(__always)
    mutating func add(_ index: Int32, _ value: Double) {}
}

/// Term hits gathered in a caller's buffer (1 KiB on the stack), moving to the heap only
/// past it (a text with more than 256 vocabulary hits in one block).
struct TermHits: HitCollector {
    private let stack: UnsafeMutableBufferPointer<TermHit>
    private var heap: [TermHit] = []
    private(set) var count = 0

    /// Hits per stack buffer.
    static let stackCapacity = 256

    init(stack: UnsafeMutableBufferPointer<TermHit>) {
        self.stack = stack
    }

    @inline(__always)
    mutating func collect(_ hit: TermHit) {
        if count < stack.count {
            stack[count] = hit
        } else {
            if count == stack.count {
                heap.reserveCapacity(2 * count)
                heap.append(contentsOf: stack)
            }
            heap.append(hit)
        }
        count += 1
    }

    /// The hits, mutable, for sorting in place.
    mutating func withHits<Result>(_ body: (UnsafeMutableBufferPointer<TermHit>) -> Result) -> Result {
        if count <= stack.count { return body(UnsafeMutableBufferPointer(rebasing: stack[0..<count])) }
        return heap.withUnsafeMutableBufferPointer { body($0) }
    }
}

/// A text block's term totals per column, in increasing column order.
protocol ColumnTotals {
    /// Each column with its total (the sum of its hits' signs, a count unless hashing
    /// alternates signs), until `body` says stop; whether every column was handed over.
    func forEachTotal(_ body: (Int32, Int) -> Bool) -> Bool
    /// Whether `forEachTotal` can be called again (the counter's totals are taken once).
    var isRepeatable: Bool { get }
}

/// Totals of hits sorted by column: each run of one column merged.
struct SortedHits: ColumnTotals {
    let hits: UnsafeMutableBufferPointer<TermHit>
    var isRepeatable: Bool { true }

    @inline(__always)
    func forEachTotal(_ body: (Int32, Int) -> Bool) -> Bool {
        var k = 0
        while k < hits.count {
            let column = hits[k].column
            var total = 0
            while k < hits.count && hits[k].column == column { total &+= Int(hits[k].sign); k &+= 1 }
            if !body(column, total) { return false }
        }
        return true
    }
}

/// Totals counted in a `ColumnCounter`, columns below `width`: handed over once, the counter
/// cleared as they go (an emit whose merge buffers hold every column reads them once).
struct CountedColumns: ColumnTotals {
    let counter: ColumnCounter
    let width: Int
    var isRepeatable: Bool { false }

    @inline(__always)
    func forEachTotal(_ body: (Int32, Int) -> Bool) -> Bool {
        counter.takeCounts(width: width) { column, count in body(column, Int(count)) }
    }
}

/// Sort of term hits without allocating: an LSD radix sort (counting passes of at most 8
/// bits, as many as the largest key needs) into a scratch buffer of the same size, insertion
/// sort for a few hits. A 61-character title gives about 180 hits; comparison sorts spent a
/// fifth of scoring time on them in mispredicted branches, the passes have none.
enum TermHitSort {
    /// Below this many hits insertion sort is cheaper than clearing and scanning the counts.
    static let radixThreshold = 48

    static func sort(_ hits: UnsafeMutableBufferPointer<TermHit>) {
        guard let base = hits.baseAddress, hits.count > 1 else { return }
        if hits.count < radixThreshold {
            insertionSort(base, count: hits.count)
            return
        }
        var bitsUsed: TermHit = 0
        for hit in hits { bitsUsed |= hit }
        let bits = TermHit.bitWidth - bitsUsed.leadingZeroBitCount
        guard bits > 0 else { return }  // every key is 0
        let passes = (bits + 7) / 8
        let digitBits = (bits + passes - 1) / passes
        let mask = TermHit(1 << digitBits - 1)
        withUnsafeTemporaryAllocation(of: TermHit.self, capacity: hits.count) { scratch in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 1 << digitBits) { starts in
                var from = hits
                var to = scratch
                for pass in 0..<passes {
                    let shift = TermHit(pass * digitBits)
                    starts.initialize(repeating: 0)
                    for hit in from { starts[Int(hit >> shift & mask)] += 1 }
                    var total: Int32 = 0
                    for digit in starts.indices {
                        let count = starts[digit]
                        starts[digit] = total
                        total += count
                    }
                    for hit in from {
                        let digit = Int(hit >> shift & mask)
                        to[Int(starts[digit])] = hit
                        starts[digit] += 1
                    }
                    swap(&from, &to)
                }
                // After an odd number of passes the sorted keys are in the scratch buffer.
                if from.baseAddress != base { _ = hits.update(fromContentsOf: from) }
            }
        }
    }

    private static func insertionSort(_ a: UnsafeMutablePointer<TermHit>, count: Int) {
        for i in 1..<count {
            let x = a[i]
            var j = i - 1
            while j >= 0 && a[j] > x {
                a[j + 1] = a[j]
                j -= 1
            }
            a[j + 1] = x
        }
    }
}
