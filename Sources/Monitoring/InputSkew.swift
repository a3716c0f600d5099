import Inference

/// Live inputs against a version's training profile: per field, how many listings had it
/// missing, an unseen category, a value outside the training range, how many of its text
/// terms were out of vocabulary, and the PSI of the last `window` values against the
/// training shares. A value type, fed by one thread (the monitor's worker).
public struct InputSkew: Sendable {
    /// Listings observed.
    public private(set) var listings = 0
    private var fields: [Tracker]
    private let pipeline: FeaturePipeline
    /// Values per field the sliding-window PSI is computed over.
    public let window: Int

    /// Fields of `profile` the signature no longer has are skipped.
    public init(profile: InputProfile, signature: Signature, pipeline: FeaturePipeline, window: Int) {
        self.pipeline = pipeline
        self.window = max(window, 1)
        fields = profile.fields.compactMap { field in
            signature.index(of: field.name).map { Tracker(profile: field, index: $0, window: max(window, 1)) }
        }
    }

    /// Counts one listing (values in signature order).
    public mutating func observe(_ listing: [FeatureValue]) {
        listing.withUnsafeBufferPointer { observe(values: $0, termCounts: nil) }
    }

    /// Counts one listing whose text fields' term counts the scoring pass made
    /// (`LoadedModel.predict(_:termCounts:at:)` with this pipeline's model): `termCounts` holds
    /// one entry per signature field.
    public mutating func observe(_ listing: [FeatureValue], termCounts: ArraySlice<TermCount?>) {
        listing.withUnsafeBufferPointer { values in
            termCounts.withUnsafeBufferPointer { observe(values: values, termCounts: $0) }
        }
    }

    /// Counts one listing read in place: its values in signature order and, when the scoring
    /// pass made them, its term counts (one entry per signature field; nil: the pipeline
    /// counts the text fields' terms again). A value is read only where its field's kind needs
    /// it: a text field whose terms were counted is not touched, so the worker does not take a
    /// reference to the request thread's text (each such retain and release moved the text's
    /// reference count from core to core).
    public mutating func observe(values: UnsafeBufferPointer<FeatureValue>, termCounts: UnsafeBufferPointer<TermCount?>?) {
        listings += 1
        let pipeline = self.pipeline
        fields.withUnsafeMutableBufferPointer { trackers in
            for k in trackers.indices {
                if let termCounts {
                    trackers[k].observe(values) { termCounts[$0] }
                } else {
                    trackers[k].observe(values) { index in pipeline.termCount(values[index], field: index) }
                }
            }
        }
    }

    /// The figures now, one entry per profiled field in profile order.
    public var report: [FieldSkew] { fields.map(\.report) }

    struct Tracker: Sendable {
        let profile: FieldProfile
        let index: Int
        /// Category bytes → bin (categorical), compared byte for byte as the pipeline's one-hot
        /// compares them; the bin after the last listed, `otherBin`, is "other".
        let categoryBins: TermTable
        let otherBin: Int
        /// Training shares per bin; nil: no bins (every training value was missing).
        let expected: [Double]?
        let complete: Bool
        /// The profile's kind, range and bin edges, read for each value without the profile.
        let kind: FieldProfile.Kind
        let range: ClosedRange<Double>?
        let edges: [Double]?
        var counts = FieldSkew.Counts()
        /// The last `window` bins (ring), and how many values each bin holds in it.
        var ring: [Int32]
        var ringNext = 0
        var ringFilled = 0
        var windowCounts: [Int]

        init(profile: FieldProfile, index: Int, window: Int) {
            self.profile = profile
            self.index = index
            let top = profile.top ?? []
            categoryBins = TermTable(terms: top.map(\.value))
            otherBin = top.count
            switch profile.kind {
            case .categorical:
                expected = profile.top.map { $0.map(\.share) + [profile.otherShare ?? 0] }
            case .numeric, .text:
                expected = profile.bins?.shares
            }
            complete = (profile.otherShare ?? 0) == 0
            kind = profile.kind
            range = profile.range
            edges = profile.bins?.edges
            ring = [Int32](repeating: 0, count: window)
            windowCounts = [Int](repeating: 0, count: expected?.count ?? 0)
        }

        /// Observes the field's value in `values` (missing past its end). `termCount(index)`:
        /// the text field's term count (nil: missing), asked only of text fields.
        @inline(__always)
        mutating func observe(_ values: UnsafeBufferPointer<FeatureValue>, termCount: (Int) -> TermCount?) {
            counts.observed += 1
            guard index < values.count else { counts.missing += 1; return }
            var bin: Int?
            switch kind {
            case .numeric:
                guard case .number(let x) = values[index], x.isFinite else { counts.missing += 1; return }
                if let range, !range.contains(x) { counts.outsideRange += 1 }
                bin = edges.map { ProfileBins.bin(of: x, edges: $0) }
            case .categorical:
                guard let category = values[index].featureText else { counts.missing += 1; return }
                if let known = categoryBins.column(of: category) {
                    bin = Int(known)
                } else {
                    if complete { counts.unseen += 1 }
                    bin = otherBin
                }
            case .text:
                guard let terms = termCount(index) else { counts.missing += 1; return }
                counts.terms += terms.terms
                if let known = terms.inVocabulary { counts.outOfVocabulary += terms.terms - known }
                let x = Double(terms.terms)
                if let range, !range.contains(x) { counts.outsideRange += 1 }
                bin = edges.map { ProfileBins.bin(of: x, edges: $0) }
            }
            guard let bin, bin < windowCounts.count else { return }
            if ringFilled == ring.count {
                windowCounts[Int(ring[ringNext])] -= 1
            } else {
                ringFilled += 1
            }
            ring[ringNext] = Int32(bin)
            windowCounts[bin] += 1
            ringNext = ringNext + 1 == ring.count ? 0 : ringNext + 1
        }

        var report: FieldSkew {
            FieldSkew(
                name: profile.name, kind: profile.kind, counts: counts, windowValues: ringFilled,
                psi: ringFilled > 0 ? expected.map { PSI.index(expectedShares: $0, actual: windowCounts) } : nil,
                trainingMissingRate: profile.missingRate, trainingVocabularyShare: profile.vocabularyShare)
        }
    }
}

/// One field's skew figures.
public struct FieldSkew: Sendable, Equatable {
    public struct Counts: Sendable, Equatable {
        /// Listings observed.
        public var observed = 0
        /// Listings without the field (absent, null, or a number that is not finite).
        public var missing = 0
        /// categorical: values the training data never had (counted only when the profile
        /// lists every training value).
        public var unseen = 0
        /// numeric: values outside [min, max] of training; text: term counts outside it.
        public var outsideRange = 0
        /// text: terms made of the field.
        public var terms = 0
        /// text with a vocabulary: terms not in it.
        public var outOfVocabulary = 0

        public init() {}

        /// Adds another period's counts.
        public mutating func add(_ other: Counts) {
            observed += other.observed
            missing += other.missing
            unseen += other.unseen
            outsideRange += other.outsideRange
            terms += other.terms
            outOfVocabulary += other.outOfVocabulary
        }
    }

    public var name: String
    public var kind: FieldProfile.Kind
    public var counts: Counts
    /// Values in the sliding window (at most its size).
    public var windowValues: Int
    /// PSI of the window against the training shares; nil with no values or no bins.
    public var psi: Double?
    public var trainingMissingRate: Double
    public var trainingVocabularyShare: Double?

    /// Share of observed listings with the field missing.
    public var missingRate: Double { counts.observed == 0 ? 0 : Double(counts.missing) / Double(counts.observed) }
    /// Share of text terms not in the vocabulary (nil: not text, or no terms yet).
    public var outOfVocabularyShare: Double? {
        guard kind == .text, trainingVocabularyShare != nil, counts.terms > 0 else { return nil }
        return Double(counts.outOfVocabulary) / Double(counts.terms)
    }
}
