import Inference
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fitted multi-class linear model: one joint score `w_c · x + b_c` per class.
public struct ClassFit: Sendable, Equatable {
    /// One row per class, each `dimension` values.
    public var weights: [[Double]]
    public var biases: [Double]
    public var iterations: Int
    public var converged: Bool

    /// The joint score of every class for `row`.
    public func joint(_ row: SparseVector) -> [Double] {
        var z = biases
        for c in z.indices { z[c] += row.dot(weights[c]) }
        return z
    }

    /// P(class | row), as Inference computes it.
    public func probabilities(_ row: SparseVector) -> [Double] { Softmax.probabilities(joint(row)) }
}

/// Per-row weights that give each of `classes` classes the same total weight
/// (scikit-learn's `class_weight="balanced"`: n / (K · n_class)), or all ones.
func classSampleWeights(_ labels: [Int], classes: Int, balanced: Bool) -> [Double] {
    guard balanced else { return [Double](repeating: 1, count: labels.count) }
    var counts = [Int](repeating: 0, count: classes)
    for label in labels { counts[label] += 1 }
    let n = Double(labels.count)
    return labels.map { n / (Double(classes) * Double(counts[$0])) }
}

/// L2-regularised multinomial (softmax) logistic regression by L-BFGS: minimises
/// `½ Σ_c ‖w_c‖² + C Σᵢ sᵢ (log Σ_c exp(z_ic) − z_iyᵢ)` with z_ic = w_c·xᵢ + b_c (the biases
/// are not penalised), scikit-learn's multinomial objective. `TrainingMatrix.labels` hold
/// class indices 0..<classes. Deterministic like the binary fitter.
public struct SoftmaxRegressionFitter: Sendable {
    public var classes: Int
    /// Inverse regularisation strength. Default 1.
    public var c: Double = 1
    public var gradientTolerance: Double = 1e-4
    public var relativeDecreaseTolerance: Double = 1e-9
    public var maxIterations: Int = 500
    /// Weigh classes to equal total weight. Default false.
    public var balanced: Bool = false

    public init(classes: Int, c: Double = 1, maxIterations: Int = 500, balanced: Bool = false) {
        self.classes = classes
        self.c = c
        self.maxIterations = maxIterations
        self.balanced = balanced
    }

    /// Objective and gradient at `parameters`: class k's weights at `k·(d+1) ..< k·(d+1)+d`,
    /// its bias at `k·(d+1)+d`.
    func evaluate(_ parameters: [Double], _ data: TrainingMatrix, _ sampleWeights: [Double], gradient: inout [Double]) -> Double {
        let d = data.dimension, stride = d + 1, k = classes
        var value = 0.0
        for j in parameters.indices {
            if j % stride == d {
                gradient[j] = 0
            } else {
                value += 0.5 * parameters[j] * parameters[j]
                gradient[j] = parameters[j]
            }
        }
        var z = [Double](repeating: 0, count: k)
        parameters.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                for i in data.rows.indices {
                    let row = data.rows[i]
                    for cls in 0..<k {
                        let base = cls * stride
                        var sum = p[base + d]
                        for m in row.indices.indices { sum += p[base + Int(row.indices[m])] * row.values[m] }
                        z[cls] = sum
                    }
                    let largest = z.max() ?? 0
                    var total = 0.0
                    for cls in 0..<k { total += exp(z[cls] - largest) }
                    let logNormaliser = largest + log(total)
                    let weight = c * sampleWeights[i]
                    let y = data.labels[i]
                    value += weight * (logNormaliser - z[y])
                    for cls in 0..<k {
                        let residual = weight * (exp(z[cls] - logNormaliser) - (cls == y ? 1 : 0))
                        let base = cls * stride
                        for m in row.indices.indices { g[base + Int(row.indices[m])] += residual * row.values[m] }
                        g[base + d] += residual
                    }
                }
            }
        }
        return value
    }

    public func fit(_ data: TrainingMatrix, progress: FitProgress? = nil) -> ClassFit {
        let d = data.dimension
        let sampleWeights = classSampleWeights(data.labels, classes: classes, balanced: balanced)
        let minimiser = LBFGS(gradientTolerance: gradientTolerance, relativeDecreaseTolerance: relativeDecreaseTolerance,
                              maxIterations: maxIterations, memory: 10)
        let (x, iterations, converged) = minimiser.minimise(count: classes * (d + 1), progress: progress) { x, g in
            evaluate(x, data, sampleWeights, gradient: &g)
        }
        return ClassFit(weights: (0..<classes).map { Array(x[$0 * (d + 1) ..< $0 * (d + 1) + d]) },
                        biases: (0..<classes).map { x[$0 * (d + 1) + d] }, iterations: iterations, converged: converged)
    }
}

extension NaiveBayesFitter {
    /// Multinomial naive Bayes over `classes` classes (`TrainingMatrix.labels` are class
    /// indices): joint score log P(c) + Σ xᵢ log P(i | c), smoothed by `alpha`. A class
    /// without rows is refused by the caller.
    public func fitClasses(_ data: TrainingMatrix, classes: Int) -> ClassFit {
        var counts = [[Double]](repeating: [Double](repeating: 0, count: data.dimension), count: classes)
        var classCounts = [Double](repeating: 0, count: classes)
        for (row, label) in zip(data.rows, data.labels) {
            classCounts[label] += 1
            for k in row.indices.indices {
                precondition(row.values[k] >= 0, "naive Bayes needs non-negative features")
                counts[label][Int(row.indices[k])] += row.values[k]
            }
        }
        let total = Double(data.rows.count)
        var logProbability = counts
        for c in 0..<classes {
            let denominator = log(counts[c].reduce(0, +) + alpha * Double(data.dimension))
            for j in 0..<data.dimension { logProbability[c][j] = log(counts[c][j] + alpha) - denominator }
        }
        return ClassFit(weights: logProbability, biases: classCounts.map { log($0 / total) }, iterations: 1, converged: true)
    }
}
