// The profile of a model's training inputs, stored in the manifest (`"profile"`, optional in
// every format: a reader that does not know it ignores it, and an artifact without one
// loads and serves as before). Serving compares live inputs with it (training/serving skew).

/// What the training inputs looked like, per signature field (the id field excluded).
///
/// ```json
/// "profile": {"rows": 1200, "fields": [
///   {"name": "price_usd", "kind": "numeric", "missing_rate": 0.02,
///    "quantiles": [0, 3.5, …, 980], "bins": {"edges": [3.5, …], "shares": [0.1, …]}},
///   {"name": "category_id", "kind": "categorical", "missing_rate": 0,
///    "distinct": 12, "top": [{"value": "MLB1055", "share": 0.31}, …], "other_share": 0},
///   {"name": "title", "kind": "text", "missing_rate": 0,
///    "quantiles": [1, 3, …, 24], "bins": {…}, "vocabulary_share": 0.97}]}
/// ```
public struct InputProfile: Codable, Sendable, Equatable {
    /// Training rows profiled.
    public var rows: Int
    /// One entry per profiled field, in signature order.
    public var fields: [FieldProfile]

    public init(rows: Int, fields: [FieldProfile]) {
        self.rows = rows
        self.fields = fields
    }

    /// Quantile levels stored for numeric fields and text term counts: 0, 0.1, …, 1.
    public static let quantileLevels: [Double] = (0...10).map { Double($0) / 10 }
    /// Most categories listed per categorical field; the rest is `other_share`.
    public static let maximumCategories = 100
}

/// One field's profile. Which members are set depends on `kind`.
public struct FieldProfile: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, Equatable {
        /// Numbers: quantiles and bins of the values.
        case numeric
        /// Strings compared whole (and booleans): category frequencies.
        case categorical
        /// Strings a text transformer reads: the terms per listing and the vocabulary coverage.
        case text
    }

    public var name: String
    public var kind: Kind
    /// Share of training rows where the field was missing (absent, null, non-finite number).
    public var missingRate: Double
    /// numeric: values; text: terms per listing. At `InputProfile.quantileLevels` (linear
    /// interpolation, as numpy's default). Empty when every row was missing.
    public var quantiles: [Double]?
    /// numeric and text: the bins the population stability index is computed over.
    public var bins: ProfileBins?
    /// categorical: distinct values seen.
    public var distinct: Int?
    /// categorical: the most frequent values (at most `InputProfile.maximumCategories`),
    /// most frequent first, with their share of the present values.
    public var top: [CategoryShare]?
    /// categorical: share of present values outside `top` (0: `top` lists every value seen).
    public var otherShare: Double?
    /// text with a fixed vocabulary: share of the terms that are in it (nil for hashed text).
    public var vocabularyShare: Double?

    public init(name: String, kind: Kind, missingRate: Double, quantiles: [Double]? = nil, bins: ProfileBins? = nil,
                distinct: Int? = nil, top: [CategoryShare]? = nil, otherShare: Double? = nil, vocabularyShare: Double? = nil) {
        self.name = name
        self.kind = kind
        self.missingRate = missingRate
        self.quantiles = quantiles
        self.bins = bins
        self.distinct = distinct
        self.top = top
        self.otherShare = otherShare
        self.vocabularyShare = vocabularyShare
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, quantiles, bins, distinct, top
        case missingRate = "missing_rate"
        case otherShare = "other_share"
        case vocabularyShare = "vocabulary_share"
    }

    /// The smallest and largest training value (numeric) or term count (text).
    public var range: ClosedRange<Double>? {
        guard let quantiles, let low = quantiles.first, let high = quantiles.last, low <= high else { return nil }
        return low...high
    }
}

/// A category and its share of the present training values.
public struct CategoryShare: Codable, Sendable, Equatable {
    public var value: String
    public var share: Double

    public init(value: String, share: Double) {
        self.value = value
        self.share = share
    }
}

/// Fixed bins for the population stability index: bin `i` holds values ≤ `edges[i]` and
/// above the previous edge; the last bin holds values above every edge. `shares` are the
/// training shares per bin (`edges.count + 1` values summing to 1).
public struct ProfileBins: Codable, Sendable, Equatable {
    public var edges: [Double]
    public var shares: [Double]

    public init(edges: [Double], shares: [Double]) {
        self.edges = edges
        self.shares = shares
    }

    /// The bin of `x`: the first `i` with `x <= edges[i]` (Python's `bisect_left`), else the last.
    public func bin(of x: Double) -> Int { Self.bin(of: x, edges: edges) }

    /// `bin(of:)` over `edges` (a monitor keeps them apart from the shares).
    @inline(__always)
    public static func bin(of x: Double, edges: [Double]) -> Int {
        edges.withUnsafeBufferPointer { edges in
            var low = 0, high = edges.count
            while low < high {
                let mid = (low &+ high) >> 1
                if edges[mid] < x { low = mid &+ 1 } else { high = mid }
            }
            return low
        }
    }
}

// MARK: - Building a profile

extension InputProfile {
    /// Profiles `rows` (values in signature order) for every field but the id field. A field
    /// a text transformer reads is profiled as text (terms per listing and vocabulary
    /// coverage, through `pipeline`), a string or boolean field as categorical, a number as
    /// numeric (a categorical transformer on a number makes it categorical).
    public static func build(rows: [[FeatureValue]], signature: Signature, pipeline: FeaturePipeline) -> InputProfile {
        var fields: [FieldProfile] = []
        for (index, field) in signature.fields.enumerated() where field.name != signature.idField {
            let column = rows.map { index < $0.count ? $0[index] : .missing }
            switch kind(of: index, signature: signature, pipeline: pipeline) {
            case .numeric: fields.append(numeric(field.name, column))
            case .categorical: fields.append(categorical(field.name, column))
            case .text: fields.append(text(field.name, column, field: index, pipeline: pipeline))
            }
        }
        return InputProfile(rows: rows.count, fields: fields)
    }

    /// How field `index` is profiled (and compared while serving).
    public static func kind(of index: Int, signature: Signature, pipeline: FeaturePipeline) -> FieldProfile.Kind {
        if let transformer = pipeline.transformers.first(where: { $0.fieldIndex == index }) {
            switch transformer.kind {
            case .text: return .text
            case .categorical, .boolean: return .categorical
            case .numeric: return .numeric
            }
        }
        switch signature.fields[index].type {
        case .number, .integer: return .numeric
        case .string, .boolean: return .categorical
        }
    }

    static func numeric(_ name: String, _ column: [FeatureValue]) -> FieldProfile {
        var values: [Double] = []
        for value in column { if let x = value.profileNumber { values.append(x) } }
        let missing = rate(column.count - values.count, of: column.count)
        return FieldProfile(name: name, kind: .numeric, missingRate: missing,
                            quantiles: quantiles(values), bins: bins(values))
    }

    static func categorical(_ name: String, _ column: [FeatureValue]) -> FieldProfile {
        var counts: [String: Int] = [:]
        var present = 0
        for value in column {
            guard let text = value.profileCategory else { continue }
            counts[text, default: 0] += 1
            present += 1
        }
        // Most frequent first; ties by value, so the profile is reproducible.
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let top = ranked.prefix(maximumCategories).map { CategoryShare(value: $0.key, share: rate($0.value, of: present)) }
        let listed = ranked.prefix(maximumCategories).reduce(0) { $0 + $1.value }
        return FieldProfile(name: name, kind: .categorical, missingRate: rate(column.count - present, of: column.count),
                            distinct: counts.count, top: top, otherShare: rate(present - listed, of: present))
    }

    static func text(_ name: String, _ column: [FeatureValue], field: Int, pipeline: FeaturePipeline) -> FieldProfile {
        var termCounts: [Double] = []
        var terms = 0, known = 0
        var hasVocabulary = false
        for value in column {
            guard let count = pipeline.termCount(value, field: field) else { continue }
            termCounts.append(Double(count.terms))
            terms += count.terms
            if let inVocabulary = count.inVocabulary {
                known += inVocabulary
                hasVocabulary = true
            }
        }
        return FieldProfile(name: name, kind: .text, missingRate: rate(column.count - termCounts.count, of: column.count),
                            quantiles: quantiles(termCounts), bins: bins(termCounts),
                            vocabularyShare: hasVocabulary ? rate(known, of: terms) : nil)
    }

    static func rate(_ part: Int, of whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }

    /// Values at `quantileLevels`, linear interpolation between order statistics (numpy's default).
    static func quantiles(_ values: [Double]) -> [Double] {
        guard !values.isEmpty else { return [] }
        let sorted = values.sorted()
        return quantileLevels.map { level in
            let position = level * Double(sorted.count - 1)
            let below = Int(position.rounded(.down))
            let above = min(below + 1, sorted.count - 1)
            let fraction = position - Double(below)
            return sorted[below] + (sorted[above] - sorted[below]) * fraction
        }
    }

    /// Edges at the distinct interior deciles; shares of `values` per bin.
    static func bins(_ values: [Double]) -> ProfileBins? {
        guard !values.isEmpty else { return nil }
        let interior = quantiles(values).dropFirst().dropLast()
        var edges: [Double] = []
        for edge in interior where edges.last != edge { edges.append(edge) }
        var bins = ProfileBins(edges: edges, shares: [])
        var counts = [Int](repeating: 0, count: edges.count + 1)
        for x in values { counts[bins.bin(of: x)] += 1 }
        bins.shares = counts.map { rate($0, of: values.count) }
        return bins
    }
}

// MARK: - What serving compares

/// The terms a text transformer makes of one value, and how many are in its vocabulary.
public struct TermCount: Sendable, Equatable {
    public var terms: Int
    /// nil for hashed text (no vocabulary).
    public var inVocabulary: Int?

    public init(terms: Int, inVocabulary: Int?) {
        self.terms = terms
        self.inVocabulary = inVocabulary
    }
}

extension FeaturePipeline {
    /// The terms the first text transformer reading field `field` makes of `value` (after its
    /// lowercasing, accent stripping and analyzer), and how many are in its vocabulary; nil
    /// when the value is missing or no text transformer reads the field.
    public func termCount(_ value: FeatureValue, field: Int) -> TermCount? {
        // The step that reports the field's count in a scoring pass, counting the same way.
        guard let text = value.featureText, let step = steps.first(where: { $0.fieldIndex == field && $0.reportsTerms }),
              case .text(let block) = step.block
        else { return nil }
        return block._withUnsafeGuaranteedRef { $0.termCount($0.tally(text)) }
    }
}

extension FeatureValue {
    /// A number the profile counts: finite numbers only (others are missing, as the pipeline imputes them).
    public var profileNumber: Double? {
        if case .number(let x) = self, x.isFinite { return x }
        return nil
    }

    /// A value as a category: strings as they are, booleans `true`/`false`, numbers in their
    /// shortest form (the categorical transformer's rule); nil when missing.
    public var profileCategory: String? { textForm }
}

// MARK: - Validation

extension InputProfile {
    /// Rejects a profile serving could not compare with: a field the signature does not have
    /// (or listed twice), shares outside [0, 1], bins whose edges are not increasing or whose
    /// shares do not match them.
    func validate(against signature: Signature) throws(ArtifactError) {
        guard rows >= 0 else { throw ArtifactError(.invalidManifest, "profile.rows must not be negative") }
        var seen = Set<String>()
        for (k, field) in fields.enumerated() {
            let path = "profile.fields[\(k)]"
            guard signature.index(of: field.name) != nil else {
                throw ArtifactError(.invalidManifest, "\(path).name: \"\(field.name)\" is not a field of the signature")
            }
            guard seen.insert(field.name).inserted else {
                throw ArtifactError(.invalidManifest, "\(path).name: \"\(field.name)\" is profiled twice")
            }
            let shares = [field.missingRate, field.otherShare, field.vocabularyShare].compactMap { $0 }
                + (field.top ?? []).map(\.share) + (field.bins?.shares ?? [])
            guard shares.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
                throw ArtifactError(.invalidManifest, "\(path): shares and rates must be in [0, 1]")
            }
            if let quantiles = field.quantiles {
                guard quantiles.isEmpty || quantiles.count == InputProfile.quantileLevels.count,
                      quantiles.allSatisfy(\.isFinite), zip(quantiles, quantiles.dropFirst()).allSatisfy({ $0 <= $1 })
                else {
                    throw ArtifactError(.invalidManifest,
                                        "\(path).quantiles must be \(InputProfile.quantileLevels.count) finite non-decreasing values")
                }
            }
            if let bins = field.bins {
                guard bins.shares.count == bins.edges.count + 1, bins.edges.allSatisfy(\.isFinite),
                      zip(bins.edges, bins.edges.dropFirst()).allSatisfy({ $0 < $1 })
                else {
                    throw ArtifactError(.invalidManifest,
                                        "\(path).bins: edges must be finite and increasing, with one share more than edges")
                }
            }
        }
    }
}
