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
        let pipeline = self.pipeline
        observe(listing) { value, index in pipeline.termCount(value, field: index) }
    }

    /// Counts one listing whose text fields' term counts the scoring pass made
    /// (`LoadedModel.predict(_:termCounts:at:)` with this pipeline's model): `termCounts` holds
    /// one entry per signature field.
    public mutating func observe(_ listing: [FeatureValue], termCounts: ArraySlice<TermCount?>) {
        observe(listing) { _, index in termCounts[termCounts.startIndex + index] }
    }

    /// `termCount(value, field index)`: a text field's term count (nil: missing). The values
    /// and trackers are reached in place: copying each value out retained its text, and each
    /// tracker's update checked the array's uniqueness.
    private mutating func observe(_ listing: [FeatureValue], termCount: (FeatureValue, Int) -> TermCount?) {
        listings += 1
        listing.withUnsafeBufferPointer { values in
            fields.withUnsafeMutableBufferPointer { trackers in
                for k in trackers.indices {
                    let index = trackers[k].index
                    if index < values.count {
                        trackers[k].observe(values[index]) { termCount($0, index) }
                    } else {
                        trackers[k].observe(.missing) { termCount($0, index) }
                    }
                }
            }
        }
    }

    /// The figures now, one entry per profiled field in profile order.
    public var report: [FieldSkew] { fields.map(\.report) }

    struct Tracker: Sendable {
        let profile: FieldProfile
        let index: Int
        /// Category → bin (categorical); the bin after the last listed is "other".
        let categoryBins: [String: Int]
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
            var bins: [String: Int] = [:]
            for (k, category) in (profile.top ?? []).enumerated() { bins[category.value] = k }
            categoryBins = bins
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

        /// `termCount`: the value's term count (text fields; nil: missing), asked of the value
        /// only for text.
        @inline(__always)
        mutating func observe(_ value: FeatureValue, termCount: (FeatureValue) -> TermCount?) {
            counts.observed += 1
            var bin: Int?
            switch kind {
            case .numeric:
                guard case .number(let x) = value, x.isFinite else { counts.missing += 1; return }
                if let range, !range.contains(x) { counts.outsideRange += 1 }
                bin = edges.map { ProfileBins.bin(of: x, edges: $0) }
            case .categorical:
                guard let category = value.profileCategory else { counts.missing += 1; return }
                if let known = categoryBins[category] {
                    bin = known
                } else {
                    if complete { counts.unseen += 1 }
                    bin = categoryBins.count
                }
            case .text:
                guard let terms = termCount(value) else { counts.missing += 1; return }
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
