import FoundationEssentials
import Inference
import Yams

/// How the decision threshold is chosen (see README "Threshold rule").
public enum ThresholdRule: Sendable, Equatable {
    /// Maximise F1 over the out-of-fold scores of the training fold (default).
    case maximiseF1
    /// The lowest threshold whose out-of-fold precision reaches the target (the highest
    /// recall at that precision); falls back to `maximiseF1` when no threshold reaches it.
    case precisionTarget(Double)
}

/// Every knob of `vigia train`. Read from a JSON file or from the `train` member of a YAML
/// parameters file (`--config`, snake_case keys, every key optional: a missing key keeps the
/// default here) and overridden by flags. The default model is trained with `params.yaml`
/// (the DVC pipeline's parameters).
public struct TrainConfig: Sendable, Equatable {
    public var algorithm: Algorithm = .logisticRegression
    /// The CSV's columns and what each one is (identifier, text, categorical, numeric,
    /// boolean, label, reporting). Default: the listings schema of `data/listings.csv`.
    /// The model's input signature is derived from it.
    public var datasetSchema: DatasetSchema = .listings
    /// Seeds the split, the folds and the SVM permutation. Default 42.
    public var seed: UInt64 = 42
    /// Fraction of rows (per class) held out for the reported metrics. Default 0.2.
    public var testFraction: Double = 0.2
    /// Folds for out-of-fold scores (threshold choice, Platt scaling). Default 5.
    public var folds: Int = 5
    public var thresholdRule: ThresholdRule = .maximiseF1
    /// Columns whose equal values (after `DuplicateGroups.normalise`) mark copies of one
    /// listing, kept on one side of the split and of the folds. Default (nil): the identifier
    /// column and every text column (the id and the title); `[]` splits row by row.
    public var splitGroupColumns: [String]?
    /// `[negative, positive]` label names written into the artifact.
    public var labels: [String] = ["allowed", "prohibited"]

    // Text (TF-IDF over word n-grams).
    /// A term is kept when it occurs in at least this many training documents. Default 2.
    public var minDF: Int = 2
    /// …and in at most this fraction of them. Default 1.0 (no upper cut).
    public var maxDF: Double = 1.0
    /// Keep the most frequent terms (corpus term frequency, ties by term). Default 30 000.
    public var maxFeatures: Int = 30_000
    /// Word n-grams 1…ngramMax. Default 2.
    public var ngramMax: Int = 2
    /// tf = 1 + ln(count). Default true.
    public var sublinearTF: Bool = true
    /// Normalisation steps against disguised words, applied to every text transformer and
    /// recorded in the artifact (`text.normalize`). Default none.
    public var normalization: TextNormalization = .none
    /// A second TF-IDF block per text column over char_wb n-grams (`text.char_ngrams`), beside
    /// the word n-grams. Default nil (word n-grams only).
    public var charNGrams: CharNGramConfig?
    /// Disguised copies of training rows (`augmentation`). Default nil (none).
    public var augmentation: AugmentationConfig?

    // Categorical and numeric columns.
    /// A category is kept when it occurs at least this many times. Default 1.
    public var minCategoryCount: Int = 1
    /// Numeric columns that get ln(1 + x) before scaling. Default: prices and counts.
    public var log1pColumns: [String] = ["price_usd", "seller_age_days", "seller_sales"]

    // Models.
    /// Inverse regularisation of logistic regression. Default 4.
    public var logisticC: Double = 4
    /// Inverse regularisation of the linear SVM. Default 0.5.
    public var svmC: Double = 0.5
    /// Naive Bayes smoothing. Default 0.1.
    public var nbAlpha: Double = 0.1
    /// Give both classes equal total weight. Default false.
    public var balancedClasses: Bool = false
    /// Iteration cap of the LR/SVM optimisers. Default 500.
    public var maxIterations: Int = 500

    public init() {}

    /// The columns that group copies of a listing (`splitGroupColumns`, or its default).
    public var groupColumns: [String] {
        splitGroupColumns ?? datasetSchema.columns.filter { $0.kind == .identifier || $0.kind == .text }.map(\.name)
    }

    /// The algorithms `vigia train` fits; the artifact format knows more (exported ones).
    public static let trainableAlgorithms: [Algorithm] = [.logisticRegression, .linearSVM, .multinomialNB]

    /// Parses the JSON config file format (README "Training configuration").
    public static func decode(_ data: Data) throws -> TrainConfig {
        try make(JSONDecoder().decode(File.self, from: data))
    }

    /// Parses a YAML parameters file (`params.yaml`): its `train` member holds the same keys
    /// as the JSON format; other top-level members (other stages' parameters) are not read.
    public static func decodeParameters(yaml: String) throws -> TrainConfig {
        struct Parameters: Decodable { var train: File }
        return try make(YAMLDecoder().decode(Parameters.self, from: yaml).train)
    }

    private static func make(_ file: File) throws -> TrainConfig {
        var config = TrainConfig()
        if let value = file.algorithm {
            guard let algorithm = Algorithm(rawValue: value), Self.trainableAlgorithms.contains(algorithm) else {
                throw TrainingError.invalidConfig("unknown algorithm \"\(value)\" (expected \(Self.trainableAlgorithms.map(\.rawValue).joined(separator: ", ")))")
            }
            config.algorithm = algorithm
        }
        if let value = file.seed { config.seed = value }
        if let value = file.dataset_schema { config.datasetSchema = DatasetSchema(columns: value.columns, strict: value.strict ?? false) }
        if let value = file.test_fraction { config.testFraction = value }
        if let value = file.split_group_columns { config.splitGroupColumns = value }
        if let value = file.folds { config.folds = value }
        if let value = file.precision_target { config.thresholdRule = .precisionTarget(value) }
        if let value = file.labels { config.labels = value }
        if let text = file.text {
            if let value = text.min_df { config.minDF = value }
            if let value = text.max_df { config.maxDF = value }
            if let value = text.max_features { config.maxFeatures = value }
            if let value = text.ngram_max { config.ngramMax = value }
            if let value = text.sublinear_tf { config.sublinearTF = value }
            if let names = text.normalize {
                config.normalization = TextNormalization(try names.map { name throws(TrainingError) in
                    guard let step = NormalizationStep(rawValue: name) else {
                        throw .invalidConfig("text.normalize: unknown step \"\(name)\" (expected \(NormalizationStep.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return step
                })
            }
            if let chars = text.char_ngrams {
                var value = CharNGramConfig()
                if let n = chars.min { value.min = n }
                if let n = chars.max { value.max = n }
                if let n = chars.min_df { value.minDF = n }
                if let n = chars.max_features { value.maxFeatures = n }
                config.charNGrams = value
            }
        }
        if let augmentation = file.augmentation {
            var value = AugmentationConfig()
            if let fraction = augmentation.fraction { value.fraction = fraction }
            if let names = augmentation.kinds {
                value.kinds = try names.map { name throws(TrainingError) in
                    guard let kind = DisguiseKind(rawValue: name) else {
                        throw .invalidConfig("augmentation.kinds: unknown disguise \"\(name)\" (expected \(DisguiseKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return kind
                }
            }
            config.augmentation = value
        }
        if let value = file.min_category_count { config.minCategoryCount = value }
        if let value = file.log1p_columns { config.log1pColumns = value }
        if let value = file.logistic_c { config.logisticC = value }
        if let value = file.svm_c { config.svmC = value }
        if let value = file.nb_alpha { config.nbAlpha = value }
        if let value = file.balanced_classes { config.balancedClasses = value }
        if let value = file.max_iterations { config.maxIterations = value }
        try config.validate()
        return config
    }

    /// Rejects values no run could use, naming the key.
    public func validate() throws(TrainingError) {
        func check(_ ok: Bool, _ message: String) throws(TrainingError) {
            if !ok { throw TrainingError.invalidConfig(message) }
        }
        try check(testFraction > 0 && testFraction < 1, "test_fraction must lie in (0, 1)")
        try check(folds >= 2, "folds must be at least 2")
        try check(labels.count == 2, "labels must name exactly two classes")
        try check(minDF >= 1, "text.min_df must be at least 1")
        try check(maxDF > 0 && maxDF <= 1, "text.max_df must lie in (0, 1]")
        try check(maxFeatures >= 1, "text.max_features must be at least 1")
        try check(ngramMax >= 1 && ngramMax <= 3, "text.ngram_max must be 1, 2 or 3")
        if let chars = charNGrams {
            try check(chars.min >= 1 && chars.min <= chars.max && chars.max <= 6,
                      "text.char_ngrams: min and max must satisfy 1 ≤ min ≤ max ≤ 6")
            try check(chars.minDF >= 1, "text.char_ngrams.min_df must be at least 1")
            try check(chars.maxFeatures >= 1, "text.char_ngrams.max_features must be at least 1")
        }
        if let augmentation {
            try check(augmentation.fraction > 0 && augmentation.fraction <= 1, "augmentation.fraction must lie in (0, 1]")
            try check(!augmentation.kinds.isEmpty, "augmentation.kinds must name at least one disguise")
        }
        try check(logisticC > 0 && svmC > 0, "logistic_c and svm_c must be positive")
        try check(nbAlpha > 0, "nb_alpha must be positive")
        try check(maxIterations >= 1, "max_iterations must be at least 1")
        let columns = datasetSchema.columns
        try check(Set(columns.map(\.name)).count == columns.count, "dataset_schema: column names must be unique")
        try check(columns.filter { $0.kind == .label }.count == 1, "dataset_schema: exactly one column must be the label")
        try check(columns.filter { $0.kind == .identifier }.count <= 1, "dataset_schema: at most one identifier column")
        try check(!datasetSchema.featureColumns.isEmpty, "dataset_schema: at least one feature column (text, categorical, numeric or boolean)")
        for name in splitGroupColumns ?? [] {
            try check(datasetSchema.column(named: name) != nil, "split_group_columns: \(name) is not a column of the dataset schema")
        }
        for name in log1pColumns {
            try check(datasetSchema.column(named: name)?.kind == .numeric,
                      "log1p_columns: \(name) is not a numeric column of the dataset schema")
        }
        if case .precisionTarget(let target) = thresholdRule {
            try check(target > 0 && target <= 1, "precision_target must lie in (0, 1]")
        }
    }

    /// The on-disk shape; snake_case member names are the JSON keys.
    struct File: Decodable {
        struct Text: Decodable {
            var min_df: Int?
            var max_df: Double?
            var max_features: Int?
            var ngram_max: Int?
            var sublinear_tf: Bool?
            var normalize: [String]?
            var char_ngrams: CharNGrams?
        }
        struct CharNGrams: Decodable {
            var min: Int?
            var max: Int?
            var min_df: Int?
            var max_features: Int?
        }
        struct Augmentation: Decodable {
            var fraction: Double?
            var kinds: [String]?
        }
        struct Schema: Decodable {
            var columns: [ColumnSpec]
            var strict: Bool?
        }
        var algorithm: String?
        var dataset_schema: Schema?
        var seed: UInt64?
        var test_fraction: Double?
        var split_group_columns: [String]?
        var folds: Int?
        var precision_target: Double?
        var labels: [String]?
        var text: Text?
        var min_category_count: Int?
        var log1p_columns: [String]?
        var logistic_c: Double?
        var svm_c: Double?
        var nb_alpha: Double?
        var balanced_classes: Bool?
        var max_iterations: Int?
        var augmentation: Augmentation?
    }
}

/// Character n-grams (`char_wb`: inside space-padded words) as a second TF-IDF block of a text
/// column, so that spellings never seen in training still share most of their features.
public struct CharNGramConfig: Sendable, Equatable {
    /// Shortest n-gram (`text.char_ngrams.min`). Default 2.
    public var min = 2
    /// Longest n-gram (`max`, at most 6). Default 4.
    public var max = 4
    /// Kept when in at least this many training rows (`min_df`). Default 3.
    public var minDF = 3
    /// The most frequent n-grams kept (`max_features`). Default 20 000.
    public var maxFeatures = 20_000

    public init() {}
}

/// Disguised copies of training rows, so the model learns the disguises as well as the
/// normaliser undoing them. Only the training split grows: folds, threshold and the held-out
/// metrics use the original rows, and a copy sits in the fold of the row it copies.
public struct AugmentationConfig: Sendable, Equatable {
    /// The share of training rows that get one disguised copy (`augmentation.fraction`). Default 0.5.
    public var fraction = 0.5
    /// The disguises drawn from, uniformly (`augmentation.kinds`). Default every kind.
    public var kinds = DisguiseKind.allCases

    public init() {}
}

/// Why a training run stopped, in words a person can act on.
public enum TrainingError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidConfig(String)
    case dataset(DatasetError)
    case notEnoughData(String)
    /// The new model is worse than the published one on the primary metric (PR-AUC).
    case worseThanPublished(candidate: Double, published: Double, version: Int)
    case storage(String)
    case artifact(String)

    public var description: String {
        switch self {
        case .invalidConfig(let message): "invalid training config: \(message)"
        case .dataset(let error): "invalid dataset: \(error)"
        case .notEnoughData(let message): "not enough data: \(message)"
        case .worseThanPublished(let candidate, let published, let version):
            "refusing to publish: PR-AUC \(formatFixed(candidate, digits: 4)) is worse than version \(version)'s \(formatFixed(published, digits: 4)) on this test split (use --force to publish anyway)"
        case .storage(let message): "storage: \(message)"
        case .artifact(let message): "artifact: \(message)"
        }
    }
}
