import Inference
import Monitoring
import Registry
import Testing

@Suite(.timeLimit(.minutes(10))) struct CanarySplitTests {
    @Test func theSameIdAlwaysGoesTheSameWay() {
        for id in ["MLB1", "MLA-99", "", "ü-42"] {
            let first = CanarySplit.goesToCanary(id: FeatureText(id), weight: 0.3)
            for _ in 0..<10 { #expect(CanarySplit.goesToCanary(id: FeatureText(id), weight: 0.3) == first) }
        }
    }

    @Test func listingsWithoutAnIdAndWeightZeroAreNeverSplit() {
        #expect(!CanarySplit.goesToCanary(id: nil, weight: 1))
        #expect(!CanarySplit.goesToCanary(id: "MLB1", weight: 0))
        #expect(CanarySplit.goesToCanary(id: "MLB1", weight: 1))
    }

    @Test func theShareIsTheWeightWithinFiveStandardDeviations() {
        let n = 100_000
        for weight in [0.01, 0.05, 0.5] {
            let hits = (0..<n).filter { CanarySplit.goesToCanary(id: FeatureText("MLB\($0)"), weight: weight) }.count
            let sd = (Double(n) * weight * (1 - weight)).squareRoot()
            #expect(abs(Double(hits) - Double(n) * weight) < 5 * sd, "weight \(weight): \(hits) of \(n)")
        }
    }

    @Test func raisingTheWeightOnlyAddsListings() {
        for i in 0..<5000 {
            let id = "listing-\(i)"
            if CanarySplit.goesToCanary(id: FeatureText(id), weight: 0.05) { #expect(CanarySplit.goesToCanary(id: FeatureText(id), weight: 0.1)) }
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct ScoreComparisonTests {
    static func prediction(_ score: Double, threshold: Double = 0.5) -> Prediction {
        Prediction(score: score, label: score >= threshold ? "prohibited" : "allowed", isPositive: score >= threshold)
    }

    @Test func identicalAnswersAgreeWithoutDifference() {
        var comparison = ScoreComparison()
        for score in stride(from: 0.0, through: 1.0, by: 0.01) {
            comparison.add(baseline: Self.prediction(score), candidate: Self.prediction(score))
        }
        #expect(comparison.count == 101)
        #expect(comparison.agreement == 1)
        #expect(comparison.meanAbsDelta == 0)
        #expect(comparison.p99AbsDelta == 0.001)
        #expect(comparison.psi == 0)
    }

    @Test func disagreementMeanAndP99FollowThePairs() {
        var comparison = ScoreComparison()
        // 98 pairs 0.1 apart on the same side, 2 pairs crossing the threshold 0.4 apart.
        for _ in 0..<98 { comparison.add(baseline: Self.prediction(0.2), candidate: Self.prediction(0.3)) }
        for _ in 0..<2 { comparison.add(baseline: Self.prediction(0.3), candidate: Self.prediction(0.7)) }
        #expect(comparison.agreements == 98)
        #expect(abs(comparison.disagreement - 0.02) < 1e-12)
        #expect(abs(comparison.meanAbsDelta - (98 * 0.1 + 2 * 0.4) / 100) < 1e-12)
        // Rank 99 of 100 is one of the two 0.4 differences, read to the bin width.
        #expect(abs(comparison.p99AbsDelta - 0.4) <= ScoreComparison.deltaResolution + 1e-9)
        #expect(comparison.p99AbsDelta > 0.1 + ScoreComparison.deltaResolution)
        #expect(comparison.psi > 1)
    }

    @Test func psiOfKnownSharesMatchesTheFormula() {
        let expected = 0.25 * Glibc_log(1.5) + 0.25 * Glibc_log(2)
        #expect(abs(PSI.index(expected: [1, 1], actual: [3, 1]) - expected) < 1e-12)
        #expect(abs(PSI.index(expectedShares: [0.5, 0.5], actual: [3, 1]) - expected) < 1e-12)
        #expect(PSI.index(expected: [0, 0], actual: [1, 1]) == 0)
        // An empty bin counts as the floor share, not infinity.
        #expect(PSI.index(expectedShares: [1, 0], actual: [0, 5]).isFinite)
    }
}

@Suite(.timeLimit(.minutes(10))) struct GuardTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var guards: RolloutGuards
        var agreeing: Int
        var crossing: Int
        var breach: String?
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "below min_samples nothing fires", guards: RolloutGuards(minSamples: 100, maxDisagreement: 0.01),
            agreeing: 50, crossing: 49, breach: nil),
        Row(name: "disagreement above its limit fires once min_samples is reached",
            guards: RolloutGuards(minSamples: 100, maxDisagreement: 0.01), agreeing: 90, crossing: 10,
            breach: "disagreement 0.1 > max_disagreement 0.01 after 100 listings"),
        Row(name: "disagreement at its limit does not fire", guards: RolloutGuards(minSamples: 100, maxDisagreement: 0.1),
            agreeing: 90, crossing: 10, breach: nil),
        Row(name: "psi fires when the score distributions part", guards: RolloutGuards(minSamples: 10, maxPSI: 0.2),
            agreeing: 0, crossing: 20, breach: "psi 18.4188 > max_psi 0.2 after 20 listings"),
        Row(name: "mean delta fires", guards: RolloutGuards(minSamples: 10, maxMeanDelta: 0.05),
            agreeing: 0, crossing: 10, breach: "mean |Δscore| 0.6 > max_mean_delta 0.05 after 10 listings"),
        Row(name: "no limits, nothing fires", guards: RolloutGuards(minSamples: 1), agreeing: 0, crossing: 100, breach: nil),
    ]

    @Test(arguments: rows) func guardsJudgeComparisons(_ row: Row) {
        var comparison = ScoreComparison()
        for _ in 0..<row.agreeing { comparison.add(baseline: ScoreComparisonTests.prediction(0.2), candidate: ScoreComparisonTests.prediction(0.2)) }
        for _ in 0..<row.crossing { comparison.add(baseline: ScoreComparisonTests.prediction(0.2), candidate: ScoreComparisonTests.prediction(0.8)) }
        #expect(row.guards.breach(of: comparison) == row.breach)
    }
}

import Glibc
func Glibc_log(_ x: Double) -> Double { Glibc.log(x) }
