import Inference
import Posix

/// What a request thread's predicts allocate and can use again — listing rows, the listings
/// array, the predictions and the term counts — taken back from the monitor jobs the worker
/// has finished with (`HandedOver.dropFinished`), or from the request itself once answered
/// when no job took them (`Scoring.recycle`), and handed to the thread's next requests, so
/// that a warm predict allocates none of them.
///
/// Confined to its thread (`perThread`): no locks. What is taken back is emptied here (a
/// row's values, titles included, are let go of at once, not kept until the row is reused).
/// Nothing else holds it by then: the job, or the answered request, was the last holder. Were a reference left somewhere, the next write to it would copy it
/// (copy-on-write), which costs an allocation and nothing else.
final class ReusedStorage {
    static let perThread = PerThread { ReusedStorage() }

    private struct Kept {
        var rows: [[FeatureValue]] = []
        var listingArrays: [[[FeatureValue]]] = []
        var predictionArrays: [[Prediction]] = []
        var termCountArrays: [[TermCount?]] = []
    }
    /// Boxed rather than stored `var`s, whose run-time exclusivity checks cost more than the
    /// allocations this saves (`ConfinedBox`); this object is confined to its thread.
    private let kept = ConfinedBox(Kept())

    /// Rows kept for the next requests: enough for a batch of this many listings.
    static let maxRows = 1024
    /// Arrays of each kind kept. The worker, at idle priority, finishes jobs in bursts, and a
    /// burst's arrays are all taken back at once, to serve the requests until the next one.
    static let maxArrays = 64
    /// Arrays with room for more elements than this are let go of (a rare huge batch does not
    /// pin its memory): at most 64 × 1024 elements of each kind are kept.
    static let maxKeptCapacity = 1024

    /// A row of `width` missing values.
    func row(width: Int) -> [FeatureValue] {
        guard var row = kept.value.rows.popLast() else { return [FeatureValue](filledWith: .missing, count: width) }
        if row.count != width {
            row.removeAll(keepingCapacity: true)
            for _ in 0..<width { row.append(.missing) }
        }
        return row
    }

    /// An empty listings array (with the room a previous request left in it).
    func listings() -> [[FeatureValue]] { kept.value.listingArrays.popLast() ?? [] }

    /// An empty predictions array with room for `capacity`.
    func predictions(capacity: Int) -> [Prediction] {
        var predictions = kept.value.predictionArrays.popLast() ?? []
        predictions.reserveCapacity(capacity)
        return predictions
    }

    /// `count` nil term counts.
    func termCounts(count: Int) -> [TermCount?] {
        guard var counts = kept.value.termCountArrays.popLast() else { return [TermCount?](filledWith: nil, count: count) }
        for _ in 0..<count { counts.append(nil) }
        return counts
    }

    /// Takes the listings, predictions and term counts out of a job the worker has finished
    /// with, empties them and keeps them (within the limits above).
    func takeBack(from contents: inout MonitorJob.Contents) {
        takeBack(listings: &contents.listings, predictions: &contents.predictions)
        if let counts = contents.termCounts.take() { takeBack(termCounts: counts) }
    }

    /// Empties term counts no one else holds and keeps them.
    func takeBack(termCounts: consuming [TermCount?]) {
        var counts = termCounts
        counts.removeAll(keepingCapacity: true)
        Self.keep(counts, in: &kept.value.termCountArrays)
    }

    /// Takes the listings and predictions out of their last holder (leaving them empty),
    /// empties them and keeps them.
    func takeBack(listings given: inout [[FeatureValue]], predictions givenPredictions: inout [Prediction]) {
        var listings: [[FeatureValue]] = []
        swap(&listings, &given)
        while var row = listings.popLast() {
            guard kept.value.rows.count < Self.maxRows else { break }
            for i in row.indices { row[i] = .missing }
            kept.value.rows.append(row)
        }
        if !listings.isEmpty { listings.removeAll(keepingCapacity: true) }  // rows past `maxRows`
        Self.keep(listings, in: &kept.value.listingArrays)

        var predictions: [Prediction] = []
        swap(&predictions, &givenPredictions)
        predictions.removeAll(keepingCapacity: true)
        Self.keep(predictions, in: &kept.value.predictionArrays)
    }

    private static func keep<Element>(_ array: [Element], in kept: inout [[Element]]) {
        guard array.capacity > 0, array.capacity <= maxKeptCapacity, kept.count < maxArrays else { return }
        kept.append(array)
    }

    /// What is kept now (tests).
    var testsOnly_counts: (rows: Int, listings: Int, predictions: Int, termCounts: Int) {
        (kept.value.rows.count, kept.value.listingArrays.count, kept.value.predictionArrays.count,
         kept.value.termCountArrays.count)
    }
}
