import Inference
import Posix

/// What a request thread's predicts allocate and can use again — listing rows, the buffers
/// of their longer texts, the listings array, the predictions and the term counts — taken back from the monitor jobs the worker
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
        var textBuffers: [TextBuffer] = []
        var listingArrays = ArrayShelf<[FeatureValue]>(maxArrays: ReusedStorage.maxArrays, maxElements: ReusedStorage.maxKeptElements)
        var predictionArrays = ArrayShelf<Prediction>(maxArrays: ReusedStorage.maxArrays, maxElements: ReusedStorage.maxKeptElements)
        var termCountArrays = ArrayShelf<TermCount?>(maxArrays: ReusedStorage.maxArrays, maxElements: ReusedStorage.maxKeptElements)
    }
    /// Boxed rather than stored `var`s, whose run-time exclusivity checks cost more than the
    /// allocations this saves (`ConfinedBox`); this object is confined to its thread.
    private let kept = ConfinedBox(Kept())

    /// Rows kept for the next requests: enough for a batch of this many listings.
    static let maxRows = 1024
    /// Arrays of each kind kept. The worker, at idle priority, finishes jobs in bursts, and a
    /// burst's arrays are all taken back at once, to serve the requests until the next one.
    static let maxArrays = 64
    /// Elements of each kind kept, all arrays of the kind together (a huge batch does not pin
    /// its memory): at most about 330 KB of predictions, 140 KB of term counts and 64 KB of
    /// listings arrays a thread, and 1,024 rows.
    static let maxKeptElements = 8192
    /// Text buffers kept (at most 256 KiB a thread: only buffers of `textBufferCapacity` are
    /// kept).
    static let maxTextBuffers = 1024
    /// The size of the buffers kept: a text of up to this many bytes (nearly every title) fits
    /// any of them; a longer one has a buffer of its own, let go of with it.
    static let textBufferCapacity = 256

    /// A string value holding `utf8` (valid UTF-8): a small `String` up to
    /// `FeatureText.smallStringBytes` (made without allocating), else the bytes copied into a buffer this thread used before.
    /// A kept buffer is written only when nothing else refers to it (a payload log line or a
    /// test might still hold the value that had it); otherwise, or when none fits, a new one
    /// is made.
    func text(_ utf8: UnsafeBufferPointer<UInt8>) -> FeatureValue {
        if let small = Self.smallText(utf8) { return small }
        var kept = utf8.count <= Self.textBufferCapacity ? kept.value.textBuffers.popLast() : nil
        return .string(FeatureText(buffer: TextBuffer.holding(utf8, reusing: &kept, minimumCapacity: Self.textBufferCapacity)))
    }

    /// `text(_:)` on the calling thread's storage, which a small string does not need.
    static func textValue(_ utf8: UnsafeBufferPointer<UInt8>) -> FeatureValue {
        smallText(utf8) ?? perThread.withCurrent { $0.text(utf8) }
    }

    /// A string of at most `FeatureText.smallStringBytes`, made without allocating; nil for a longer one.
    @inline(__always)
    private static func smallText(_ utf8: UnsafeBufferPointer<UInt8>) -> FeatureValue? {
        utf8.count <= FeatureText.smallStringBytes ? .string(String(decoding: utf8, as: UTF8.self)) : nil
    }

    /// Keeps the buffer of a text value being let go of (within the limits above).
    private func keepBuffer(of value: FeatureValue) {
        guard case .string(let text) = value, let buffer = text.buffer, buffer.capacity == Self.textBufferCapacity,
              kept.value.textBuffers.count < Self.maxTextBuffers
        else { return }
        kept.value.textBuffers.append(buffer)
    }

    /// A row of `width` missing values.
    func row(width: Int) -> [FeatureValue] {
        guard var row = kept.value.rows.popLast() else { return [FeatureValue](filledWith: .missing, count: width) }
        if row.count != width {
            row.removeAll(keepingCapacity: true)
            for _ in 0..<width { row.append(.missing) }
        }
        return row
    }

    /// `count` rows of `width` missing values in a listings array, all reused where this
    /// thread has them (for decoders that fill listings column by column).
    static func emptyListings(count: Int, width: Int) -> [[FeatureValue]] {
        perThread.withCurrent { storage in
            var listings = storage.listings()
            listings.reserveCapacity(count)
            for _ in 0..<count { listings.append(storage.row(width: width)) }
            return listings
        }
    }

    /// An empty listings array (with the room a previous request left in it).
    func listings() -> [[FeatureValue]] { kept.value.listingArrays.take() ?? [] }

    /// An empty predictions array with room for `capacity`.
    func predictions(capacity: Int) -> [Prediction] {
        var predictions = kept.value.predictionArrays.take() ?? []
        predictions.reserveCapacity(capacity)
        return predictions
    }

    /// `count` nil term counts.
    func termCounts(count: Int) -> [TermCount?] {
        guard var counts = kept.value.termCountArrays.take() else { return [TermCount?](filledWith: nil, count: count) }
        for _ in 0..<count { counts.append(nil) }
        return counts
    }

    /// Takes the listings, predictions and term counts out of a job the worker has finished
    /// with, empties them and keeps them (within the limits above).
    func takeBack(from contents: inout MonitorJob.Contents) {
        takeBack(listings: &contents.listings, predictions: &contents.predictions)
        if let counts = contents.termCounts.take() { takeBack(termCounts: counts) }
    }

    /// Keeps term counts no one else holds (emptied).
    func takeBack(termCounts: consuming [TermCount?]) {
        kept.value.termCountArrays.keep(consume termCounts)
    }

    /// Takes the listings and predictions out of their last holder (leaving them empty),
    /// empties them and keeps them.
    func takeBack(listings given: inout [[FeatureValue]], predictions givenPredictions: inout [Prediction]) {
        var listings: [[FeatureValue]] = []
        swap(&listings, &given)
        while var row = listings.popLast() {
            guard kept.value.rows.count < Self.maxRows else { break }
            for i in row.indices {
                keepBuffer(of: row[i])
                row[i] = .missing
            }
            kept.value.rows.append(row)
        }
        kept.value.listingArrays.keep(consume listings)  // emptied of rows past `maxRows`

        var predictions: [Prediction] = []
        swap(&predictions, &givenPredictions)
        kept.value.predictionArrays.keep(consume predictions)
    }

    /// Predictions' capacity kept now (tests).
    var testsOnly_predictionElements: Int { kept.value.predictionArrays.elements }

    /// What is kept now (tests).
    var testsOnly_counts: (rows: Int, listings: Int, predictions: Int, termCounts: Int) {
        (kept.value.rows.count, kept.value.listingArrays.count, kept.value.predictionArrays.count,
         kept.value.termCountArrays.count)
    }

    /// Text buffers kept now (tests).
    var testsOnly_textBuffers: Int { kept.value.textBuffers.count }
}
