import Inference
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The design matrix the fitters consume: one sparse row per example, a dimension, 0/1 labels.
public struct TrainingMatrix: Sendable {
    public var rows: [SparseVector]
    public var labels: [Int]
    public var dimension: Int

    public init(rows: [SparseVector], labels: [Int], dimension: Int) {
        precondition(rows.count == labels.count, "one label per row")
        self.rows = rows
        self.labels = labels
        self.dimension = dimension
    }

    public func subset(_ indices: [Int]) -> TrainingMatrix {
        TrainingMatrix(rows: indices.map { rows[$0] }, labels: indices.map { labels[$0] }, dimension: dimension)
    }

    /// Per-row weights that give each class the same total weight (sklearn's
    /// `class_weight="balanced"`: n / (2 · n_class)), or all ones.
    public func sampleWeights(balanced: Bool) -> [Double] {
        guard balanced else { return [Double](repeating: 1, count: labels.count) }
        let positives = labels.reduce(0, +)
        let negatives = labels.count - positives
        let n = Double(labels.count)
        let positiveWeight = positives > 0 ? n / (2 * Double(positives)) : 1
        let negativeWeight = negatives > 0 ? n / (2 * Double(negatives)) : 1
        return labels.map { $0 == 1 ? positiveWeight : negativeWeight }
    }
}

/// A fitted linear decision function `w · x + b`.
public struct LinearFit: Sendable, Equatable {
    public var weights: [Double]
    public var bias: Double
    public var iterations: Int
    public var converged: Bool

    public func decision(_ row: SparseVector) -> Double { row.dot(weights) + bias }
}

/// Progress of an iterative fitter: (iteration, objective or gap). Called on the fitting thread.
public typealias FitProgress = (_ iteration: Int, _ value: Double) -> Void

/// L2-regularised logistic regression by L-BFGS.
///
/// Minimises `½‖w‖² + C Σ sᵢ log(1 + exp(−yᵢ(w·xᵢ + b)))` (the bias is not penalised, as in
/// scikit-learn's lbfgs solver). Every sum runs in row order on one thread, so the same data
/// gives bit-identical weights.
public struct LogisticRegressionFitter: Sendable {
    /// Inverse regularisation strength. Default 1.
    public var c: Double = 1
    /// Stop when the largest gradient component falls below this. Default 1e-4.
    public var gradientTolerance: Double = 1e-4
    /// …or when an iteration lowers the objective by less than this fraction of it. Default 1e-9
    /// (scipy's L-BFGS-B `factr=1e7` × machine epsilon is 2.2e-9).
    public var relativeDecreaseTolerance: Double = 1e-9
    /// Default 500.
    public var maxIterations: Int = 500
    /// L-BFGS memory (correction pairs kept). Default 10.
    public var memory: Int = 10
    /// Weigh classes to equal total weight. Default `false`.
    public var balanced: Bool = false

    public init(c: Double = 1, gradientTolerance: Double = 1e-4, relativeDecreaseTolerance: Double = 1e-9,
                maxIterations: Int = 500, balanced: Bool = false) {
        self.c = c
        self.gradientTolerance = gradientTolerance
        self.relativeDecreaseTolerance = relativeDecreaseTolerance
        self.maxIterations = maxIterations
        self.balanced = balanced
    }

    /// log(1 + exp(x)) without overflow.
    @inline(__always) static func softplus(_ x: Double) -> Double {
        x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
    }

    @inline(__always) static func sigmoid(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + exp(-x)) : { let e = exp(x); return e / (1 + e) }()
    }

    /// Objective and gradient at `parameters` (weights followed by the bias).
    func evaluate(_ parameters: [Double], _ data: TrainingMatrix, _ sampleWeights: [Double], gradient: inout [Double]) -> Double {
        let d = data.dimension
        var value = 0.0
        for j in 0..<d { value += 0.5 * parameters[j] * parameters[j]; gradient[j] = parameters[j] }
        gradient[d] = 0
        let bias = parameters[d]
        parameters.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                for i in data.rows.indices {
                    let row = data.rows[i]
                    var z = bias
                    for k in row.indices.indices { z += p[Int(row.indices[k])] * row.values[k] }
                    let y = data.labels[i] == 1 ? 1.0 : -1.0
                    let weight = c * sampleWeights[i]
                    value += weight * Self.softplus(-y * z)
                    let residual = weight * (Self.sigmoid(z) - (y > 0 ? 1 : 0))
                    for k in row.indices.indices { g[Int(row.indices[k])] += residual * row.values[k] }
                    g[d] += residual
                }
            }
        }
        return value
    }

    public func fit(_ data: TrainingMatrix, progress: FitProgress? = nil) -> LinearFit {
        let sampleWeights = data.sampleWeights(balanced: balanced)
        let (x, iteration, converged) = minimiser.minimise(count: data.dimension + 1, progress: progress) { x, g in
            evaluate(x, data, sampleWeights, gradient: &g)
        }
        return LinearFit(weights: Array(x[0..<data.dimension]), bias: x[data.dimension], iterations: iteration, converged: converged)
    }

    /// The L-BFGS settings of this fitter.
    var minimiser: LBFGS {
        LBFGS(gradientTolerance: gradientTolerance, relativeDecreaseTolerance: relativeDecreaseTolerance,
              maxIterations: maxIterations, memory: memory)
    }
}

/// Limited-memory BFGS with a backtracking Armijo line search, from zero. Every sum runs in a
/// fixed order on one thread, so the same objective gives bit-identical results.
struct LBFGS: Sendable {
    var gradientTolerance: Double
    var relativeDecreaseTolerance: Double
    var maxIterations: Int
    var memory: Int

    /// Minimises `evaluate` (value, writing the gradient into its second argument) over
    /// `count` parameters; returns the parameters, the iterations and whether it converged.
    /// The vectors are allocated once: the direction, the trial point and its gradient are
    /// reused, and a correction pair leaving the memory lends its arrays to the next one.
    func minimise(
        count n: Int, progress: FitProgress?, evaluate: ([Double], inout [Double]) -> Double
    ) -> (x: [Double], iterations: Int, converged: Bool) {
        var x = [Double](repeating: 0, count: n)
        var g = [Double](repeating: 0, count: n)
        var f = evaluate(x, &g)
        var sHistory: [[Double]] = [], yHistory: [[Double]] = [], rhoHistory: [Double] = []
        var iteration = 0
        var converged = false
        var newG = [Double](repeating: 0, count: n)
        var newX = [Double](repeating: 0, count: n)
        var direction = [Double](repeating: 0, count: n)
        var spare: (s: [Double], y: [Double])?
        var alphas = [Double](repeating: 0, count: memory)
        while iteration < maxIterations {
            if maxMagnitude(g) <= gradientTolerance { converged = true; break }
            // Two-loop recursion: direction = −H·g.
            copy(g, into: &direction)
            for k in stride(from: sHistory.count - 1, through: 0, by: -1) {
                alphas[k] = rhoHistory[k] * dot(sHistory[k], direction)
                axpy(-alphas[k], yHistory[k], &direction)
            }
            if let lastS = sHistory.last, let lastY = yHistory.last {
                let gamma = dot(lastS, lastY) / dot(lastY, lastY)
                scale(&direction, by: gamma)
            } else {
                let norm = dot(g, g).squareRoot()
                divide(&direction, by: max(norm, 1))
            }
            for k in 0..<sHistory.count {
                let beta = rhoHistory[k] * dot(yHistory[k], direction)
                axpy(alphas[k] - beta, sHistory[k], &direction)
            }
            negate(&direction)
            var slope = dot(g, direction)
            if slope >= 0 {  // not a descent direction: restart from steepest descent
                sHistory.removeAll(); yHistory.removeAll(); rhoHistory.removeAll()
                copy(g, into: &direction)
                negate(&direction)
                slope = dot(g, direction)
            }
            // Backtracking line search with the Armijo condition.
            var step = 1.0
            var newF = f
            var accepted = false
            for _ in 0..<40 {
                x.withUnsafeBufferPointer { x in
                    direction.withUnsafeBufferPointer { direction in
                        newX.withUnsafeMutableBufferPointer { newX in
                            for j in 0..<n { newX[j] = x[j] + step * direction[j] }
                        }
                    }
                }
                newF = evaluate(newX, &newG)
                if newF <= f + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            if !accepted { break }
            var (s, y) = spare ?? ([Double](repeating: 0, count: n), [Double](repeating: 0, count: n))
            spare = nil
            difference(newX, x, into: &s)
            difference(newG, g, into: &y)
            let curvature = dot(s, y)
            if curvature > 1e-12 {
                if sHistory.count == memory {
                    spare = (sHistory.removeFirst(), yHistory.removeFirst())
                    rhoHistory.removeFirst()
                }
                sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / curvature)
            } else {
                spare = (s, y)
            }
            let decrease = f - newF
            swap(&x, &newX); swap(&g, &newG); f = newF
            iteration += 1
            progress?(iteration, f)
            if decrease <= relativeDecreaseTolerance * max(abs(f), 1) { converged = true; break }
        }
        return (x, iteration, converged)
    }
}

/// L2-regularised squared-hinge linear SVM, solved in the dual by coordinate descent
/// (liblinear's `solve_l2r_l1l2_svc`, L2-loss, without shrinking). The bias is a constant
/// feature 1 (regularised, as in liblinear). Each epoch visits rows in an order drawn from
/// a `SeededGenerator`, so the fit depends only on data and seed.
public struct LinearSVMFitter: Sendable {
    /// Default 1.
    public var c: Double = 1
    /// Stop when the projected-gradient spread falls below this. Default 0.01.
    public var tolerance: Double = 0.01
    /// Default 1000 epochs.
    public var maxIterations: Int = 1000
    public var balanced: Bool = false
    public var seed: UInt64 = 0

    public init(c: Double = 1, tolerance: Double = 0.01, maxIterations: Int = 1000, balanced: Bool = false, seed: UInt64 = 0) {
        self.c = c
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.balanced = balanced
        self.seed = seed
    }

    public func fit(_ data: TrainingMatrix, progress: FitProgress? = nil) -> LinearFit {
        let d = data.dimension
        let count = data.rows.count
        var w = [Double](repeating: 0, count: d)
        var bias = 0.0
        var alpha = [Double](repeating: 0, count: count)
        let sampleWeights = data.sampleWeights(balanced: balanced)
        let diagonal = sampleWeights.map { 0.5 / (c * $0) }
        var qd = [Double](repeating: 0, count: count)
        for i in 0..<count {
            qd[i] = diagonal[i] + 1 + data.rows[i].values.reduce(0) { $0 + $1 * $1 }
        }
        var order = Array(0..<count)
        var generator = SeededGenerator(seed: seed)
        var iteration = 0
        var converged = false
        while iteration < maxIterations {
            generator.shuffle(&order)
            var maxPG = -Double.infinity, minPG = Double.infinity
            w.withUnsafeMutableBufferPointer { wp in
                for i in order {
                    let row = data.rows[i]
                    let y = data.labels[i] == 1 ? 1.0 : -1.0
                    var z = bias
                    for k in row.indices.indices { z += wp[Int(row.indices[k])] * row.values[k] }
                    let gradient = y * z - 1 + alpha[i] * diagonal[i]
                    let projected = alpha[i] == 0 ? min(gradient, 0) : gradient
                    maxPG = max(maxPG, projected)
                    minPG = min(minPG, projected)
                    if abs(projected) > 1e-12 {
                        let old = alpha[i]
                        alpha[i] = max(old - gradient / qd[i], 0)
                        let delta = (alpha[i] - old) * y
                        for k in row.indices.indices { wp[Int(row.indices[k])] += delta * row.values[k] }
                        bias += delta
                    }
                }
            }
            iteration += 1
            progress?(iteration, maxPG - minPG)
            if maxPG - minPG <= tolerance { converged = true; break }
        }
        return LinearFit(weights: w, bias: bias, iterations: iteration, converged: converged)
    }
}

/// Platt's sigmoid `P(y=1 | f) = 1 / (1 + exp(A·f + B))`, fitted by the Newton method with
/// backtracking of Lin, Lin & Weng (2007), with Platt's smoothed targets.
public struct PlattScaling: Sendable, Equatable {
    public var a: Double
    public var b: Double

    public init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }

    public func probability(_ decision: Double) -> Double {
        let fApB = decision * a + b
        return fApB >= 0 ? exp(-fApB) / (1 + exp(-fApB)) : 1 / (1 + exp(fApB))
    }

    public static func fit(decisions: [Double], labels: [Int]) -> PlattScaling {
        let prior1 = Double(labels.reduce(0, +))
        let prior0 = Double(labels.count) - prior1
        let hiTarget = (prior1 + 1) / (prior1 + 2)
        let loTarget = 1 / (prior0 + 2)
        let targets = labels.map { $0 == 1 ? hiTarget : loTarget }
        var a = 0.0
        var b = log((prior0 + 1) / (prior1 + 1))
        func objective(_ a: Double, _ b: Double) -> Double {
            var value = 0.0
            for (f, t) in zip(decisions, targets) {
                let fApB = f * a + b
                value += fApB >= 0 ? t * fApB + log1p(exp(-fApB)) : (t - 1) * fApB + log1p(exp(fApB))
            }
            return value
        }
        var value = objective(a, b)
        let sigma = 1e-12
        for _ in 0..<100 {
            var h11 = sigma, h22 = sigma, h21 = 0.0, g1 = 0.0, g2 = 0.0
            for (f, t) in zip(decisions, targets) {
                let fApB = f * a + b
                let (p, q) = fApB >= 0
                    ? (exp(-fApB) / (1 + exp(-fApB)), 1 / (1 + exp(-fApB)))
                    : (1 / (1 + exp(fApB)), exp(fApB) / (1 + exp(fApB)))
                let d2 = p * q
                h11 += f * f * d2
                h22 += d2
                h21 += f * d2
                let d1 = t - p
                g1 += f * d1
                g2 += d1
            }
            if abs(g1) < 1e-5 && abs(g2) < 1e-5 { break }
            let det = h11 * h22 - h21 * h21
            let dA = -(h22 * g1 - h21 * g2) / det
            let dB = -(-h21 * g1 + h11 * g2) / det
            let gd = g1 * dA + g2 * dB
            var step = 1.0
            var improved = false
            while step >= 1e-10 {
                let newA = a + step * dA, newB = b + step * dB
                let newValue = objective(newA, newB)
                if newValue < value + 1e-4 * step * gd {
                    a = newA; b = newB; value = newValue; improved = true
                    break
                }
                step /= 2
            }
            if !improved { break }
        }
        return PlattScaling(a: a, b: b)
    }
}

/// Multinomial naive Bayes over non-negative features (counts, tf-idf, one-hot).
public struct NaiveBayesFit: Sendable, Equatable {
    /// log P(class), index 0 = negative, 1 = positive.
    public var classLogPrior: [Double]
    /// log P(feature | class) per class, over `dimension` features (features outside the
    /// fitted block get the smoothed zero-count value and must be ignored by the caller).
    public var featureLogProbability: [[Double]]
}

public struct NaiveBayesFitter: Sendable {
    /// Additive (Laplace/Lidstone) smoothing. Default 1.
    public var alpha: Double = 1

    public init(alpha: Double = 1) { self.alpha = alpha }

    /// Fits on the features for which `include(index)` is true; the others are ignored
    /// (and negative values are a caller bug, checked by precondition).
    public func fit(_ data: TrainingMatrix, include: (Int) -> Bool) -> NaiveBayesFit {
        var counts = [[Double]](repeating: [Double](repeating: 0, count: data.dimension), count: 2)
        var classCounts = [0.0, 0.0]
        for (row, label) in zip(data.rows, data.labels) {
            classCounts[label] += 1
            for k in row.indices.indices {
                let j = Int(row.indices[k])
                guard include(j) else { continue }
                precondition(row.values[k] >= 0, "naive Bayes needs non-negative features")
                counts[label][j] += row.values[k]
            }
        }
        let included = (0..<data.dimension).filter(include)
        let total = Double(data.rows.count)
        var logProbability = [[Double]](repeating: [Double](repeating: 0, count: data.dimension), count: 2)
        for c in 0..<2 {
            let classTotal = included.reduce(0.0) { $0 + counts[c][$1] }
            let denominator = log(classTotal + alpha * Double(included.count))
            for j in 0..<data.dimension { logProbability[c][j] = log(counts[c][j] + alpha) - denominator }
        }
        let prior = classCounts.map { total > 0 && $0 > 0 ? log($0 / total) : -Double.infinity }
        return NaiveBayesFit(classLogPrior: prior, featureLogProbability: logProbability)
    }
}

// Dense vector kernels of the optimiser. Each sum runs in index order, so results do not
// depend on how the loop is compiled.

@inline(__always) func dot(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "vectors of one length")
    return a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            var sum = 0.0
            for j in 0..<a.count { sum += a[j] * b[j] }
            return sum
        }
    }
}

@inline(__always) func axpy(_ scale: Double, _ x: [Double], _ y: inout [Double]) {
    precondition(x.count == y.count, "vectors of one length")
    x.withUnsafeBufferPointer { x in
        y.withUnsafeMutableBufferPointer { y in
            for j in 0..<x.count { y[j] += scale * x[j] }
        }
    }
}

/// `target[j] = a[j] − b[j]`.
@inline(__always) func difference(_ a: [Double], _ b: [Double], into target: inout [Double]) {
    precondition(a.count == b.count && a.count == target.count, "vectors of one length")
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            target.withUnsafeMutableBufferPointer { t in
                for j in 0..<a.count { t[j] = a[j] - b[j] }
            }
        }
    }
}

@inline(__always) func copy(_ source: [Double], into target: inout [Double]) {
    precondition(source.count == target.count, "vectors of one length")
    source.withUnsafeBufferPointer { s in
        target.withUnsafeMutableBufferPointer { t in
            for j in 0..<s.count { t[j] = s[j] }
        }
    }
}

@inline(__always) func scale(_ x: inout [Double], by factor: Double) {
    x.withUnsafeMutableBufferPointer { x in
        for j in 0..<x.count { x[j] *= factor }
    }
}

@inline(__always) func divide(_ x: inout [Double], by divisor: Double) {
    x.withUnsafeMutableBufferPointer { x in
        for j in 0..<x.count { x[j] /= divisor }
    }
}

@inline(__always) func negate(_ x: inout [Double]) {
    x.withUnsafeMutableBufferPointer { x in
        for j in 0..<x.count { x[j] = -x[j] }
    }
}

/// The largest |xⱼ| (0 for an empty vector).
@inline(__always) func maxMagnitude(_ x: [Double]) -> Double {
    x.withUnsafeBufferPointer { x in
        var largest = 0.0
        for j in 0..<x.count { largest = max(largest, abs(x[j])) }
        return largest
    }
}

extension NaiveBayesFit {
    /// P(positive | x), by the formula Inference's naive Bayes scores with.
    func score(_ x: SparseVector) -> Double {
        var joint = classLogPrior
        for c in 0..<2 {
            for k in x.indices.indices { joint[c] += featureLogProbability[c][Int(x.indices[k])] * x.values[k] }
        }
        return LogisticRegressionFitter.sigmoid(joint[1] - joint[0])
    }
}
