// Multi-class models (format 4): K ≥ 3 classes, one linear joint score per class turned into
// probabilities by a softmax, and the policy that turns K probabilities into the service's
// `score` (the probability of the positive classes), `label` and decision.

/// The probabilities of every class of a multi-class model for one input.
public struct ClassScores: Sendable, Equatable {
    /// The class names, in the manifest's `labels` order (shared with the model, not copied).
    public let classes: [String]
    /// P(class | x), one per class, summing to 1 (up to rounding).
    public let probabilities: [Double]
    /// The position of the prediction's `label` in `classes`.
    public let labelIndex: Int

    public init(classes: [String], probabilities: [Double], labelIndex: Int) {
        self.classes = classes
        self.probabilities = probabilities
        self.labelIndex = labelIndex
    }

    /// The most probable class (scikit-learn's `predict`: the first one on ties).
    public var mostProbable: Int {
        var best = 0
        for c in probabilities.indices where probabilities[c] > probabilities[best] { best = c }
        return best
    }
}

/// How K class probabilities become one score, a label and a decision.
///
/// - `score` = Σ P(c) over the positive classes (the probability of being prohibited, of any family).
/// - A positive class with its own threshold is flagged when its probability reaches it; every
///   positive class is a candidate when `score ≥ threshold`.
/// - The label is the most probable flagged or candidate positive class (the decision is then
///   positive); with none, the most probable negative class.
public struct ClassPolicy: Sendable, Equatable {
    public let classes: [String]
    /// Per class, whether it is positive.
    public let positive: [Bool]
    /// Per class, its own threshold (nil: none).
    public let thresholds: [Double?]
    public let threshold: Double

    /// Validates the manifest members against the class list, naming the offending key.
    public init(classes: [String], positiveClasses: [String]?, classThresholds: [String: Double]?, threshold: Double) throws(ArtifactError) {
        guard let positiveClasses, !positiveClasses.isEmpty else {
            throw ArtifactError(.invalidManifest, "positive_classes must name at least one of the \(classes.count) classes")
        }
        var positive = [Bool](repeating: false, count: classes.count)
        for name in positiveClasses {
            guard let c = classes.firstIndex(of: name) else {
                throw ArtifactError(.invalidManifest, "positive_classes: \"\(name)\" is not one of labels \(classes)")
            }
            guard !positive[c] else { throw ArtifactError(.invalidManifest, "positive_classes: \"\(name)\" is listed twice") }
            positive[c] = true
        }
        guard positive.contains(false) else {
            throw ArtifactError(.invalidManifest, "positive_classes names every class; at least one class must be negative")
        }
        var thresholds = [Double?](repeating: nil, count: classes.count)
        for name in (classThresholds ?? [:]).keys.sorted() {
            let value = classThresholds![name]!
            guard let c = classes.firstIndex(of: name), positive[c] else {
                throw ArtifactError(.invalidManifest, "class_thresholds: \"\(name)\" is not one of positive_classes")
            }
            guard value.isFinite, value >= 0, value <= 1 else {
                throw ArtifactError(.invalidManifest, "class_thresholds.\(name) must be in [0, 1], got \(value)")
            }
            thresholds[c] = value
        }
        self.classes = classes
        self.positive = positive
        self.thresholds = thresholds
        self.threshold = threshold
    }

    /// The prediction for class probabilities `p` (one per class).
    public func prediction(_ p: [Double]) -> Prediction {
        var score = 0.0
        for c in p.indices where positive[c] { score += p[c] }
        score = score.isNaN ? 0 : min(1, max(0, score))
        let allPositives = score >= threshold
        var best = -1, bestNegative = -1
        for c in p.indices {
            if positive[c] {
                let flagged = allPositives || thresholds[c].map { p[c] >= $0 } == true
                if flagged, best < 0 || p[c] > p[best] { best = c }
            } else if bestNegative < 0 || p[c] > p[bestNegative] {
                bestNegative = c
            }
        }
        let index = best >= 0 ? best : bestNegative
        return Prediction(score: score, label: classes[index], isPositive: best >= 0,
                          classScores: ClassScores(classes: classes, probabilities: p, labelIndex: index))
    }
}

public enum Softmax {
    /// scikit-learn's `softmax`: subtract the largest, exponentiate, divide by the sum.
    public static func probabilities(_ z: [Double]) -> [Double] {
        let largest = z.max() ?? 0
        var p = z.map { Math.exp($0 - largest) }
        let sum = p.reduce(0, +)
        for c in p.indices { p[c] /= sum }
        return p
    }
}

/// A multi-class linear model: joint score z_c = b_c + w_c·x per class (the decision function
/// of multinomial logistic regression, or log P(c) + Σ xᵢ log P(i|c) for multinomial naive
/// Bayes), P(c | x) = softmax(z)_c. Immutable, hence `Sendable`.
struct ClassModel: Sendable {
    /// One weight row per class, each one value per pipeline column.
    let weights: [[Double]]
    let biases: [Double]
    let policy: ClassPolicy

    /// Joint scores, one per class.
    func joint(_ x: SparseVector) -> [Double] {
        var z = biases
        for c in z.indices { z[c] += x.dot(weights[c]) }
        return z
    }

    func predict(_ x: SparseVector) -> Prediction { policy.prediction(Softmax.probabilities(joint(x))) }

    /// Every class's joint score minus their mean: softmax of these is the same, and each is
    /// exactly bias + Σ contributions with centred weights.
    func centred(_ c: Int) -> (weights: [Double], bias: Double) {
        let k = Double(weights.count)
        let meanBias = biases.reduce(0, +) / k
        var row = weights[c]
        for i in row.indices {
            var mean = 0.0
            for other in weights.indices { mean += weights[other][i] }
            row[i] -= mean / k
        }
        return (row, biases[c] - meanBias)
    }

    /// Compiles format 4 parameters: `class_weights` + `class_intercepts` (logistic regression)
    /// or K `class_log_prior` values and K `feature_log_prob` rows (multinomial naive Bayes).
    init(algorithm: Algorithm, parameters p: ModelParameters, dimension: Int, weights bin: [Double], policy: ClassPolicy) throws(ArtifactError) {
        let check = ParameterCheck(algorithm: algorithm, dimension: dimension, weights: bin)
        let k = policy.classes.count
        switch algorithm {
        case .logisticRegression:
            guard let rows = p.classWeights, rows.count == k else {
                throw ArtifactError(.invalidModel, "model.class_weights must hold \(k) arrays, one per class in labels order")
            }
            guard let intercepts = p.classIntercepts, intercepts.count == k, intercepts.allSatisfy(\.isFinite) else {
                throw ArtifactError(.invalidModel, "model.class_intercepts must hold \(k) finite values, one per class")
            }
            var matrix: [[Double]] = []
            for (c, row) in rows.enumerated() { matrix.append(try check.vector(row, "class_weights[\(c)]")) }
            self.init(weights: matrix, biases: intercepts, policy: policy)
        case .multinomialNB:
            guard let priors = p.classLogPrior, priors.count == k, priors.allSatisfy(\.isFinite) else {
                throw ArtifactError(.invalidModel, "model.class_log_prior must hold \(k) finite values, one per class")
            }
            guard let rows = p.featureLogProb, rows.count == k else {
                throw ArtifactError(.invalidModel, "model.feature_log_prob must hold \(k) arrays, one per class")
            }
            var matrix: [[Double]] = []
            for (c, row) in rows.enumerated() { matrix.append(try check.vector(row, "feature_log_prob[\(c)]")) }
            self.init(weights: matrix, biases: priors, policy: policy)
        case .linearSVM, .modifiedHuber, .bernoulliNB, .calibratedLinear:
            throw ArtifactError(.invalidModel,
                                "\(algorithm.rawValue) is binary only; a model with \(k) classes must be logistic_regression or multinomial_nb")
        }
    }

    init(weights: [[Double]], biases: [Double], policy: ClassPolicy) {
        self.weights = weights
        self.biases = biases
        self.policy = policy
    }
}
