import FoundationEssentials

/// Counts of a binary decision at one threshold (`score >= threshold` is positive).
public struct ConfusionCounts: Sendable, Equatable, Codable {
    public var truePositives = 0
    public var falsePositives = 0
    public var trueNegatives = 0
    public var falseNegatives = 0

    public init(truePositives: Int = 0, falsePositives: Int = 0, trueNegatives: Int = 0, falseNegatives: Int = 0) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
    }

    public init(scores: [Double], labels: [Int], threshold: Double) {
        precondition(scores.count == labels.count, "one label per score")
        for (score, label) in zip(scores, labels) {
            switch (score >= threshold, label == 1) {
            case (true, true): truePositives += 1
            case (true, false): falsePositives += 1
            case (false, false): trueNegatives += 1
            case (false, true): falseNegatives += 1
            }
        }
    }

    public var total: Int { truePositives + falsePositives + trueNegatives + falseNegatives }
    /// tp / (tp + fp); 0 when nothing is predicted positive (sklearn's `zero_division=0`).
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    /// tp / (tp + fn); 0 when there are no positives.
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    /// Harmonic mean of precision and recall; 0 when both are 0.
    public var f1: Double { ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives) }
    public var accuracy: Double { ratio(truePositives + trueNegatives, total) }

    private func ratio(_ numerator: Int, _ denominator: Int) -> Double {
        denominator == 0 ? 0 : Double(numerator) / Double(denominator)
    }
}

/// The evaluation of scores against labels: ranking metrics plus the decision at a threshold.
public struct EvaluationMetrics: Sendable, Equatable, Codable {
    /// Area under the ROC curve; tied scores count one half (Mann–Whitney). `nil` with one class only.
    public var rocAUC: Double?
    /// Average precision (sklearn's step-wise PR-AUC, no interpolation). `nil` without positives.
    public var prAUC: Double?
    public var threshold: Double
    public var confusion: ConfusionCounts
    public var precision: Double { confusion.precision }
    public var recall: Double { confusion.recall }
    public var f1: Double { confusion.f1 }
    public var accuracy: Double { confusion.accuracy }
    public var count: Int { confusion.total }
    /// Labels are 0 or 1 (the dataset checks it), so these are the rows labelled 1.
    public var positives: Int { confusion.truePositives + confusion.falseNegatives }

    public init(scores: [Double], labels: [Int], threshold: Double) {
        let confusion = ConfusionCounts(scores: scores, labels: labels, threshold: threshold)
        self.rocAUC = RankingMetrics.rocAUC(scores: scores, labels: labels)
        self.prAUC = RankingMetrics.averagePrecision(scores: scores, labels: labels)
        self.threshold = threshold
        self.confusion = confusion
    }

    /// A fixed-width table for the terminal.
    public var table: String {
        func format(_ value: Double?) -> String {
            guard let value else { return "n/a" }
            return formatFixed(value, digits: 4)
        }
        return """
            metric      value
            rows        \(count) (\(positives) positive)
            roc_auc     \(format(rocAUC))
            pr_auc      \(format(prAUC))
            threshold   \(format(threshold))
            precision   \(format(precision))
            recall      \(format(recall))
            f1          \(format(f1))
            accuracy    \(format(accuracy))
            confusion   tp=\(confusion.truePositives) fp=\(confusion.falsePositives) tn=\(confusion.trueNegatives) fn=\(confusion.falseNegatives)
            """
    }
}

/// Formats `value` with a fixed number of decimals without Foundation's `String(format:)`.
public func formatFixed(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    var fractionText = String(fraction)
    while fractionText.count < digits { fractionText = "0" + fractionText }
    return (value < 0 && scaled != 0 ? "-" : "") + "\(whole)" + (digits > 0 ? ".\(fractionText)" : "")
}

/// Ranking metrics and threshold rules, as pure functions of (scores, labels).
public enum RankingMetrics {
    /// ROC-AUC by the rank-sum formula with average ranks for ties, so a tie between a
    /// positive and a negative counts one half. `nil` when either class is absent.
    public static func rocAUC(scores: [Double], labels: [Int]) -> Double? {
        let positives = labels.reduce(0, +)
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveRankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let averageRank = Double(start + end) / 2 + 1
            for k in start...end where labels[order[k]] == 1 { positiveRankSum += averageRank }
            start = end + 1
        }
        let p = Double(positives), n = Double(negatives)
        return (positiveRankSum - p * (p + 1) / 2) / (p * n)
    }

    /// One operating point per distinct score, from the highest score down:
    /// predicting `score >= threshold` positive gives `truePositives`/`falsePositives`.
    public struct OperatingPoint: Sendable, Equatable {
        public var threshold: Double
        public var truePositives: Int
        public var falsePositives: Int
    }

    public static func operatingPoints(scores: [Double], labels: [Int]) -> [OperatingPoint] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [OperatingPoint] = []
        var tp = 0, fp = 0, k = 0
        while k < order.count {
            let threshold = scores[order[k]]
            while k < order.count, scores[order[k]] == threshold {
                if labels[order[k]] == 1 { tp += 1 } else { fp += 1 }
                k += 1
            }
            points.append(OperatingPoint(threshold: threshold, truePositives: tp, falsePositives: fp))
        }
        return points
    }

    /// Average precision: Σ (Rₖ − Rₖ₋₁) · Pₖ over distinct thresholds, highest first
    /// (scikit-learn's `average_precision_score`). `nil` when there are no positives.
    public static func averagePrecision(scores: [Double], labels: [Int]) -> Double? {
        let positives = labels.reduce(0, +)
        guard positives > 0 else { return nil }
        var previousRecall = 0.0
        var sum = 0.0
        for point in operatingPoints(scores: scores, labels: labels) {
            let recall = Double(point.truePositives) / Double(positives)
            let precision = Double(point.truePositives) / Double(point.truePositives + point.falsePositives)
            sum += (recall - previousRecall) * precision
            previousRecall = recall
        }
        return sum
    }

    /// The threshold (one of the scores) that maximises F1 of `score >= threshold`.
    /// Ties go to the higher threshold (fewer flagged listings). 0.5 when there are no positives.
    public static func thresholdMaximisingF1(scores: [Double], labels: [Int]) -> Double {
        let positives = labels.reduce(0, +)
        guard positives > 0 else { return 0.5 }
        var best = (f1: -1.0, threshold: 0.5)
        for point in operatingPoints(scores: scores, labels: labels) {
            let f1 = Double(2 * point.truePositives) / Double(point.truePositives + point.falsePositives + positives)
            if f1 > best.f1 { best = (f1, point.threshold) }
        }
        return best.threshold
    }

    /// The lowest threshold whose precision reaches `target` (so the highest recall at that
    /// precision); `nil` when no threshold reaches it.
    public static func thresholdForPrecision(_ target: Double, scores: [Double], labels: [Int]) -> Double? {
        var chosen: Double?
        for point in operatingPoints(scores: scores, labels: labels) {
            let precision = Double(point.truePositives) / Double(point.truePositives + point.falsePositives)
            if precision >= target, point.truePositives > 0 { chosen = point.threshold }
        }
        return chosen
    }
}

/// What `vigia evaluate --metrics FILE` writes: the metrics as one JSON object with sorted
/// snake_case keys, for tools that read metrics files (a DVC pipeline's `metrics:`).
/// `robustness` (with `--robustness`) has one member per disguise, and `clean`.
public struct MetricsFile: Sendable, Equatable, Encodable {
    public struct Confusion: Sendable, Equatable, Encodable {
        var true_positive, false_positive, true_negative, false_negative: Int
    }
    public struct Disguised: Sendable, Equatable, Encodable {
        var recall, false_alarm_rate: Double
        var caught, false_alarms: Int
    }
    var rows, positives: Int
    var roc_auc, pr_auc: Double?
    var threshold, precision, recall, f1, accuracy: Double
    var confusion: Confusion
    var robustness: [String: Disguised]?

    public init(_ metrics: EvaluationMetrics, robustness: RobustnessReport? = nil) {
        let counts = metrics.confusion
        rows = metrics.count
        positives = metrics.positives
        roc_auc = metrics.rocAUC
        pr_auc = metrics.prAUC
        threshold = metrics.threshold
        precision = metrics.precision
        recall = metrics.recall
        f1 = metrics.f1
        accuracy = metrics.accuracy
        confusion = Confusion(true_positive: counts.truePositives, false_positive: counts.falsePositives,
                              true_negative: counts.trueNegatives, false_negative: counts.falseNegatives)
        self.robustness = robustness.map { report in
            Dictionary(uniqueKeysWithValues: report.rows.map { row in
                (row.name, Disguised(recall: row.recall, false_alarm_rate: row.falseAlarmRate,
                                     caught: row.confusion.truePositives, false_alarms: row.confusion.falsePositives))
            })
        }
    }

    /// The file's bytes: pretty-printed, keys sorted, a final newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
