// Model parameter checks shared by every algorithm, and the format 2 models that do not
// reduce to one weight vector and a link: Bernoulli naive Bayes and calibrated ensembles.

/// Validates parameter arrays for one algorithm against the pipeline width.
struct ParameterCheck {
    let algorithm: Algorithm
    let dimension: Int
    /// The values of `weights.bin`.
    let weights: [Double]

    func finite(_ value: Double?, _ key: String) throws(ArtifactError) -> Double {
        guard let value else { throw ArtifactError(.invalidModel, "model.\(key) is required for \(algorithm.rawValue)") }
        guard value.isFinite else { throw ArtifactError(.invalidModel, "model.\(key) must be finite") }
        return value
    }

    /// A finite array of exactly `count` values (default: the pipeline width).
    func vector(_ array: StoredArray?, _ key: String, count: Int? = nil) throws(ArtifactError) -> [Double] {
        guard let array else { throw ArtifactError(.invalidModel, "model.\(key) is required for \(algorithm.rawValue)") }
        let values = try resolve(array, path: "model.\(key)", weights: weights)
        let expected = count ?? dimension
        guard values.count == expected else {
            throw ArtifactError(.invalidModel, count == nil
                ? "model.\(key) has \(values.count) values; the pipeline has \(dimension) columns"
                : "model.\(key) has \(values.count) values, expected \(expected)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw ArtifactError(.invalidModel, "model.\(key)[\(bad)] is not finite")
        }
        return values
    }

    /// `class_log_prior` and the two `feature_log_prob` rows of a two-class naive Bayes model.
    func naiveBayes(_ p: ModelParameters) throws(ArtifactError) -> (priors: [Double], negative: [Double], positive: [Double]) {
        guard let priors = p.classLogPrior, priors.count == 2 else {
            throw ArtifactError(.invalidModel, "model.class_log_prior must hold 2 values [negative, positive]")
        }
        guard priors.allSatisfy(\.isFinite) else { throw ArtifactError(.invalidModel, "model.class_log_prior must be finite") }
        guard let rows = p.featureLogProb, rows.count == 2 else {
            throw ArtifactError(.invalidModel, "model.feature_log_prob must hold 2 arrays [negative, positive]")
        }
        return (priors, try vector(rows[0], "feature_log_prob[0]"), try vector(rows[1], "feature_log_prob[1]"))
    }
}

extension LinearModel {
    /// scikit-learn `BernoulliNB`: jll_c = log P(c) + Σ log(1 − P(i|c)) + Σ xᵢ·(log P(i|c) − log(1 − P(i|c)))
    /// over binarised x, so P(pos | x) = sigmoid(jll_pos − jll_neg).
    static func bernoulli(_ p: ModelParameters, _ check: ParameterCheck) throws(ArtifactError) -> LinearModel {
        let (priors, negative, positive) = try check.naiveBayes(p)
        if let threshold = p.binarize {
            // A negative threshold would turn every absent (zero) feature into 1.
            guard threshold.isFinite, threshold >= 0 else {
                throw ArtifactError(.invalidModel, "model.binarize must be finite and ≥ 0, got \(threshold)")
            }
        }
        for (key, row) in [("feature_log_prob[0]", negative), ("feature_log_prob[1]", positive)] {
            if let bad = row.firstIndex(where: { $0 >= 0 }) {
                throw ArtifactError(.invalidModel, "model.\(key)[\(bad)] must be < 0 (a log probability below 1)")
            }
        }
        // The same expression as scikit-learn: neg_prob = log(1 − exp(feature_log_prob)).
        let negativeAbsent = negative.map { Math.log(1 - Math.exp($0)) }
        let positiveAbsent = positive.map { Math.log(1 - Math.exp($0)) }
        var weights = [Double](repeating: 0, count: check.dimension)
        for i in 0..<check.dimension {
            weights[i] = (positive[i] - positiveAbsent[i]) - (negative[i] - negativeAbsent[i])
        }
        let bias = (priors[1] + positiveAbsent.reduce(0, +)) - (priors[0] + negativeAbsent.reduce(0, +))
        return LinearModel(weights: weights, bias: bias, link: .logistic, binarize: p.binarize)
    }

    /// scikit-learn `CalibratedClassifierCV` over linear classifiers: the mean of the members'
    /// calibrated probabilities. Explanations use the mean decision function.
    static func calibrated(_ p: ModelParameters, _ check: ParameterCheck) throws(ArtifactError) -> LinearModel {
        guard let specs = p.members, !specs.isEmpty else {
            throw ArtifactError(.invalidModel, "model.members must hold at least one calibrated member")
        }
        var members: [CalibratedEnsemble.Member] = []
        for (k, spec) in specs.enumerated() {
            let path = "members[\(k)]"
            let weights = try check.vector(spec.weights, "\(path).weights")
            let intercept = try check.finite(spec.intercept, "\(path).intercept")
            switch spec.calibration {
            case .sigmoid(let a, let b):
                _ = try check.finite(a, "\(path).calibration.a")
                _ = try check.finite(b, "\(path).calibration.b")
            case .isotonic(let x, let y):
                guard x.count == y.count, !x.isEmpty else {
                    throw ArtifactError(.invalidModel, "model.\(path).calibration: x and y must be non-empty and of equal length")
                }
                guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else {
                    throw ArtifactError(.invalidModel, "model.\(path).calibration: x and y must be finite")
                }
                guard zip(x, x.dropFirst()).allSatisfy({ $0 < $1 }) else {
                    throw ArtifactError(.invalidModel, "model.\(path).calibration.x must be strictly increasing")
                }
            }
            members.append(CalibratedEnsemble.Member(weights: weights, intercept: intercept, calibration: spec.calibration))
        }
        let count = Double(members.count)
        var meanWeights = [Double](repeating: 0, count: check.dimension)
        for member in members {
            for i in 0..<check.dimension { meanWeights[i] += member.weights[i] }
        }
        for i in 0..<check.dimension { meanWeights[i] /= count }
        let meanIntercept = members.reduce(0) { $0 + $1.intercept } / count
        return LinearModel(weights: meanWeights, bias: meanIntercept, link: .logistic, ensemble: CalibratedEnsemble(members: members))
    }
}

/// Calibrated linear members whose probabilities are averaged (scikit-learn
/// `CalibratedClassifierCV.predict_proba` for two classes). Immutable, hence `Sendable`.
struct CalibratedEnsemble: Sendable {
    struct Member: Sendable {
        let weights: [Double]
        let intercept: Double
        let calibration: Calibration

        /// P(positive) for decision value `d`, as `_CalibratedClassifier.predict_proba`:
        /// values that exceed 1 by at most 1e-5 become 1.
        func probability(_ d: Double) -> Double {
            var p: Double
            switch calibration {
            case .sigmoid(let a, let b): p = Math.sigmoid(-(a * d + b))
            case .isotonic(let x, let y): p = Self.interpolate(d, x: x, y: y)
            }
            if p > 1 && p <= 1 + 1e-5 { p = 1 }
            return p
        }

        /// `IsotonicRegression(out_of_bounds='clip').predict`: clip to [x₀, xₙ], then SciPy's
        /// `interp1d(kind='linear')` arithmetic: slope·(t − x_lo) + y_lo with
        /// hi = searchsorted(x, t) clipped to 1…n−1.
        static func interpolate(_ value: Double, x: [Double], y: [Double]) -> Double {
            if x.count == 1 { return y[0] }
            let t = min(max(value, x[0]), x[x.count - 1])
            var lo = 0, hi = x.count  // first index with x[i] >= t (searchsorted side='left')
            while lo < hi {
                let mid = (lo + hi) / 2
                if x[mid] < t { lo = mid + 1 } else { hi = mid }
            }
            let upper = min(max(lo, 1), x.count - 1)
            let lower = upper - 1
            let slope = (y[upper] - y[lower]) / (x[upper] - x[lower])
            return slope * (t - x[lower]) + y[lower]
        }

        /// Whether a larger decision value gives a larger probability.
        var raisesWithDecision: Bool {
            switch calibration {
            case .sigmoid(let a, _): a <= 0
            case .isotonic(_, let y): y[y.count - 1] >= y[0]
            }
        }
    }

    let members: [Member]

    func score(_ x: SparseVector) -> Double {
        var total = 0.0
        for member in members { total += member.probability(member.intercept + x.dot(member.weights)) }
        let mean = total / Double(members.count)
        return mean.isNaN ? 0 : min(1, max(0, mean))
    }

    /// Whether most members' probabilities rise with their decision values (the direction
    /// explanations report contributions in).
    var decisionRaisesScore: Bool {
        members.filter(\.raisesWithDecision).count * 2 >= members.count
    }
}
