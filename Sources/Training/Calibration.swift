/// Curves, calibration, histograms and confidence intervals of binary scores: pure functions
/// of (scores, labels), the numbers behind the evaluation report.
public enum ScoreAnalysis {
    /// One point of a curve (ROC: x = false-positive rate, y = true-positive rate; PR: x =
    /// recall, y = precision), with the threshold that produces it (`score >= threshold`).
    public struct CurvePoint: Sendable, Equatable, Codable {
        public var x: Double
        public var y: Double
        /// Nil for the ROC curve's (0, 0) anchor, which no threshold produces.
        public var threshold: Double?

        public init(x: Double, y: Double, threshold: Double?) {
            self.x = x
            self.y = y
            self.threshold = threshold
        }
    }

    /// The ROC curve from (0, 0) through one point per distinct score, highest first, to
    /// (1, 1). Empty when either class is absent.
    public static func rocCurve(scores: [Double], labels: [Int]) -> [CurvePoint] {
        let positives = labels.reduce(0, +)
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return [] }
        var points = [CurvePoint(x: 0, y: 0, threshold: nil)]
        for point in RankingMetrics.operatingPoints(scores: scores, labels: labels) {
            points.append(CurvePoint(x: Double(point.falsePositives) / Double(negatives),
                                     y: Double(point.truePositives) / Double(positives), threshold: point.threshold))
        }
        return points
    }

    /// The precision–recall curve, one point per distinct score, highest first (recall rising).
    /// Empty without positives.
    public static func precisionRecallCurve(scores: [Double], labels: [Int]) -> [CurvePoint] {
        let positives = labels.reduce(0, +)
        guard positives > 0 else { return [] }
        return RankingMetrics.operatingPoints(scores: scores, labels: labels).map { point in
            CurvePoint(x: Double(point.truePositives) / Double(positives),
                       y: Double(point.truePositives) / Double(point.truePositives + point.falsePositives),
                       threshold: point.threshold)
        }
    }

    /// At most `limit` points of `curve` (≥ 2): the first and the last always, and in between
    /// the points where the path has moved at least 1/`limit` of the unit square since the
    /// last kept point, so a curve of thousands of steps keeps its shape in a few hundred.
    public static func thin(_ curve: [CurvePoint], limit: Int) -> [CurvePoint] {
        precondition(limit >= 2, "a curve needs two points")
        guard curve.count > limit else { return curve }
        var step = 1 / Double(limit)
        while true {
            var kept = [curve[0]]
            for point in curve.dropFirst().dropLast() {
                let last = kept[kept.count - 1]
                if abs(point.x - last.x) + abs(point.y - last.y) >= step { kept.append(point) }
            }
            kept.append(curve[curve.count - 1])
            if kept.count <= limit { return kept }
            step *= 1.5
        }
    }

    /// One bin of a reliability diagram: scores in [lower, upper) (the last bin includes 1).
    public struct ReliabilityBin: Sendable, Equatable, Codable {
        public var lower: Double
        public var upper: Double
        public var count: Int
        /// Mean score of the rows in the bin (nil when empty).
        public var meanScore: Double?
        /// Share of positives among them (nil when empty).
        public var observedRate: Double?

        enum CodingKeys: String, CodingKey {
            case lower, upper, count
            case meanScore = "mean_score"
            case observedRate = "observed_rate"
        }
    }

    public struct Calibration: Sendable, Equatable, Codable {
        public var bins: [ReliabilityBin]
        /// Mean squared difference between score and label.
        public var brierScore: Double
        /// Expected calibration error: Σ (rows in bin / rows) · |observed rate − mean score|.
        public var expectedCalibrationError: Double
        /// Largest |observed rate − mean score| over the non-empty bins.
        public var maximumCalibrationError: Double

        enum CodingKeys: String, CodingKey {
            case bins
            case brierScore = "brier_score"
            case expectedCalibrationError = "expected_calibration_error"
            case maximumCalibrationError = "maximum_calibration_error"
        }
    }

    /// The bin of `score` among `count` equal-width bins of [0, 1] (scores outside are clamped).
    static func bin(of score: Double, count: Int) -> Int {
        min(count - 1, max(0, Int(score * Double(count))))
    }

    /// Reliability diagram over `binCount` equal-width bins, Brier score and calibration errors.
    public static func calibration(scores: [Double], labels: [Int], binCount: Int = 10) -> Calibration {
        precondition(scores.count == labels.count && !scores.isEmpty, "one label per score, at least one row")
        var counts = [Int](repeating: 0, count: binCount)
        var scoreSums = [Double](repeating: 0, count: binCount)
        var positiveCounts = [Int](repeating: 0, count: binCount)
        var brier = 0.0
        for (score, label) in zip(scores, labels) {
            let k = bin(of: score, count: binCount)
            counts[k] += 1
            scoreSums[k] += score
            positiveCounts[k] += label
            brier += (score - Double(label)) * (score - Double(label))
        }
        var bins: [ReliabilityBin] = []
        var expected = 0.0
        var maximum = 0.0
        for k in 0..<binCount {
            var bin = ReliabilityBin(lower: Double(k) / Double(binCount), upper: Double(k + 1) / Double(binCount),
                                     count: counts[k], meanScore: nil, observedRate: nil)
            if counts[k] > 0 {
                let mean = scoreSums[k] / Double(counts[k])
                let rate = Double(positiveCounts[k]) / Double(counts[k])
                bin.meanScore = mean
                bin.observedRate = rate
                expected += Double(counts[k]) / Double(scores.count) * abs(rate - mean)
                maximum = max(maximum, abs(rate - mean))
            }
            bins.append(bin)
        }
        return Calibration(bins: bins, brierScore: brier / Double(scores.count),
                           expectedCalibrationError: expected, maximumCalibrationError: maximum)
    }

    /// Score histograms of the two classes over `binCount` equal-width bins of [0, 1].
    public struct Histograms: Sendable, Equatable, Codable {
        public var binCount: Int
        public var negatives: [Int]
        public var positives: [Int]

        enum CodingKeys: String, CodingKey {
            case binCount = "bin_count"
            case negatives, positives
        }
    }

    public static func histograms(scores: [Double], labels: [Int], binCount: Int = 20) -> Histograms {
        var result = Histograms(binCount: binCount, negatives: .init(repeating: 0, count: binCount),
                                positives: .init(repeating: 0, count: binCount))
        for (score, label) in zip(scores, labels) {
            let k = bin(of: score, count: binCount)
            if label == 1 { result.positives[k] += 1 } else { result.negatives[k] += 1 }
        }
        return result
    }

    /// A two-sided interval for an estimate.
    public struct Interval: Sendable, Equatable, Codable {
        public var lower: Double
        public var upper: Double

        public init(lower: Double, upper: Double) {
            self.lower = lower
            self.upper = upper
        }
    }

    /// The Wilson score interval of `successes` out of `trials` at z = 1.959964 (95 %); nil
    /// without trials. Unlike the normal approximation it stays inside [0, 1] and is sensible
    /// at 0 or `trials` successes and for small counts.
    public static func wilson(successes: Int, trials: Int, z: Double = 1.959964) -> Interval? {
        guard trials > 0 else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return Interval(lower: max(0, centre - half), upper: min(1, centre + half))
    }

    /// A 95 % percentile bootstrap interval of ROC-AUC: `resamples` stratified resamples (each
    /// class drawn with replacement to its own size, so every resample has both classes) from
    /// a `SeededGenerator(seed:)`, so the interval depends only on the data and the seed. Nil
    /// when either class is absent.
    public static func bootstrapAUC(scores: [Double], labels: [Int], resamples: Int = 200, seed: UInt64 = 20_261_204) -> Interval? {
        let positiveRows = labels.indices.filter { labels[$0] == 1 }
        let negativeRows = labels.indices.filter { labels[$0] != 1 }
        guard !positiveRows.isEmpty, !negativeRows.isEmpty, resamples > 0 else { return nil }
        // Sort once; each resample is then a weighting of the rows, scored in one pass.
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var generator = SeededGenerator(seed: seed)
        var weights = [Int](repeating: 0, count: scores.count)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            for k in weights.indices { weights[k] = 0 }
            for _ in positiveRows { weights[positiveRows[generator.nextIndex(below: positiveRows.count)]] += 1 }
            for _ in negativeRows { weights[negativeRows[generator.nextIndex(below: negativeRows.count)]] += 1 }
            values.append(weightedAUC(order: order, scores: scores, labels: labels, weights: weights))
        }
        values.sort()
        return Interval(lower: quantile(values, 0.025), upper: quantile(values, 0.975))
    }

    /// ROC-AUC where row k counts `weights[k]` times: the share of (positive, negative) pairs
    /// the positive wins, ties one half. `order` sorts the rows by score ascending.
    static func weightedAUC(order: [Int], scores: [Double], labels: [Int], weights: [Int]) -> Double {
        var negativesBelow = 0.0
        var wins = 0.0
        var totalPositives = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            var groupPositives = 0.0, groupNegatives = 0.0
            for k in start...end {
                let row = order[k]
                if labels[row] == 1 { groupPositives += Double(weights[row]) } else { groupNegatives += Double(weights[row]) }
            }
            wins += groupPositives * (negativesBelow + groupNegatives / 2)
            negativesBelow += groupNegatives
            totalPositives += groupPositives
            start = end + 1
        }
        return wins / (totalPositives * negativesBelow)
    }

    /// Linear interpolation between order statistics of sorted `values` (numpy's default).
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let position = q * Double(values.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(values.count - 1, below + 1)
        let fraction = position - Double(below)
        return values[below] + (values[above] - values[below]) * fraction
    }
}
