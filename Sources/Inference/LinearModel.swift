/// The compiled model: every supported algorithm reduces to a margin m = bias + Σ wᵢxᵢ
/// followed by a link to a score in [0, 1]:
/// - logistic regression: w = coefficients, bias = intercept, score = sigmoid(m); m is in log-odds.
/// - linear SVM: w = coefficients, bias = intercept, score = 1 / (1 + exp(A·m + B)) (Platt);
///   m is the SVM decision function.
/// - multinomial naive Bayes: wᵢ = log P(i|pos) − log P(i|neg), bias = log P(pos) − log P(neg),
///   score = sigmoid(m) = P(pos | x); m is in log-odds.
/// - modified Huber: score = (clip(m, −1, 1) + 1) / 2; m is the decision function.
/// - Bernoulli naive Bayes: as multinomial, over features binarised at `binarize` (x > t ⇒ 1),
///   with bias = log P(pos) − log P(neg) + Σ log(1 − P(i|pos)) − Σ log(1 − P(i|neg)).
/// - calibrated linear: the score is the mean of the members' calibrated probabilities; the
///   explained margin is the mean decision function (mean weights, mean intercept).
/// So explanations are exact: bias + Σ contributions = m.
struct LinearModel: Sendable {
    enum Link: Sendable, Equatable {
        case logistic
        case platt(a: Double, b: Double)
        case modifiedHuber
    }

    let weights: [Double]
    let bias: Double
    let link: Link
    /// Bernoulli naive Bayes: features are 1 when > this, else 0 (nil: used as they are).
    let binarize: Double?
    /// Calibrated linear models: the members whose probabilities are averaged (nil otherwise).
    let ensemble: CalibratedEnsemble?

    /// The score of feature vector `x`.
    @inline(__always)
    func score(_ x: SparseVector) -> Double {
        if let ensemble { return ensemble.score(x) }
        return score(margin: margin(x))
    }

    /// The score of `x` when its margin is already known (explain computes it anyway).
    @inline(__always)
    func score(_ x: SparseVector, margin m: Double) -> Double {
        if let ensemble { return ensemble.score(x) }
        return score(margin: m)
    }

    /// The value feature `value` takes in the margin (binarised for Bernoulli naive Bayes).
    @inline(__always)
    func effectiveValue(_ value: Double) -> Double {
        guard let binarize else { return value }
        return value > binarize ? 1 : 0
    }

    /// The score for margin `m`, clamped to [0, 1] (NaN cannot arise from validated parameters
    /// and finite features, but a NaN would become 0).
    @inline(__always)
    func score(margin m: Double) -> Double {
        let s: Double
        switch link {
        case .logistic: s = Math.sigmoid(m)
        case .platt(let a, let b): s = Math.sigmoid(-(a * m + b))
        case .modifiedHuber: s = (min(1, max(-1, m)) + 1) / 2
        }
        return s.isNaN ? 0 : min(1, max(0, s))
    }

    /// Whether a positive contribution to the margin raises the score (false only for Platt A > 0).
    var marginRaisesScore: Bool {
        if let ensemble { return ensemble.decisionRaisesScore }
        if case .platt(let a, _) = link { return a <= 0 }
        return true
    }

    @inline(__always)
    func margin(_ x: SparseVector) -> Double {
        guard let binarize else { return bias + x.dot(weights) }
        var sum = 0.0
        for k in 0..<x.count where x.values[k] > binarize { sum += weights[Int(x.indices[k])] }
        return bias + sum
    }

    /// Validates parameters for `algorithm` against the pipeline width and compiles them.
    init(algorithm: Algorithm, parameters p: ModelParameters, dimension: Int, weights bin: [Double]) throws(ArtifactError) {
        let check = ParameterCheck(algorithm: algorithm, dimension: dimension, weights: bin)
        switch algorithm {
        case .logisticRegression:
            self.init(weights: try check.vector(p.weights, "weights"), bias: try check.finite(p.intercept, "intercept"), link: .logistic)
        case .modifiedHuber:
            self.init(weights: try check.vector(p.weights, "weights"), bias: try check.finite(p.intercept, "intercept"),
                      link: .modifiedHuber)
        case .linearSVM:
            self.init(weights: try check.vector(p.weights, "weights"), bias: try check.finite(p.intercept, "intercept"),
                      link: .platt(a: try check.finite(p.plattA, "platt_a"), b: try check.finite(p.plattB, "platt_b")))
        case .multinomialNB:
            let (priors, negative, positive) = try check.naiveBayes(p)
            self.init(weights: zip(positive, negative).map { $0 - $1 }, bias: priors[1] - priors[0], link: .logistic)
        case .bernoulliNB:
            self = try Self.bernoulli(p, check)
        case .calibratedLinear:
            self = try Self.calibrated(p, check)
        }
    }

    init(weights: [Double], bias: Double, link: Link, binarize: Double? = nil, ensemble: CalibratedEnsemble? = nil) {
        self.weights = weights
        self.bias = bias
        self.link = link
        self.binarize = binarize
        self.ensemble = ensemble
    }
}

/// The outcome of scoring one input.
public struct Prediction: Sendable, Equatable {
    /// P(positive) (or the calibrated SVM score), in [0, 1].
    public let score: Double
    /// `labels[1]` when positive, else `labels[0]`.
    public let label: String
    /// `score >= threshold`; for a multi-class model, whether the label is a positive class.
    public let isPositive: Bool
    /// A multi-class model's probability of every class (nil for binary models).
    public let classScores: ClassScores?

    public init(score: Double, label: String, isPositive: Bool, classScores: ClassScores? = nil) {
        self.score = score
        self.label = label
        self.isPositive = isPositive
        self.classScores = classScores
    }
}

/// The unit of a margin and of contributions.
public enum MarginUnit: String, Sendable, Equatable {
    /// Log-odds of the positive class (logistic regression, naive Bayes): score = sigmoid(margin).
    case logOdds = "log_odds"
    /// The linear SVM decision function w·x + b, before Platt scaling.
    case decisionFunction = "decision_function"
    /// Multi-class models: the explained class's joint score minus the mean over the classes
    /// (P(class) = softmax of these margins; weights and bias centred the same way).
    case classLogit = "class_logit"
}

/// One feature's share of the margin.
public struct FeatureContribution: Sendable, Equatable {
    /// The feature's name (`title:pistola`, `category_id=MLX2001`, `price_usd`, …).
    public let feature: String
    /// The feature's value in the vector (tf-idf weight, 1 for one-hot, scaled number).
    public let value: Double
    /// value × weight, in `Explanation.unit`.
    public let contribution: Double

    public init(feature: String, value: Double, contribution: Double) {
        self.feature = feature
        self.value = value
        self.contribution = contribution
    }
}

/// A prediction with the features that pushed its score up and down.
///
/// Exact for every supported model: `bias + Σ(all contributions) == margin` (up to rounding),
/// where `up`/`down` hold the largest ones and `remainder` the sum of those left out, so
/// `bias + Σ up + Σ down + remainder == margin`.
public struct Explanation: Sendable, Equatable {
    public let prediction: Prediction
    /// Unit of `margin`, `bias` and contributions.
    public let unit: MarginUnit
    /// The raw margin before the link function.
    public let margin: Double
    /// Intercept (or log prior ratio for naive Bayes).
    public let bias: Double
    /// Features that raised the score, largest effect first (at most `top`).
    public let up: [FeatureContribution]
    /// Features that lowered the score, largest effect first (at most `top`).
    public let down: [FeatureContribution]
    /// Sum of the contributions not listed in `up` or `down`.
    public let remainder: Double
    /// The class explained, for a multi-class model (nil for binary models).
    public var explainedClass: String? = nil
}
