import Glibc
import Inference
import Registry

/// How a candidate version's answers compare with the serving version's on the same
/// listings: label agreement, mean and p99 |Δscore|, and the population stability index of
/// the two score distributions. A value: add pairs, read figures; merge is order-free.
public struct ScoreComparison: Sendable, Equatable {
    /// Width of the |Δscore| bins the p99 is read from (the p99 is exact to this).
    public static let deltaResolution = 0.001
    /// Score bins for the PSI: 20 fixed bins 0.05 wide over [0, 1].
    public static let scoreBinCount = 20

    public private(set) var count = 0
    public private(set) var agreements = 0
    public private(set) var sumAbsDelta = 0.0
    /// |Δ| per bin of `deltaResolution` (the last bin holds everything from 1.0 up).
    private var deltaBins = [Int](repeating: 0, count: 1001)
    private var baselineBins = [Int](repeating: 0, count: scoreBinCount)
    private var candidateBins = [Int](repeating: 0, count: scoreBinCount)

    public init() {}

    /// One listing scored by both versions.
    public mutating func add(baseline: Prediction, candidate: Prediction) {
        count += 1
        if baseline.isPositive == candidate.isPositive { agreements += 1 }
        let delta = abs(baseline.score - candidate.score)
        sumAbsDelta += delta
        deltaBins[min(Int(delta / Self.deltaResolution), deltaBins.count - 1)] += 1
        baselineBins[Self.scoreBin(baseline.score)] += 1
        candidateBins[Self.scoreBin(candidate.score)] += 1
    }

    /// Adds another comparison of the same pair (e.g. one request's).
    public mutating func merge(_ other: ScoreComparison) {
        count += other.count
        agreements += other.agreements
        sumAbsDelta += other.sumAbsDelta
        for i in deltaBins.indices { deltaBins[i] += other.deltaBins[i] }
        for i in baselineBins.indices {
            baselineBins[i] += other.baselineBins[i]
            candidateBins[i] += other.candidateBins[i]
        }
    }

    static func scoreBin(_ score: Double) -> Int {
        guard score.isFinite else { return 0 }
        return min(max(Int(score * Double(scoreBinCount)), 0), scoreBinCount - 1)
    }

    /// Share of listings with the same label (1 with no listings).
    public var agreement: Double { count == 0 ? 1 : Double(agreements) / Double(count) }
    /// Share of listings with different labels.
    public var disagreement: Double { 1 - agreement }
    public var meanAbsDelta: Double { count == 0 ? 0 : sumAbsDelta / Double(count) }

    /// The 99th percentile of |Δscore|, as the upper edge of its bin (nearest-rank).
    public var p99AbsDelta: Double {
        guard count > 0 else { return 0 }
        let rank = Int((Double(count) * 0.99).rounded(.up))
        var seen = 0
        for (bin, n) in deltaBins.enumerated() {
            seen += n
            if seen >= rank { return min(Double(bin + 1) * Self.deltaResolution, 1) }
        }
        return 1
    }

    /// PSI of the candidate's score distribution against the baseline's, over the fixed bins.
    public var psi: Double {
        PSI.index(expected: baselineBins, actual: candidateBins)
    }
}

/// The population stability index: Σ (a − e) · ln(a / e) over bins, with shares floored at
/// `floor` so an empty bin counts as a small share rather than infinity. Under 0.1 is usually
/// read as stable, above 0.25 as a shift.
public enum PSI {
    public static let floor = 1e-4

    /// From counts per bin (the two arrays have the same bins).
    public static func index(expected: [Int], actual: [Int]) -> Double {
        let e = expected.reduce(0, +), a = actual.reduce(0, +)
        guard e > 0, a > 0 else { return 0 }
        return index(expectedShares: expected.map { Double($0) / Double(e) }, actual: actual)
    }

    /// From expected shares (e.g. a training profile's) and observed counts.
    public static func index(expectedShares: [Double], actual: [Int]) -> Double {
        let total = actual.reduce(0, +)
        guard total > 0, expectedShares.count == actual.count else { return 0 }
        var sum = 0.0
        for (share, count) in zip(expectedShares, actual) {
            let e = max(share, floor)
            let o = max(Double(count) / Double(total), floor)
            sum += (o - e) * (o / e).logarithm
        }
        return sum
    }
}

extension Double {
    /// Natural logarithm (Foundation-free).
    var logarithm: Double { Glibc.log(self) }
}

extension RolloutGuards {
    /// The guard `comparison` breaks, as a sentence for logs and the status; nil while it has
    /// fewer than `minSamples` listings or breaks none. Checked in a fixed order:
    /// disagreement, PSI, mean |Δ|.
    public func breach(of comparison: ScoreComparison) -> String? {
        guard comparison.count >= minSamples else { return nil }
        func figure(_ x: Double) -> String { String((x * 10000).rounded() / 10000) }
        if let limit = maxDisagreement, comparison.disagreement > limit {
            return "disagreement \(figure(comparison.disagreement)) > max_disagreement \(figure(limit)) after \(comparison.count) listings"
        }
        if let limit = maxPSI, comparison.psi > limit {
            return "psi \(figure(comparison.psi)) > max_psi \(figure(limit)) after \(comparison.count) listings"
        }
        if let limit = maxMeanDelta, comparison.meanAbsDelta > limit {
            return "mean |Δscore| \(figure(comparison.meanAbsDelta)) > max_mean_delta \(figure(limit)) after \(comparison.count) listings"
        }
        return nil
    }
}
