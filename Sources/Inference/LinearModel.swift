/// The compiled model: every supported algorithm reduces to a margin m = bias + Σ wᵢxᵢ
/// followed by a link to a score in [0, 1]:
/// - logistic regression: w = coefficients, bias = intercept, score = sigmoid(m); m is in log-odds.
/// - linear SVM: w = coefficients, bias = intercept, score = 1 / (1 + exp(A·m + B)) (Platt);
///   m is the SVM decision function.
/// - multinomial naive Bayes: wᵢ = log P(i|pos) − log P(i|neg), bias = log P(pos) − log P(neg),
///   score = sigmoid(m) = P(pos | x); m is in log-odds.
/// So explanations are exact: bias + Σ contributions = m.
struct LinearModel: Sendable {
    enum Link: Sendable, Equatable {
        case logistic
        case platt(a: Double, b: Double)
    }

    let weights: [Double]
    let bias: Double
    let link: Link

    /// The score for margin `m`, clamped to [0, 1] (NaN cannot arise from validated parameters
    /// and finite features, but a NaN would become 0).
    @inline(__always)
    func score(margin m: Double) -> Double {
        let s: Double
        switch link {
        case .logistic: s = Math.sigmoid(m)
        case .platt(let a, let b): s = Math.sigmoid(-(a * m + b))
        }
        return s.isNaN ? 0 : min(1, max(0, s))
    }

    /// Whether a positive contribution to the margin raises the score (false only for Platt A > 0).
    var marginRaisesScore: Bool {
        if case .platt(let a, _) = link { return a <= 0 }
        return true
    }

    @inline(__always)
    func margin(_ x: SparseVector) -> Double {
        bias + x.dot(weights)
    }

    /// Validates parameters for `algorithm` against the pipeline width and compiles them.
    init(algorithm: Algorithm, parameters p: ModelParameters, dimension: Int, weights bin: [Double]) throws(ArtifactError) {
        func finite(_ value: Double?, _ key: String) throws(ArtifactError) -> Double {
            guard let value else { throw ArtifactError(.invalidModel, "model.\(key) is required for \(algorithm.rawValue)") }
            guard value.isFinite else { throw ArtifactError(.invalidModel, "model.\(key) must be finite") }
            return value
        }
        func vector(_ array: StoredArray?, _ key: String) throws(ArtifactError) -> [Double] {
            guard let array else { throw ArtifactError(.invalidModel, "model.\(key) is required for \(algorithm.rawValue)") }
            let values = try resolve(array, path: "model.\(key)", weights: bin)
            guard values.count == dimension else {
                throw ArtifactError(.invalidModel, "model.\(key) has \(values.count) values; the pipeline has \(dimension) columns")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw ArtifactError(.invalidModel, "model.\(key)[\(bad)] is not finite")
            }
            return values
        }
        switch algorithm {
        case .logisticRegression:
            weights = try vector(p.weights, "weights")
            bias = try finite(p.intercept, "intercept")
            link = .logistic
        case .linearSVM:
            weights = try vector(p.weights, "weights")
            bias = try finite(p.intercept, "intercept")
            link = .platt(a: try finite(p.plattA, "platt_a"), b: try finite(p.plattB, "platt_b"))
        case .multinomialNB:
            guard let priors = p.classLogPrior, priors.count == 2 else {
                throw ArtifactError(.invalidModel, "model.class_log_prior must hold 2 values [negative, positive]")
            }
            guard priors.allSatisfy(\.isFinite) else { throw ArtifactError(.invalidModel, "model.class_log_prior must be finite") }
            guard let rows = p.featureLogProb, rows.count == 2 else {
                throw ArtifactError(.invalidModel, "model.feature_log_prob must hold 2 arrays [negative, positive]")
            }
            let negative = try vector(rows[0], "feature_log_prob[0]")
            let positive = try vector(rows[1], "feature_log_prob[1]")
            weights = zip(positive, negative).map { $0 - $1 }
            bias = priors[1] - priors[0]
            link = .logistic
        }
    }

    init(weights: [Double], bias: Double, link: Link) {
        self.weights = weights
        self.bias = bias
        self.link = link
    }
}

/// The outcome of scoring one input.
public struct Prediction: Sendable, Equatable {
    /// P(positive) (or the calibrated SVM score), in [0, 1].
    public let score: Double
    /// `labels[1]` when positive, else `labels[0]`.
    public let label: String
    /// `score >= threshold`.
    public let isPositive: Bool

    public init(score: Double, label: String, isPositive: Bool) {
        self.score = score
        self.label = label
        self.isPositive = isPositive
    }
}

/// The unit of a margin and of contributions.
public enum MarginUnit: String, Sendable, Equatable {
    /// Log-odds of the positive class (logistic regression, naive Bayes): score = sigmoid(margin).
    case logOdds = "log_odds"
    /// The linear SVM decision function w·x + b, before Platt scaling.
    case decisionFunction = "decision_function"
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
}
