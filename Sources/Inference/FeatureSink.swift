// Where a pipeline's output columns go: a SparseVector (explain, training, `features`) or
// straight into a dot product with the model's weights (predict), in the same order.

/// Receives a pipeline's non-zero columns in strictly increasing index order.
protocol FeatureSink {
    mutating func add(_ index: Int32, _ value: Double)
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
    let weights: UnsafePointer<Double>
    var sum = 0.0

    @inline(__always)
    mutating func add(_ index: Int32, _ value: Double) {
        sum += weights[Int(index)] * value
    }
}

/// One term found in a text block: its column shifted left by one, the low bit set for a
/// negative sign (hashing with `alternate_sign`). Sorting keys sorts by column.
typealias TermHit = UInt32

extension TermHit {
    @inline(__always) init(column: Int32, negative: Bool) { self = UInt32(bitPattern: column) << 1 | (negative ? 1 : 0) }
    @inline(__always) var column: Int32 { Int32(bitPattern: self >> 1) }
    @inline(__always) var weight: Double { self & 1 == 0 ? 1 : -1 }
}

/// Term hits gathered in a caller's buffer (1 KiB on the stack), moving to the heap only
/// past it (a text with more than 256 vocabulary hits in one block).
struct TermHits {
    private let stack: UnsafeMutableBufferPointer<TermHit>
    private var heap: [TermHit] = []
    private(set) var count = 0

    /// Hits per stack buffer.
    static let stackCapacity = 256

    init(stack: UnsafeMutableBufferPointer<TermHit>) {
        self.stack = stack
    }

    @inline(__always)
    mutating func append(_ hit: TermHit) {
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

/// In-place sort of term hits without allocating (introsort: quicksort with a median-of-three
/// pivot, insertion sort for short ranges, heapsort past 2·log₂ n levels so that no input is
/// quadratic).
enum TermHitSort {
    static func sort(_ hits: UnsafeMutableBufferPointer<TermHit>) {
        guard let base = hits.baseAddress, hits.count > 1 else { return }
        quicksort(base, low: 0, high: hits.count - 1, depth: 2 * (Int.bitWidth - hits.count.leadingZeroBitCount))
    }

    private static func quicksort(_ a: UnsafeMutablePointer<TermHit>, low: Int, high: Int, depth: Int) {
        var low = low, high = high, depth = depth
        while high - low > 16 {
            if depth == 0 {
                heapsort(a + low, count: high - low + 1)
                return
            }
            depth -= 1
            let mid = low + (high - low) / 2
            if a[mid] < a[low] { a.swapAt(mid, low) }
            if a[high] < a[low] { a.swapAt(high, low) }
            if a[high] < a[mid] { a.swapAt(high, mid) }
            let pivot = a[mid]
            var i = low, j = high
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            // Recurse into the smaller side, loop on the larger: stack depth stays O(log n).
            if j - low < high - i {
                quicksort(a, low: low, high: j, depth: depth)
                low = i
            } else {
                quicksort(a, low: i, high: high, depth: depth)
                high = j
            }
        }
        insertionSort(a, low: low, high: high)
    }

    private static func insertionSort(_ a: UnsafeMutablePointer<TermHit>, low: Int, high: Int) {
        guard low < high else { return }
        for i in (low + 1)...high {
            let x = a[i]
            var j = i - 1
            while j >= low && a[j] > x {
                a[j + 1] = a[j]
                j -= 1
            }
            a[j + 1] = x
        }
    }

    private static func heapsort(_ a: UnsafeMutablePointer<TermHit>, count: Int) {
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while 2 * root + 1 < end {
                var child = 2 * root + 1
                if child + 1 < end && a[child] < a[child + 1] { child += 1 }
                if a[root] >= a[child] { return }
                a.swapAt(root, child)
                root = child
            }
        }
        var start = count / 2
        while start > 0 {
            start -= 1
            siftDown(start, count)
        }
        var end = count
        while end > 1 {
            end -= 1
            a.swapAt(0, end)
            siftDown(0, end)
        }
    }
}

extension UnsafeMutablePointer {
    @inline(__always)
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
