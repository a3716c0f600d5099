import Inference

/// A way of cutting the evaluation rows into slices: by the value of a column (a site, a
/// family), or by which bucket a numeric column falls in (seller age).
public struct SliceDimension: Sendable, Equatable, Codable {
    /// The name reports and the publish guard use (`site`, `family`, `seller_age`).
    public var name: String
    /// The dataset column the slice key comes from.
    public var column: String
    /// For a numeric column: ascending bucket edges; a value v falls in the first bucket
    /// whose upper edge is > v (`< e₀`, `e₀–e₁`, …, `≥ eₙ`). Nil: the column's text is the key.
    public var edges: [Double]?

    public init(name: String, column: String, edges: [Double]? = nil) {
        self.name = name
        self.column = column
        self.edges = edges
    }

    /// Site, generating family, and seller age in days (under a month, a month to a year,
    /// one to five years, five years or more).
    public static let defaults: [SliceDimension] = [
        SliceDimension(name: "site", column: "site_id"),
        SliceDimension(name: "family", column: "family"),
        SliceDimension(name: "seller_age", column: "seller_age_days", edges: [30, 365, 1825]),
    ]

    /// The slice key of one value; nil for a missing value (the row is in no slice of this dimension).
    public func key(of value: FeatureValue) -> String? {
        switch value {
        case .missing: return nil
        case .string(let text): return edges == nil ? text.string : nil
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            guard let edges else { return "\(number)" }
            return Self.bucketName(of: number, edges: edges)
        }
    }

    /// `<30`, `30–365`, …, `≥1825` (edges printed without a needless `.0`).
    static func bucketName(of value: Double, edges: [Double]) -> String {
        func text(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)" }
        guard let first = edges.first, value >= first else { return "<" + text(edges.first ?? 0) }
        for k in 1..<max(1, edges.count) where value < edges[k] {
            return text(edges[k - 1]) + "–" + text(edges[k])
        }
        return "≥" + text(edges[edges.count - 1])
    }

    /// The order buckets are listed in (edges order), or nil for text keys.
    func bucketOrder() -> [String]? {
        guard let edges, !edges.isEmpty else { return nil }
        var names = [Self.bucketName(of: -.infinity, edges: edges)]
        for k in 1..<edges.count { names.append(Self.bucketName(of: edges[k - 1], edges: edges)) }
        names.append(Self.bucketName(of: edges[edges.count - 1], edges: edges))
        return names
    }

    /// Rejects a dimension no report could use, naming it.
    public func validate() throws(TrainingError) {
        if name.isEmpty || column.isEmpty { throw .invalidConfig("slices: every slice needs a name and a column") }
        if let edges {
            if edges.isEmpty { throw .invalidConfig("slices.\(name): edges must not be empty") }
            for k in edges.indices where !edges[k].isFinite || (k > 0 && edges[k] <= edges[k - 1]) {
                throw .invalidConfig("slices.\(name): edges must be finite and strictly ascending")
            }
        }
    }
}

/// The metrics of one slice (or of all rows): counts, ranking quality and the decision at the
/// threshold, each with a 95 % interval.
public struct SliceMetrics: Sendable, Equatable, Codable {
    /// The dimension (`site`) and the key (`MLB`); `all` / `all` for every row.
    public var dimension: String
    public var key: String
    public var rows: Int
    public var positives: Int
    public var flagged: Int
    /// Nil when the slice lacks one of the classes.
    public var rocAUC: Double?
    public var rocAUCInterval: ScoreAnalysis.Interval?
    public var prAUC: Double?
    /// Nil when nothing in the slice is flagged.
    public var precision: Double?
    public var precisionInterval: ScoreAnalysis.Interval?
    /// Nil without positives.
    public var recall: Double?
    public var recallInterval: ScoreAnalysis.Interval?
    /// Flagged share of the negatives; nil without negatives.
    public var falsePositiveRate: Double?

    enum CodingKeys: String, CodingKey {
        case dimension, key, rows, positives, flagged
        case rocAUC = "roc_auc"
        case rocAUCInterval = "roc_auc_ci"
        case prAUC = "pr_auc"
        case precision
        case precisionInterval = "precision_ci"
        case recall
        case recallInterval = "recall_ci"
        case falsePositiveRate = "false_positive_rate"
    }

    /// The metrics of `scores` against `labels` at `threshold`. Intervals: Wilson for the
    /// proportions, a seeded stratified bootstrap for ROC-AUC.
    public init(dimension: String, key: String, scores: [Double], labels: [Int], threshold: Double,
                bootstrapResamples: Int = 200, seed: UInt64 = 20_261_204) {
        let counts = ConfusionCounts(scores: scores, labels: labels, threshold: threshold)
        self.dimension = dimension
        self.key = key
        rows = counts.total
        positives = counts.truePositives + counts.falseNegatives
        flagged = counts.truePositives + counts.falsePositives
        rocAUC = RankingMetrics.rocAUC(scores: scores, labels: labels)
        rocAUCInterval = rocAUC == nil ? nil
            : ScoreAnalysis.bootstrapAUC(scores: scores, labels: labels, resamples: bootstrapResamples, seed: seed)
        prAUC = RankingMetrics.averagePrecision(scores: scores, labels: labels)
        if flagged > 0 {
            precision = counts.precision
            precisionInterval = ScoreAnalysis.wilson(successes: counts.truePositives, trials: flagged)
        }
        if positives > 0 {
            recall = counts.recall
            recallInterval = ScoreAnalysis.wilson(successes: counts.truePositives, trials: positives)
        }
        let negatives = rows - positives
        if negatives > 0 { falsePositiveRate = Double(counts.falsePositives) / Double(negatives) }
    }

    /// The value of a guard metric (`roc_auc`, `pr_auc`, `precision`, `recall`), nil when undefined.
    public func value(of metric: SliceGuard.Metric) -> Double? {
        switch metric {
        case .rocAUC: rocAUC
        case .prAUC: prAUC
        case .precision: precision
        case .recall: recall
        }
    }
}

/// Slices of evaluation rows, from their keys.
public enum Slicing {
    /// Per row, the key of each dimension (nil when the column is absent or the value missing).
    public static func keys(of rows: [DatasetRow], schema: DatasetSchema, dimensions: [SliceDimension]) -> [[String?]] {
        let columns = dimensions.map { dimension in schema.columns.firstIndex { $0.name == dimension.column } }
        return rows.map { row in
            zip(dimensions, columns).map { dimension, column in column.flatMap { dimension.key(of: row.values[$0]) } }
        }
    }

    /// Metrics of every slice of every dimension that has at least one keyed row, in dimension
    /// order; within a dimension buckets in edge order and text keys by descending row count
    /// (then by key). Each slice's bootstrap uses its own seed derived from `seed`.
    public static func metrics(
        dimensions: [SliceDimension], keys: [[String?]], scores: [Double], labels: [Int], threshold: Double,
        bootstrapResamples: Int = 200, seed: UInt64 = 20_261_204
    ) -> [SliceMetrics] {
        var result: [SliceMetrics] = []
        for (d, dimension) in dimensions.enumerated() {
            var members: [String: [Int]] = [:]
            for (row, rowKeys) in keys.enumerated() {
                if let key = rowKeys[d] { members[key, default: []].append(row) }
            }
            let ordered: [String]
            if let buckets = dimension.bucketOrder() {
                ordered = buckets.filter { members[$0] != nil }
            } else {
                ordered = members.keys.sorted { a, b in
                    let (ca, cb) = (members[a]!.count, members[b]!.count)
                    return ca != cb ? ca > cb : a < b
                }
            }
            for (k, key) in ordered.enumerated() {
                let rows = members[key]!
                result.append(SliceMetrics(
                    dimension: dimension.name, key: key, scores: rows.map { scores[$0] }, labels: rows.map { labels[$0] },
                    threshold: threshold, bootstrapResamples: bootstrapResamples,
                    seed: seed &+ UInt64(d) &* 1_000_003 &+ UInt64(k)))
            }
        }
        return result
    }
}

/// Which slices a new version may not get worse on, and by how much, before publishing
/// refuses it (unless forced).
public struct SliceGuard: Sendable, Equatable {
    public enum Metric: String, Sendable, Equatable, Codable, CaseIterable {
        case rocAUC = "roc_auc"
        case prAUC = "pr_auc"
        case precision
        case recall
    }

    /// Slice dimensions to guard (names of `SliceDimension`s). Default: `site`.
    public var dimensions: [String] = ["site"]
    public var metric: Metric = .prAUC
    /// The largest drop allowed (candidate ≥ previous − tolerance). Default 0.02.
    public var tolerance: Double = 0.02
    /// Slices with fewer positives than this are not guarded (their metric is mostly noise). Default 20.
    public var minimumPositives: Int = 20

    public init() {}

    /// A guarded slice where the candidate is worse than the previous version by more than the tolerance.
    public struct Regression: Sendable, Equatable, CustomStringConvertible {
        public var dimension: String
        public var key: String
        public var metric: Metric
        public var candidate: Double
        public var previous: Double
        public var tolerance: Double

        public var description: String {
            "\(dimension)=\(key): \(metric.rawValue) \(formatFixed(candidate, digits: 4)) against "
                + "\(formatFixed(previous, digits: 4)) (drop \(formatFixed(previous - candidate, digits: 4)) > tolerance \(formatFixed(tolerance, digits: 4)))"
        }
    }

    /// The guarded slices where `candidate` falls below `previous` by more than the tolerance.
    /// Both lists must come from the same rows; a slice missing on either side, or with the
    /// metric undefined on either side, or under `minimumPositives`, is skipped.
    public func regressions(candidate: [SliceMetrics], previous: [SliceMetrics]) -> [Regression] {
        var previousByKey: [String: SliceMetrics] = [:]
        for slice in previous { previousByKey[slice.dimension + "\u{1F}" + slice.key] = slice }
        var found: [Regression] = []
        for slice in candidate where dimensions.contains(slice.dimension) && slice.positives >= minimumPositives {
            guard let before = previousByKey[slice.dimension + "\u{1F}" + slice.key],
                  let now = slice.value(of: metric), let then = before.value(of: metric) else { continue }
            if now < then - tolerance {
                found.append(Regression(dimension: slice.dimension, key: slice.key, metric: metric,
                                        candidate: now, previous: then, tolerance: tolerance))
            }
        }
        return found
    }

    public func validate(against slices: [SliceDimension]) throws(TrainingError) {
        for name in dimensions where !slices.contains(where: { $0.name == name }) {
            throw .invalidConfig("slice_guard.dimensions: no slice named \"\(name)\" (slices: \(slices.map(\.name).joined(separator: ", ")))")
        }
        if !(tolerance >= 0 && tolerance.isFinite) { throw .invalidConfig("slice_guard.tolerance must be ≥ 0") }
        if minimumPositives < 0 { throw .invalidConfig("slice_guard.min_positives must be ≥ 0") }
    }
}
