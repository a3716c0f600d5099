#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Inference

/// Fits the feature pipeline spec (`PipelineSpec`) on the training fold: the statistics only
/// (vocabulary, idf, categories, means and scales). Turning rows into vectors is left to
/// Inference's compiled pipeline, so training and serving transform inputs with the same code.
///
/// Transformers follow the schema's feature columns in order. Every choice is ordered
/// explicitly (never by dictionary iteration), so the same rows give the same spec.
public struct PipelineFitter: Sendable {
    public var config: TrainConfig

    public init(config: TrainConfig) { self.config = config }

    /// A TF-IDF vectorizer before fitting (the shape `fitText` fills in).
    var emptyTfidf: TextVectorizerSpec { .tfidf(TfidfSpec(vocabulary: [:], idf: .inline([]), sublinearTF: config.sublinearTF)) }

    public func fit(_ dataset: Dataset) throws(TrainingError) -> PipelineSpec {
        var transformers: [TransformerSpec] = []
        for spec in dataset.schema.featureColumns {
            guard let index = dataset.columnIndex(spec.name) else { continue }
            let column = dataset.rows.map { $0.values[index] }
            switch spec.kind {
            case .text:
                let words = TextSpec(field: spec.name, ngramMin: 1, ngramMax: config.ngramMax, vectorizer: emptyTfidf,
                                     normalization: config.normalization)
                transformers.append(.text(try fitText(words, column: column, minDF: config.minDF, maxFeatures: config.maxFeatures)))
                if let chars = config.charNGrams {
                    let shape = TextSpec(field: spec.name, name: spec.name + "~chars", analyzer: .charWB, ngramMin: chars.min,
                                         ngramMax: chars.max, vectorizer: emptyTfidf, normalization: config.normalization)
                    transformers.append(.text(try fitText(shape, column: column, minDF: chars.minDF, maxFeatures: chars.maxFeatures)))
                }
            case .categorical: transformers.append(.categorical(fitCategorical(field: spec.name, column: column)))
            case .numeric:
                // Naive Bayes is multinomial over non-negative features: standardised numbers
                // (which go negative) are left out of its pipeline.
                if config.algorithm == .multinomialNB { continue }
                transformers.append(.numeric(fitNumeric(field: spec.name, column: column)))
            case .boolean: transformers.append(.boolean(BooleanSpec(field: spec.name)))
            case .label, .identifier, .reporting: continue
            }
        }
        return PipelineSpec(transformers: transformers)
    }

    /// TF-IDF as scikit-learn's `TfidfVectorizer(min_df, max_df, max_features, ngram_range=(1, n),
    /// sublinear_tf, smooth_idf=True, norm="l2")`: document frequencies over the fold; keep
    /// terms with `min_df ≤ df ≤ max_df·n`; keep the `max_features` terms of highest corpus
    /// frequency (ties: the smaller term); columns in term order; idf = ln((1+n)/(1+df)) + 1.
    func fitText(_ shape: TextSpec, column: [FeatureValue], minDF: Int, maxFeatures: Int) throws(TrainingError) -> TextSpec {
        let field = shape.name
        var documentFrequency: [String: Int] = [:]
        var termFrequency: [String: Int] = [:]
        // Inference's own analyser for this shape: terms exactly as serving will cut them.
        let extractor = TermExtractor(shape)
        for value in column {
            guard case .string(let text) = value else { continue }
            var seen = Set<String>()
            for term in extractor.terms(in: text.string) {
                termFrequency[term, default: 0] += 1
                if seen.insert(term).inserted { documentFrequency[term, default: 0] += 1 }
            }
        }
        let documents = column.count
        let maxDocuments = config.maxDF * Double(documents)
        var kept = documentFrequency.filter { $0.value >= minDF && Double($0.value) <= maxDocuments }.map(\.key)
        if kept.count > maxFeatures {
            kept.sort { (termFrequency[$0]!, $1) > (termFrequency[$1]!, $0) }
            kept.removeLast(kept.count - maxFeatures)
        }
        kept.sort()
        guard !kept.isEmpty else {
            throw .notEnoughData("no term of \(field) occurs in \(minDF) or more training rows; lower text.min_df")
        }
        var vocabulary: [String: Int] = [:]
        var idf: [Double] = []
        idf.reserveCapacity(kept.count)
        let n = Double(documents)
        for (column, term) in kept.enumerated() {
            vocabulary[term] = column
            idf.append(log((1 + n) / (1 + Double(documentFrequency[term]!))) + 1)
        }
        var spec = shape
        spec.vectorizer = .tfidf(TfidfSpec(vocabulary: vocabulary, idf: .inline(idf), sublinearTF: config.sublinearTF))
        return spec
    }

    /// One-hot over the categories seen at least `minCategoryCount` times, in sorted order,
    /// plus a missing slot when the column is optional.
    func fitCategorical(field: String, column: [FeatureValue]) -> CategoricalSpec {
        var counts: [String: Int] = [:]
        var sawMissing = false
        for value in column {
            // The text Inference's one-hot compares with (FeatureValue.textForm).
            if let text = value.textForm { counts[text, default: 0] += 1 } else { sawMissing = true }
        }
        let categories = counts.filter { $0.value >= config.minCategoryCount }.map(\.key).sorted()
        return CategoricalSpec(field: field, categories: categories, missingSlot: sawMissing)
    }

    /// Standardisation (population standard deviation, as `StandardScaler`) after optional
    /// ln(1 + x); missing values are imputed with the median raw value (a missing indicator
    /// column is added when any value is missing).
    func fitNumeric(field: String, column: [FeatureValue]) -> NumericSpec {
        let raw: [Double] = column.compactMap { if case .number(let x) = $0, x.isFinite { x } else { nil } }
        let useLog = config.log1pColumns.contains(field)
        let sorted = raw.sorted()
        let median = sorted.isEmpty ? 0 : sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let missing = raw.count < column.count
        let transformed: [Double] = column.map { value in
            var x = median
            if case .number(let number) = value, number.isFinite { x = number }
            if useLog {
                let logged = log1p(x)
                x = logged.isFinite ? logged : log1p(median)
            }
            return x
        }
        let count = Double(max(transformed.count, 1))
        let mean = transformed.reduce(0, +) / count
        let variance = transformed.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count
        let deviation = variance.squareRoot()
        return NumericSpec(field: field, log1p: useLog, mean: mean, scale: deviation > 1e-12 ? deviation : 1,
                           imputeValue: median, missingIndicator: missing)
    }
}
