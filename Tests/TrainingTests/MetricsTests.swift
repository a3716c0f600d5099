import FoundationEssentials
import Testing
@testable import Training

/// Six scores with one positive/negative tie at 0.8; every figure below is worked by hand.
let handScores = [0.9, 0.8, 0.8, 0.6, 0.4, 0.3]
let handLabels = [1, 1, 0, 1, 0, 0]

@Suite(.timeLimit(.minutes(10))) struct MetricsTests {
    @Test func rocAUCCountsTiesAsOneHalf() throws {
        // Positive/negative pairs won: 0.9 → 3, 0.8 → 2 + ½ (tie), 0.6 → 2; 7.5 of 9.
        let auc = try #require(RankingMetrics.rocAUC(scores: handScores, labels: handLabels))
        #expect(abs(auc - 7.5 / 9) < 1e-12)
    }

    @Test func rocAUCIsOneHalfWhenAllScoresTie() {
        #expect(RankingMetrics.rocAUC(scores: [0.5, 0.5, 0.5, 0.5], labels: [1, 0, 1, 0]) == 0.5)
    }

    @Test func rocAUCIsUndefinedWithOneClass() {
        #expect(RankingMetrics.rocAUC(scores: [0.1, 0.2], labels: [1, 1]) == nil)
    }

    @Test func averagePrecisionStepsOverDistinctThresholds() throws {
        // (R, P) at 0.9: (1/3, 1); at 0.8: (2/3, 2/3); at 0.6: (1, 3/4) → 1/3 + 2/9 + 1/4 = 29/36.
        let ap = try #require(RankingMetrics.averagePrecision(scores: handScores, labels: handLabels))
        #expect(abs(ap - 29.0 / 36) < 1e-12)
    }

    @Test func confusionPrecisionRecallF1AtAThreshold() {
        let metrics = EvaluationMetrics(scores: handScores, labels: handLabels, threshold: 0.6)
        #expect(metrics.confusion == ConfusionCounts(truePositives: 3, falsePositives: 1, trueNegatives: 2, falseNegatives: 0))
        #expect(metrics.precision == 0.75)
        #expect(metrics.recall == 1)
        #expect(abs(metrics.f1 - 6.0 / 7) < 1e-12)
        #expect(abs(metrics.accuracy - 5.0 / 6) < 1e-12)
        #expect(metrics.positives == 3)
    }

    @Test func precisionIsZeroWhenNothingIsFlagged() {
        let metrics = EvaluationMetrics(scores: handScores, labels: handLabels, threshold: 0.95)
        #expect(metrics.precision == 0)
        #expect(metrics.f1 == 0)
    }

    @Test func f1ThresholdPicksTheBestCut() {
        // F1 by cut: 0.9 → 1/2, 0.8 → 2/3, 0.6 → 6/7, 0.4 → 3/4, 0.3 → 2/3.
        #expect(RankingMetrics.thresholdMaximisingF1(scores: handScores, labels: handLabels) == 0.6)
    }

    @Test func precisionTargetPicksTheLowestQualifyingCut() {
        #expect(RankingMetrics.thresholdForPrecision(0.75, scores: handScores, labels: handLabels) == 0.6)
        #expect(RankingMetrics.thresholdForPrecision(0.8, scores: handScores, labels: handLabels) == 0.9)
        #expect(RankingMetrics.thresholdForPrecision(1.01, scores: handScores, labels: handLabels) == nil)
    }

    @Test func formatsFixedDecimals() {
        #expect(formatFixed(0.80555, digits: 4) == "0.8056")
        #expect(formatFixed(1, digits: 2) == "1.00")
        #expect(formatFixed(-0.5, digits: 1) == "-0.5")
    }

    /// `vigia evaluate --metrics`: the hand-worked figures at threshold 0.7 (tp 2, fp 1, tn 2,
    /// fn 1), sorted keys, and one member per robustness row.
    @Test func theMetricsFileHoldsTheFiguresWithSortedKeys() throws {
        struct Read: Decodable {
            struct Confusion: Decodable { var true_positive, false_positive, true_negative, false_negative: Int }
            struct Disguised: Decodable { var recall, false_alarm_rate: Double; var caught, false_alarms: Int }
            var rows, positives: Int
            var roc_auc, pr_auc, threshold, precision, recall, f1, accuracy: Double
            var confusion: Confusion
            var robustness: [String: Disguised]?
        }
        let metrics = EvaluationMetrics(scores: handScores, labels: handLabels, threshold: 0.7)
        let bytes = try MetricsFile(metrics).encoded()
        let read = try JSONDecoder().decode(Read.self, from: bytes)
        #expect(read.rows == 6 && read.positives == 3)
        #expect(abs(read.roc_auc - 7.5 / 9) < 1e-12 && read.threshold == 0.7)
        #expect(abs(read.precision - 2.0 / 3) < 1e-12 && abs(read.recall - 2.0 / 3) < 1e-12 && abs(read.accuracy - 4.0 / 6) < 1e-12)
        #expect(read.confusion.true_positive == 2 && read.confusion.false_positive == 1
            && read.confusion.true_negative == 2 && read.confusion.false_negative == 1)
        #expect(read.robustness == nil)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasSuffix("}\n"))
        let keys = ["accuracy", "confusion", "f1", "positives", "pr_auc", "precision", "recall", "roc_auc", "rows", "threshold"]
        let positions = keys.map { text.range(of: "\"\($0)\"")!.lowerBound }
        #expect(positions == positions.sorted())

        let report = RobustnessReport(rows: [
            .init(kind: nil, confusion: metrics.confusion),
            .init(kind: .leetspeak, confusion: ConfusionCounts(truePositives: 1, falsePositives: 0, trueNegatives: 3, falseNegatives: 2)),
        ])
        let robust = try JSONDecoder().decode(Read.self, from: MetricsFile(metrics, robustness: report).encoded())
        #expect(robust.robustness?.keys.sorted() == ["clean", "leetspeak"])
        #expect(robust.robustness?["leetspeak"]?.caught == 1 && robust.robustness?["leetspeak"]?.false_alarm_rate == 0)
        #expect(abs((robust.robustness?["clean"]?.false_alarm_rate ?? 0) - 1.0 / 3) < 1e-12)
    }
}
