import FoundationEssentials
import Inference
import Testing
@testable import Training

@Suite(.timeLimit(.minutes(10))) struct ReportComputationTests {
    @Test func rocCurveRunsFromTheOriginToTheCornerThroughEachDistinctScore() {
        // handScores: 0.9(+) 0.8(+) 0.8(−) 0.6(+) 0.4(−) 0.3(−)
        let curve = ScoreAnalysis.rocCurve(scores: handScores, labels: handLabels)
        let third = 1.0 / 3, twoThirds = 2.0 / 3
        let xs: [Double] = [0, 0, third, third, twoThirds, 1]
        let ys: [Double] = [0, third, twoThirds, 1, 1, 1]
        #expect(curve.map(\.x) == xs)
        #expect(curve.map(\.y) == ys)
        #expect(curve.first?.threshold == nil)
        #expect(curve.dropFirst().map(\.threshold) == [0.9, 0.8, 0.6, 0.4, 0.3])
        #expect(ScoreAnalysis.rocCurve(scores: [0.1, 0.2], labels: [1, 1]).isEmpty)
    }

    @Test func precisionRecallCurveMatchesTheHandFigures() {
        let curve = ScoreAnalysis.precisionRecallCurve(scores: handScores, labels: handLabels)
        let recalls: [Double] = [1.0 / 3, 2.0 / 3, 1, 1, 1]
        let precisions: [Double] = [1, 2.0 / 3, 0.75, 0.6, 0.5]
        #expect(curve.map(\.x) == recalls)
        #expect(curve.map(\.y) == precisions)
    }

    @Test func thinningKeepsTheEndsAndStaysUnderTheLimit() {
        let long = (0...5000).map { k in ScoreAnalysis.CurvePoint(x: Double(k) / 5000, y: (Double(k) / 5000).squareRoot(), threshold: nil) }
        let thin = ScoreAnalysis.thin(long, limit: 300)
        #expect(thin.count <= 300 && thin.count > 50)
        #expect(thin.first == long.first && thin.last == long.last)
        #expect(ScoreAnalysis.thin(Array(long.prefix(10)), limit: 300).count == 10)
    }

    @Test func calibrationBinsBrierAndErrorsByHand() {
        // Bin 0 (0.0–0.1): 0.05(0), 0.05(1) → mean 0.05, rate 0.5; bin 9: 0.95(1), 0.95(1) → rate 1.
        let c = ScoreAnalysis.calibration(scores: [0.05, 0.05, 0.95, 0.95, 1.0], labels: [0, 1, 1, 1, 1])
        #expect(c.bins.count == 10)
        #expect(c.bins[0].count == 2 && c.bins[0].observedRate == 0.5)
        #expect(c.bins[9].count == 3)  // 1.0 falls in the last bin
        #expect(c.bins[5].meanScore == nil)
        let brier: Double = (0.0025 + 0.9025 + 0.0025 + 0.0025 + 0) / 5
        #expect(abs(c.brierScore - brier) < 1e-12)
        let mean9 = (0.95 + 0.95 + 1.0) / 3
        let ece = 2.0 / 5 * 0.45 + 3.0 / 5 * abs(1 - mean9)
        #expect(abs(c.expectedCalibrationError - ece) < 1e-12)
        #expect(abs(c.maximumCalibrationError - 0.45) < 1e-12)
    }

    @Test func histogramsCountEachClass() {
        let h = ScoreAnalysis.histograms(scores: handScores, labels: handLabels, binCount: 10)
        #expect(h.positives.reduce(0, +) == 3 && h.negatives.reduce(0, +) == 3)
        #expect(h.positives[9] == 1 && h.positives[8] == 1 && h.positives[6] == 1)
        #expect(h.negatives[8] == 1 && h.negatives[4] == 1 && h.negatives[3] == 1)
    }

    @Test func wilsonIntervalKnownValues() throws {
        // 8 of 10 at 95 %: [0.4902, 0.9433] (Wilson 1927; e.g. statsmodels proportion_confint(method="wilson")).
        let interval = try #require(ScoreAnalysis.wilson(successes: 8, trials: 10))
        #expect(abs(interval.lower - 0.4902) < 1e-4 && abs(interval.upper - 0.9433) < 1e-4)
        let none = try #require(ScoreAnalysis.wilson(successes: 0, trials: 20))
        #expect(none.lower == 0 && none.upper > 0.1 && none.upper < 0.2)
        #expect(ScoreAnalysis.wilson(successes: 0, trials: 0) == nil)
    }

    @Test func weightedAUCWithUnitWeightsIsTheRankSumAUC() throws {
        let order = handScores.indices.sorted { handScores[$0] < handScores[$1] }
        let weighted = ScoreAnalysis.weightedAUC(order: order, scores: handScores, labels: handLabels, weights: [1, 1, 1, 1, 1, 1])
        #expect(abs(weighted - 7.5 / 9) < 1e-12)
        // Doubling one negative row counts its pairs twice: 0.4(−) loses to all 3 positives.
        let doubled = ScoreAnalysis.weightedAUC(order: order, scores: handScores, labels: handLabels, weights: [1, 1, 1, 1, 2, 1])
        #expect(abs(doubled - 10.5 / 12) < 1e-12)
    }

    @Test func bootstrapIntervalIsSeededAndBracketsTheEstimate() throws {
        var generator = SeededGenerator(seed: 7)
        var scores: [Double] = [], labels: [Int] = []
        for k in 0..<400 {
            let label = k % 4 == 0 ? 1 : 0
            labels.append(label)
            scores.append(Double(generator.nextIndex(below: 1000)) / 1000 * 0.7 + (label == 1 ? 0.3 : 0))
        }
        let auc = try #require(RankingMetrics.rocAUC(scores: scores, labels: labels))
        let first = try #require(ScoreAnalysis.bootstrapAUC(scores: scores, labels: labels, resamples: 100, seed: 1))
        let again = try #require(ScoreAnalysis.bootstrapAUC(scores: scores, labels: labels, resamples: 100, seed: 1))
        let other = try #require(ScoreAnalysis.bootstrapAUC(scores: scores, labels: labels, resamples: 100, seed: 2))
        #expect(first == again)
        #expect(first != other)
        #expect(first.lower < auc && auc < first.upper)
        #expect(first.upper - first.lower < 0.2)
        #expect(ScoreAnalysis.bootstrapAUC(scores: [0.1], labels: [1]) == nil)
    }

    @Test func quantileInterpolatesLikeNumpy() {
        #expect(ScoreAnalysis.quantile([1, 2, 3, 4], 0.5) == 2.5)
        #expect(ScoreAnalysis.quantile([1, 2, 3, 4], 0) == 1)
        #expect(ScoreAnalysis.quantile([1, 2, 3, 4], 1) == 4)
    }
}

@Suite(.timeLimit(.minutes(10))) struct SliceTests {
    let age = SliceDimension(name: "seller_age", column: "seller_age_days", edges: [30, 365, 1825])

    @Test func bucketsByEdges() {
        #expect(age.key(of: .number(0)) == "<30")
        #expect(age.key(of: .number(30)) == "30–365")
        #expect(age.key(of: .number(364.9)) == "30–365")
        #expect(age.key(of: .number(1825)) == "≥1825")
        #expect(age.key(of: .missing) == nil)
        #expect(age.bucketOrder() == ["<30", "30–365", "365–1825", "≥1825"])
        #expect(SliceDimension(name: "site", column: "site_id").key(of: .string("MLB")) == "MLB")
    }

    @Test func badDimensionsAreRefused() {
        #expect(throws: TrainingError.self) { try SliceDimension(name: "a", column: "b", edges: [3, 2]).validate() }
        #expect(throws: TrainingError.self) { try SliceDimension(name: "a", column: "b", edges: []).validate() }
        #expect(throws: TrainingError.self) { try SliceDimension(name: "", column: "b").validate() }
    }

    @Test func slicesByKeyWithCountsAndIntervals() throws {
        let keys: [[String?]] = [["A"], ["A"], ["B"], ["A"], ["B"], [nil]]
        let slices = Slicing.metrics(dimensions: [SliceDimension(name: "site", column: "site_id")], keys: keys,
                                     scores: handScores, labels: handLabels, threshold: 0.6, bootstrapResamples: 20)
        #expect(slices.map(\.key) == ["A", "B"])  // A has 3 rows, B 2; the unkeyed row is in neither
        let a = slices[0]
        #expect(a.rows == 3 && a.positives == 3 && a.flagged == 3)
        #expect(a.rocAUC == nil && a.rocAUCInterval == nil)
        #expect(a.recall == 1 && a.recallInterval != nil)
        #expect(a.falsePositiveRate == nil)
        let b = slices[1]  // 0.8(−) flagged, 0.4(−) not
        #expect(b.positives == 0 && b.flagged == 1 && b.precision == 0 && b.recall == nil && b.falsePositiveRate == 0.5)
    }

    @Test func guardNamesTheSliceThatRegressed() {
        func slice(_ key: String, prAUC: Double, positives: Int = 50) -> SliceMetrics {
            var s = SliceMetrics(dimension: "site", key: key, scores: [0.9, 0.1], labels: [1, 0], threshold: 0.5, bootstrapResamples: 0)
            s.prAUC = prAUC
            s.positives = positives
            return s
        }
        let guardrail = SliceGuard()
        let previous = [slice("MLB", prAUC: 0.98), slice("MLA", prAUC: 0.97), slice("MLU", prAUC: 0.99, positives: 5)]
        let candidate = [slice("MLB", prAUC: 0.965), slice("MLA", prAUC: 0.94), slice("MLU", prAUC: 0.5, positives: 5)]
        let found = guardrail.regressions(candidate: candidate, previous: previous)
        // MLB dropped 0.015 (within 0.02); MLU has too few positives to judge.
        #expect(found.map(\.key) == ["MLA"])
        #expect(found[0].description.hasPrefix("site=MLA: pr_auc 0.9400 against 0.9700"))
        var other = guardrail
        other.dimensions = ["family"]
        #expect(other.regressions(candidate: candidate, previous: previous).isEmpty)
    }

    @Test func guardConfigIsChecked() throws {
        var config = TrainConfig()
        config.sliceGuard.dimensions = ["nowhere"]
        #expect(throws: TrainingError.self) { try config.validate() }
        let decoded = try TrainConfig.decode(Data("""
            {"slices": [{"name": "site", "column": "site_id"}, {"name": "age", "column": "seller_age_days", "edges": [7, 90]}],
             "slice_guard": {"slices": ["age"], "metric": "recall", "tolerance": 0.05, "min_positives": 3},
             "model_card": {"data": "synthetic", "limitations": ["x"]}}
            """.utf8))
        #expect(decoded.slices.map(\.name) == ["site", "age"])
        #expect(decoded.sliceGuard.metric == .recall && decoded.sliceGuard.tolerance == 0.05 && decoded.sliceGuard.minimumPositives == 3)
        #expect(decoded.modelCard.data == "synthetic")
        #expect(throws: TrainingError.self) { try TrainConfig.decode(Data(#"{"slice_guard": {"metric": "auc"}}"#.utf8)) }
    }

    @Test func aMisspeltTopLevelKeyIsAnErrorNamingIt() {
        #expect(throws: TrainingError.invalidConfig(
            "unknown key \"fold\" (expected algorithm, augmentation, balanced_classes, classes, dataset_schema, folds, labels, log1p_columns, logistic_c, max_iterations, min_category_count, model_card, nb_alpha, precision_target, seed, slice_guard, slices, split_group_columns, svm_c, test_fraction, text)")) {
            try TrainConfig.decode(Data(#"{"fold": 3, "seed": 1}"#.utf8))
        }
    }
}
