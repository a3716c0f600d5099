#if canImport(Glibc)
import Glibc
#endif
import Inference
import Testing
@testable import Training

/// 20 rows over 4 features: positives carry feature 0 (and some feature 2), negatives
/// feature 1 (and some feature 3). Linearly separable by w₀ − w₁.
func separableMatrix() -> TrainingMatrix {
    var rows: [SparseVector] = []
    var labels: [Int] = []
    for i in 0..<20 {
        let positive = i % 2 == 0
        let strength = 1 + Double(i % 5) * 0.25
        let main: Int32 = positive ? 0 : 1
        let noise: Int32 = positive ? 2 : 3
        rows.append(i % 3 == 0
            ? SparseVector(indices: [main, noise], values: [strength, 0.5])
            : SparseVector(indices: [main], values: [strength]))
        labels.append(positive ? 1 : 0)
    }
    return TrainingMatrix(rows: rows, labels: labels, dimension: 4)
}

@Suite(.timeLimit(.minutes(10))) struct FitterTests {
    @Test func logisticRegressionSeparatesKnownData() {
        let data = separableMatrix()
        let fit = LogisticRegressionFitter(c: 10).fit(data)
        #expect(fit.converged)
        #expect(fit.weights[0] > 0 && fit.weights[1] < 0)
        for (row, label) in zip(data.rows, data.labels) {
            #expect((fit.decision(row) > 0) == (label == 1))
        }
    }

    @Test func logisticRegressionReachesAStationaryPoint() {
        // At the optimum the gradient w + C Σ (σ(z) − t) x vanishes; check it independently.
        let data = separableMatrix()
        let c = 0.5
        let fit = LogisticRegressionFitter(c: c, gradientTolerance: 1e-8, relativeDecreaseTolerance: 0).fit(data)
        var gradient = fit.weights
        var biasGradient = 0.0
        for (row, label) in zip(data.rows, data.labels) {
            let residual = c * (1 / (1 + exp(-fit.decision(row))) - Double(label))
            for k in row.indices.indices { gradient[Int(row.indices[k])] += residual * row.values[k] }
            biasGradient += residual
        }
        #expect(gradient.allSatisfy { abs($0) < 1e-6 })
        #expect(abs(biasGradient) < 1e-6)
    }

    @Test func linearSVMSeparatesKnownData() {
        let data = separableMatrix()
        let fit = LinearSVMFitter(c: 1, seed: 3).fit(data)
        #expect(fit.converged)
        for (row, label) in zip(data.rows, data.labels) {
            #expect((fit.decision(row) > 0) == (label == 1))
        }
    }

    @Test func linearSVMIsReproducibleForASeed() {
        let data = separableMatrix()
        let first = LinearSVMFitter(seed: 9).fit(data)
        let second = LinearSVMFitter(seed: 9).fit(data)
        #expect(first.weights.map(\.bitPattern) == second.weights.map(\.bitPattern))
        #expect(first.bias.bitPattern == second.bias.bitPattern)
    }

    @Test func plattScalingMapsDecisionsToCalibratedProbabilities() {
        let decisions: [Double] = [-2, -1.5, -1, -0.5, 0.2, 0.5, 1, 1.5, 2, -0.1]
        let labels = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
        let platt = PlattScaling.fit(decisions: decisions, labels: labels)
        #expect(platt.a < 0)
        #expect(platt.probability(2) > 0.9)
        #expect(platt.probability(-2) < 0.15)
        #expect(platt.probability(1) > platt.probability(0))
        // The fit minimises cross-entropy against Platt's smoothed targets (7/8 for 6 positives, 1/6 for 4 negatives).
        func loss(_ candidate: PlattScaling) -> Double {
            zip(decisions, labels).reduce(0) { sum, pair in
                let p = candidate.probability(pair.0)
                let t = pair.1 == 1 ? 7.0 / 8 : 1.0 / 6
                return sum - t * log(p) - (1 - t) * log(1 - p)
            }
        }
        for (da, db) in [(0.01, 0.0), (-0.01, 0.0), (0.0, 0.01), (0.0, -0.01)] {
            #expect(loss(platt) < loss(PlattScaling(a: platt.a + da, b: platt.b + db)))
        }
    }

    @Test func naiveBayesLearnsCountsWithSmoothing() {
        // Class 1 uses feature 0 three times, class 0 uses feature 1 once; alpha 1, 2 features.
        let data = TrainingMatrix(
            rows: [SparseVector(indices: [0], values: [3]), SparseVector(indices: [1], values: [1])],
            labels: [1, 0], dimension: 3)
        let fit = NaiveBayesFitter(alpha: 1).fit(data) { $0 < 2 }
        #expect(abs(fit.featureLogProbability[1][0] - log(4.0 / 5)) < 1e-12)
        #expect(abs(fit.featureLogProbability[1][1] - log(1.0 / 5)) < 1e-12)
        #expect(abs(fit.featureLogProbability[0][1] - log(2.0 / 3)) < 1e-12)
        #expect(abs(fit.classLogPrior[0] - log(0.5)) < 1e-12)
    }
}
