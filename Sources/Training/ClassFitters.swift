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
        var workspace = SoftmaxWorkspace(classes: classes, dimension: data.dimension)
        return evaluate(parameters, data, sampleWeights, gradient: &gradient, workspace: &workspace)
    }

    /// `evaluate` with the buffers of `workspace`, which one fit reuses for every evaluation.
    ///
    /// One pass over the rows: the parameters are first copied feature-major (feature j's
    /// class weights side by side, padded to a multiple of 4), so a row's scores and its
    /// gradient update take the classes four at a time, each nonzero's weights one short
    /// contiguous run; the gradient is copied back to the class-major layout at the end.
    /// Every entry's sum runs in the same order as a class-by-class loop (regularisation in
    /// parameter order, then rows in order, nonzeros in order; lanes are independent and
    /// nothing is fused or reassociated), so the value and the gradient are bit-identical to it.
    func evaluate(_ parameters: [Double], _ data: TrainingMatrix, _ sampleWeights: [Double], gradient: inout [Double],
                  workspace: inout SoftmaxWorkspace) -> Double {
        let d = data.dimension, stride = d + 1, k = classes, width = workspace.width
        precondition(parameters.count == k * stride && gradient.count == k * stride, "K·(d+1) parameters")
        precondition(workspace.classes == k && workspace.dimension == d, "a workspace of this problem's shape")
        var value = 0.0
        parameters.withUnsafeBufferPointer { p in
            workspace.parameters.withUnsafeMutableBufferPointer { fp in
                workspace.gradient.withUnsafeMutableBufferPointer { fg in
                    // ½‖w‖² in class-major order, the transposed copy, and the gradient's
                    // starting value (w for a weight, 0 for a bias; the padding stays 0).
                    for cls in 0..<k {
                        let base = cls * stride
                        for j in 0..<d {
                            let w = p[base + j]
                            value += 0.5 * w * w
                            fp[j * width + cls] = w
                            fg[j * width + cls] = w
                        }
                        fp[d * width + cls] = p[base + d]
                        fg[d * width + cls] = 0
                    }
                }
            }
        }
        let c = self.c
        workspace.parameters.withUnsafeBufferPointer { fpBuffer in
            workspace.gradient.withUnsafeMutableBufferPointer { fgBuffer in
                workspace.scores.withUnsafeMutableBufferPointer { zBuffer in
                    workspace.residuals.withUnsafeMutableBufferPointer { rBuffer in
                        let fp = fpBuffer.baseAddress!, fg = fgBuffer.baseAddress!
                        let z = zBuffer.baseAddress!, r = rBuffer.baseAddress!
                        let biases = d * width
                        for i in data.rows.indices {
                            let row = data.rows[i]
                            row.indices.withUnsafeBufferPointer { indices in
                                row.values.withUnsafeBufferPointer { values in
                                    for block in Swift.stride(from: 0, to: width, by: 4) {
                                        var sum = Lanes.load(fp + biases + block)
                                        for m in 0..<indices.count {
                                            sum += Lanes.load(fp + Int(indices[m]) * width + block) * values[m]
                                        }
                                        Lanes.store(sum, z + block)
                                    }
                                    var largest = z[0]
                                    for cls in 1..<k where z[cls] > largest { largest = z[cls] }
                                    var total = 0.0
                                    for cls in 0..<k { total += exp(z[cls] - largest) }
                                    let logNormaliser = largest + log(total)
                                    let weight = c * sampleWeights[i]
                                    let y = data.labels[i]
                                    value += weight * (logNormaliser - z[y])
                                    for cls in 0..<k {
                                        r[cls] = weight * (exp(z[cls] - logNormaliser) - (cls == y ? 1 : 0))
                                    }
                                    for block in Swift.stride(from: 0, to: width, by: 4) {
                                        let residual = Lanes.load(r + block)
                                        for m in 0..<indices.count {
                                            let target = fg + Int(indices[m]) * width + block
                                            Lanes.store(Lanes.load(target) + residual * values[m], target)
                                        }
                                        Lanes.store(Lanes.load(fg + biases + block) + residual, fg + biases + block)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        workspace.gradient.withUnsafeBufferPointer { fg in
            gradient.withUnsafeMutableBufferPointer { g in
                for cls in 0..<k {
                    for j in 0...d { g[cls * stride + j] = fg[j * width + cls] }
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
        var workspace = SoftmaxWorkspace(classes: classes, dimension: d)
        let (x, iterations, converged) = minimiser.minimise(count: classes * (d + 1), progress: progress) { x, g in
            evaluate(x, data, sampleWeights, gradient: &g, workspace: &workspace)
        }
        return ClassFit(weights: (0..<classes).map { Array(x[$0 * (d + 1) ..< $0 * (d + 1) + d]) },
                        biases: (0..<classes).map { x[$0 * (d + 1) + d] }, iterations: iterations, converged: converged)
    }
}

/// The buffers of one softmax fit, allocated once and reused by every evaluation: the
/// parameters and the gradient feature-major (entry `j·width + c`: feature j, class c; the
/// biases are feature d; `width` is K rounded up to a multiple of 4, the padding entries 0),
/// and one row's scores and residuals (`width` each, padding 0). Owned by the fitting thread
/// (a local of `fit`), never shared.
struct SoftmaxWorkspace {
    let classes: Int
    let dimension: Int
    let width: Int
    var parameters: [Double]
    var gradient: [Double]
    var scores: [Double]
    var residuals: [Double]

    init(classes: Int, dimension: Int) {
        self.classes = classes
        self.dimension = dimension
        width = (classes + 3) / 4 * 4
        parameters = [Double](repeating: 0, count: width * (dimension + 1))
        gradient = parameters
        scores = [Double](repeating: 0, count: width)
        residuals = scores
    }
}

/// Four adjacent classes' values, loaded from and stored to a feature-major buffer.
enum Lanes {
    @inline(__always) static func load(_ pointer: UnsafePointer<Double>) -> SIMD4<Double> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Double>.self)
    }

    @inline(__always) static func load(_ pointer: UnsafeMutablePointer<Double>) -> SIMD4<Double> {
        load(UnsafePointer(pointer))
    }

    @inline(__always) static func store(_ value: SIMD4<Double>, _ pointer: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD4<Double>.self)
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
