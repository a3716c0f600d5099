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
    /// A multi-class model (`classes`): its classes come from this column instead of the 0/1
    /// label. Default nil (a binary model).
    public var classes: ClassesConfig?

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

    // Report, card and publish guard.
    /// How the evaluation report slices the test rows. Default: site, family, seller-age bucket.
    public var slices: [SliceDimension] = SliceDimension.defaults
    /// The slices a new version may not regress on (default: each site, PR-AUC, tolerance 0.02).
    public var sliceGuard = SliceGuard()
    /// Free text for the model card; nil parts get a generic sentence.
    public var modelCard = ModelCardText()

    public init() {}

    /// The columns that group copies of a listing (`splitGroupColumns`, or its default).
    public var groupColumns: [String] {
        splitGroupColumns ?? datasetSchema.columns.filter { $0.kind == .identifier || $0.kind == .text }.map(\.name)
    }

    /// The algorithms `vigia train` fits; the artifact format knows more (exported ones).
    public static let trainableAlgorithms: [Algorithm] = [.logisticRegression, .linearSVM, .multinomialNB]

    /// Parses the JSON config file format (README "Training configuration").
    public static func decode(_ data: Data) throws -> TrainConfig {
        let file = try JSONDecoder().decode(File.self, from: data)
        try checkKeys(JSONDecoder().decode(TopLevelKeys.self, from: data).names)
        return try make(file)
    }

    /// Parses a YAML parameters file (`params.yaml`): its `train` member holds the same keys
    /// as the JSON format; other top-level members (other stages' parameters) are not read.
    public static func decodeParameters(yaml: String) throws -> TrainConfig {
        struct Parameters: Decodable { var train: File }
        struct ParameterKeys: Decodable { var train: TopLevelKeys }
        let file = try YAMLDecoder().decode(Parameters.self, from: yaml).train
        try checkKeys(YAMLDecoder().decode(ParameterKeys.self, from: yaml).train.names)
        return try make(file)
    }

    /// A misspelt key is an error naming it, not a silently ignored setting.
    private static func checkKeys(_ names: [String]) throws {
        let unknown = names.filter { !File.keys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw TrainingError.invalidConfig("unknown key\(unknown.count == 1 ? "" : "s") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) (expected \(File.keys.sorted().joined(separator: ", ")))")
        }
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
        if let value = file.classes {
            var classes = ClassesConfig(column: value.column)
            classes.names = value.names
            classes.other = value.other
            classes.positive = value.positive
            classes.negative = value.negative
            classes.thresholds = value.thresholds ?? [:]
            config.classes = classes
        }
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
        if let value = file.slices { config.slices = value }
        if let value = file.slice_guard {
            if let dimensions = value.slices { config.sliceGuard.dimensions = dimensions }
            if let metric = value.metric {
                guard let parsed = SliceGuard.Metric(rawValue: metric) else {
                    throw TrainingError.invalidConfig("slice_guard.metric: unknown metric \"\(metric)\" (expected \(SliceGuard.Metric.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                config.sliceGuard.metric = parsed
            }
            if let tolerance = value.tolerance { config.sliceGuard.tolerance = tolerance }
            if let minimum = value.min_positives { config.sliceGuard.minimumPositives = minimum }
        }
        if let value = file.model_card { config.modelCard = value }
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
        for slice in slices { try slice.validate() }
        try check(Set(slices.map(\.name)).count == slices.count, "slices: names must be unique")
        try sliceGuard.validate(against: slices)
        if let classes {
            let column = datasetSchema.column(named: classes.column)
            try check(column?.kind == .reporting,
                      "classes.column: \(classes.column) must be a reporting column of the dataset schema (never a model input), as family is")
            try check([.logisticRegression, .multinomialNB].contains(algorithm),
                      "classes: a multi-class model is fitted with logistic_regression (softmax) or multinomial_nb; \(algorithm.rawValue) is binary only")
            try check(classes.positive == nil || classes.negative == nil, "classes: give positive or negative, not both")
            try check(classes.positive != nil || classes.negative != nil || classes.other != nil,
                      "classes: say which classes are allowed (negative, or other) or which are prohibited (positive)")
            if let names = classes.names {
                try check(Set(names).count == names.count && !names.contains(""), "classes.names must be distinct and non-empty")
                if let other = classes.other { try check(!names.contains(other), "classes.other must not be one of classes.names") }
            }
            for (name, value) in classes.thresholds {
                try check(value >= 0 && value <= 1, "classes.thresholds.\(name) must lie in [0, 1]")
            }
        }
    }

    /// The settings the model card lists under "training configuration", as (key, value) text.
    public var summary: [(key: String, value: String)] {
        var rows: [(String, String)] = [
            ("algorithm", algorithm.rawValue), ("seed", String(seed)), ("test_fraction", "\(testFraction)"),
            ("folds", String(folds)),
        ]
        switch thresholdRule {
        case .maximiseF1: rows.append(("threshold rule", "maximise out-of-fold F1"))
        case .precisionTarget(let target): rows.append(("threshold rule", "lowest out-of-fold cut with precision ≥ \(target)"))
        }
        rows += [
            ("split_group_columns", groupColumns.joined(separator: ", ")),
            ("text", "word 1–\(ngramMax)-grams, min_df \(minDF), max_df \(maxDF), max_features \(maxFeatures), sublinear_tf \(sublinearTF)"),
            ("min_category_count", String(minCategoryCount)), ("log1p_columns", log1pColumns.joined(separator: ", ")),
        ]
        switch algorithm {
        case .logisticRegression: rows.append(("logistic_c", "\(logisticC)"))
        case .linearSVM: rows.append(("svm_c", "\(svmC)"))
        case .multinomialNB: rows.append(("nb_alpha", "\(nbAlpha)"))
        default: break
        }
        rows += [("balanced_classes", "\(balancedClasses)"), ("max_iterations", String(maxIterations))]
        return rows
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
        struct Classes: Decodable {
            var column: String
            var names: [String]?
            var other: String?
            var positive: [String]?
            var negative: [String]?
            var thresholds: [String: Double]?
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
        var classes: Classes?
        var text: Text?
        var min_category_count: Int?
        var log1p_columns: [String]?
        var logistic_c: Double?
        var svm_c: Double?
        var nb_alpha: Double?
        var balanced_classes: Bool?
        var max_iterations: Int?
        var augmentation: Augmentation?
        struct Guard: Decodable {
            var slices: [String]?
            var metric: String?
            var tolerance: Double?
            var min_positives: Int?
        }
        var slices: [SliceDimension]?
        var slice_guard: Guard?
        var model_card: ModelCardText?

        /// Every top-level key above: a misspelt key is an error, not a silently ignored setting.
        static let keys: Set<String> = [
            "algorithm", "dataset_schema", "seed", "test_fraction", "split_group_columns", "folds", "precision_target",
            "labels", "text", "min_category_count", "log1p_columns", "logistic_c", "svm_c", "nb_alpha",
            "balanced_classes", "max_iterations", "augmentation", "slices", "slice_guard", "model_card", "classes",
        ]
    }
}

/// The names of a JSON object's members, whatever their values.
private struct TopLevelKeys: Decodable {
    struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    var names: [String]
    init(from decoder: any Decoder) throws {
        names = try decoder.container(keyedBy: Name.self).allKeys.map(\.stringValue)
    }
}

/// The model card's free text, from the training config's `model_card` object.
public struct ModelCardText: Sendable, Equatable, Codable {
    /// What the model is for and what it is not for.
    public var intendedUse: String?
    /// Where the training data comes from (say so when it is synthetic).
    public var data: String?
    /// Known limitations beyond the generic ones.
    public var limitations: [String]?

    public init(intendedUse: String? = nil, data: String? = nil, limitations: [String]? = nil) {
        self.intendedUse = intendedUse
        self.data = data
        self.limitations = limitations
    }

    enum CodingKeys: String, CodingKey {
        case intendedUse = "intended_use"
        case data, limitations
    }
}

/// A multi-class model's classes (`classes` in the config file): the values of a string column.
/// The artifact lists them sorted (as scikit-learn's `classes_`).
public struct ClassesConfig: Sendable, Equatable {
    /// The column holding each row's class (`family` in `data/listings.csv`).
    public var column: String
    /// The classes kept (`names`). Default nil: every value of the column.
    public var names: [String]?
    /// The class every other value becomes (`other`, e.g. `allowed`). Default nil: a value
    /// outside `names` stops training, naming the row.
    public var other: String?
    /// The prohibited classes, whose probabilities add up to `score` (`positive`). Default: every
    /// class except `negative` (or except `other`).
    public var positive: [String]?
    /// The allowed classes (`negative`). Default: `other`.
    public var negative: [String]?
    /// A threshold of its own for some positive classes (`thresholds`). Default none.
    public var thresholds: [String: Double] = [:]

    public init(column: String) { self.column = column }
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
    /// The new model is worse than the published one on guarded slices by more than the tolerance.
    case sliceRegression([SliceGuard.Regression], version: Int)
    case storage(String)
    case artifact(String)

    public var description: String {
        switch self {
        case .invalidConfig(let message): "invalid training config: \(message)"
        case .dataset(let error): "invalid dataset: \(error)"
        case .notEnoughData(let message): "not enough data: \(message)"
        case .worseThanPublished(let candidate, let published, let version):
            "refusing to publish: PR-AUC \(formatFixed(candidate, digits: 4)) is worse than version \(version)'s \(formatFixed(published, digits: 4)) on this test split (use --force to publish anyway)"
        case .sliceRegression(let regressions, let version):
            "refusing to publish: worse than version \(version) on \(regressions.count == 1 ? "a guarded slice" : "\(regressions.count) guarded slices") of this test split: "
                + regressions.map(\.description).joined(separator: "; ") + " (use --force to publish anyway)"
        case .storage(let message): "storage: \(message)"
        case .artifact(let message): "artifact: \(message)"
        }
    }
}
