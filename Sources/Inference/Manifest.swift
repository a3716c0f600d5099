// The artifact manifest (`model.json`, format v1): Codable value types only.
// Validation and compilation into the runtime form happen in LoadedModel / FeaturePipeline.
// JSON keys are snake_case and spelled out in explicit CodingKeys (a key-conversion strategy
// would also rewrite vocabulary terms, which are dictionary keys).

/// The manifest of one model version: everything needed to rebuild the model except the
/// large arrays, which may live in `weights.bin`.
///
/// Layout on disk: `<storage>/<name>/<version>/model.json` (+ optional `weights.bin`:
/// little-endian IEEE-754 float64 values, referenced as `{"offset": o, "count": n}` in value
/// units). `files` lists the SHA-256 of every other file; `model.json` is written last.
///
/// ```json
/// {
///   "format_version": 1, "name": "prohibited-items", "version": 3,
///   "created": "2026-11-23T14:00:00Z", "algorithm": "logistic_regression",
///   "signature": {"id_field": "id", "fields": [
///     {"name": "id", "type": "string", "required": true, "description": "listing id"},
///     {"name": "title", "type": "string", "required": true, "constraints": {"min_length": 1, "max_length": 500}},
///     {"name": "category_id", "type": "string"},
///     {"name": "price_usd", "type": "number", "constraints": {"minimum": 0}},
///     {"name": "has_warranty", "type": "boolean"}]},
///   "pipeline": {"transformers": [
///     {"type": "text", "field": "title", "name": "title", "lowercase": true, "strip_accents": true,
///      "analyzer": "word", "ngram_min": 1, "ngram_max": 2,
///      "vectorizer": {"type": "tfidf", "vocabulary": {"pistola": 0, "pistola 9mm": 1},
///                     "idf": {"offset": 0, "count": 2}, "sublinear_tf": true, "norm": "l2"}},
///     {"type": "categorical", "field": "category_id", "categories": ["MLB1", "MLX2001"], "missing_slot": true},
///     {"type": "numeric", "field": "price_usd", "log1p": true, "mean": 3.0, "scale": 2.0,
///      "impute_value": 20, "missing_indicator": true},
///     {"type": "boolean", "field": "has_warranty", "missing_value": 0}]},
///   "model": {"weights": {"offset": 2, "count": 8}, "intercept": -0.5},
///   "threshold": 0.5, "labels": ["allowed", "prohibited"],
///   "metrics": {"values": {"roc_auc": 0.97}, "confusion_matrix":
///     {"true_negative": 90, "false_positive": 3, "false_negative": 2, "true_positive": 25}},
///   "example": {"input": {"id": "MLB1", "title": "Pistola 9mm", "price_usd": 99}, "expected_score": 0.8059},
///   "dataset": {"name": "listings", "version": "2026-11-01", "fingerprint": "<sha256 hex>"},
///   "files": {"weights.bin": "<sha256 hex>"}
/// }
/// ```
public struct ModelManifest: Codable, Sendable, Equatable {
    /// The artifact format writers produce. Format 2 adds what scikit-learn pipelines need
    /// (see `ManifestFormat.swift`); format 1 artifacts load unchanged.
    public static let currentFormatVersion = 4
    /// The formats this build reads.
    public static let supportedFormatVersions = 1...4
    /// The file name of the manifest inside a version directory.
    public static let fileName = "model.json"
    /// The file name of the optional weights file (little-endian IEEE-754 float64 values).
    public static let weightsFileName = "weights.bin"

    /// Artifact format version; loaders reject versions they do not know. Default: the oldest
    /// that can express the manifest (`requiredFormat`).
    public var formatVersion: Int
    /// Model name; equals the `<name>` directory it is stored under.
    public var name: String
    /// Model version, a positive integer; equals the `<version>` directory it is stored under.
    public var version: Int
    /// Creation time, ISO-8601 (e.g. `2026-11-23T14:00:00Z`). Informational.
    public var created: String
    /// Which model family `model` holds parameters for.
    public var algorithm: Algorithm
    /// The input schema: the fields a request carries, in the order `predict([FeatureValue])` takes them.
    public var signature: Signature
    /// How inputs become one sparse feature vector.
    public var pipeline: PipelineSpec
    /// The model parameters (weights, intercept, …) for `algorithm`.
    public var model: ModelParameters
    /// Scores `>= threshold` are labelled positive. In [0, 1].
    public var threshold: Double
    /// Two label names, `[negative, positive]`, e.g. `["allowed", "prohibited"]`; or, for a
    /// multi-class model (format 4), its K ≥ 3 class names in the order of its parameters.
    public var labels: [String]
    /// Format 4, multi-class models: the classes whose probabilities add up to `score` (at least
    /// one, not all). Default nil (binary models).
    public var positiveClasses: [String]?
    /// Format 4, multi-class models: a threshold of its own for some positive classes; such a
    /// class is flagged when its probability reaches it (see `ClassPolicy`). Default nil.
    public var classThresholds: [String: Double]?
    /// Evaluation metrics measured by the trainer (informational).
    public var metrics: Metrics
    /// An input with the score it must produce; loading fails unless it reproduces (|Δ| ≤ 1e-9).
    public var example: Example
    /// Which dataset the model was trained on.
    public var dataset: DatasetInfo
    /// SHA-256 (lowercase hex) of every other file in the version directory, by file name.
    /// `ArtifactWriter` fills it in.
    public var files: [String: String]
    /// What the training inputs looked like (see `InputProfile`); optional in every format,
    /// so serving can compare live inputs with it. Default nil.
    public var profile: InputProfile?

    public init(
        formatVersion: Int? = nil, name: String, version: Int, created: String,
        algorithm: Algorithm, signature: Signature, pipeline: PipelineSpec, model: ModelParameters,
        threshold: Double, labels: [String], metrics: Metrics = Metrics(), example: Example,
        dataset: DatasetInfo, files: [String: String] = [:], profile: InputProfile? = nil,
        positiveClasses: [String]? = nil, classThresholds: [String: Double]? = nil
    ) {
        self.profile = profile
        self.positiveClasses = positiveClasses
        self.classThresholds = classThresholds
        self.formatVersion = 1
        self.name = name
        self.version = version
        self.created = created
        self.algorithm = algorithm
        self.signature = signature
        self.pipeline = pipeline
        self.model = model
        self.threshold = threshold
        self.labels = labels
        self.metrics = metrics
        self.example = example
        self.dataset = dataset
        self.files = files
        // Without an explicit version, the oldest format that can express the manifest, so
        // that older readers keep loading what they can.
        self.formatVersion = formatVersion ?? requiredFormat.version
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case name, version, created, algorithm, signature, pipeline, model, threshold, labels
        case metrics, example, dataset, files, profile
        case positiveClasses = "positive_classes"
        case classThresholds = "class_thresholds"
    }

    /// Whether this is a multi-class model (more than two `labels`).
    public var isMulticlass: Bool { labels.count > 2 }
}

/// The model families format v1 knows.
public enum Algorithm: String, Codable, Sendable, Equatable, CaseIterable {
    /// score = sigmoid(w·x + b).
    case logisticRegression = "logistic_regression"
    /// Linear SVM with Platt scaling: score = 1 / (1 + exp(A·(w·x + b) + B)).
    case linearSVM = "linear_svm"
    /// Multinomial naive Bayes over non-negative features; score = P(positive | x).
    case multinomialNB = "multinomial_nb"
    /// Format 2: linear margin with the modified Huber link, score = (clip(m, −1, 1) + 1) / 2.
    case modifiedHuber = "modified_huber"
    /// Format 2: Bernoulli naive Bayes on features binarised at `binarize`; score = P(positive | x).
    case bernoulliNB = "bernoulli_nb"
    /// Format 2: the mean of calibrated linear members (scikit-learn `CalibratedClassifierCV`).
    case calibratedLinear = "calibrated_linear"
}

// MARK: - Signature (input schema)

/// The input schema of a model: ordered fields, and which one identifies a listing.
public struct Signature: Codable, Sendable, Equatable {
    /// The input fields, in the order `LoadedModel.predict(_: [FeatureValue])` expects values.
    public var fields: [FieldSpec]
    /// The name of the field that identifies a listing (echoed back in responses, never a
    /// feature). Must name a `string` field of `fields` when set. Default `nil`.
    public var idField: String?

    public init(fields: [FieldSpec], idField: String? = nil) {
        self.fields = fields
        self.idField = idField
    }

    /// The position of `name` in `fields`, or nil.
    public func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }

    enum CodingKeys: String, CodingKey {
        case fields
        case idField = "id_field"
    }
}

/// JSON types an input field may have.
public enum FieldType: String, Codable, Sendable, Equatable, CaseIterable {
    case string, number, integer, boolean
}

/// One input field of the signature.
public struct FieldSpec: Codable, Sendable, Equatable {
    /// The JSON key in a request instance.
    public var name: String
    /// The JSON type a value must have.
    public var type: FieldType
    /// Whether a request must carry the field (missing optional fields reach the pipeline as `.missing`). Default false.
    public var required: Bool
    /// Human-readable meaning, shown in the status route and OpenAPI. Default "".
    public var description: String
    /// Value constraints the service checks before predicting. Default none.
    public var constraints: FieldConstraints?

    public init(name: String, type: FieldType, required: Bool = false, description: String = "",
                constraints: FieldConstraints? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.description = description
        self.constraints = constraints
    }

    enum CodingKeys: String, CodingKey {
        case name, type, required, description, constraints
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(FieldType.self, forKey: .type)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        constraints = try c.decodeIfPresent(FieldConstraints.self, forKey: .constraints)
    }
}

/// JSON-Schema-like constraints on one field; every member is optional (nil = unconstrained).
public struct FieldConstraints: Codable, Sendable, Equatable {
    /// Inclusive lower bound for number/integer fields.
    public var minimum: Double?
    /// Inclusive upper bound for number/integer fields.
    public var maximum: Double?
    /// Minimum length in Unicode scalars for string fields.
    public var minLength: Int?
    /// Maximum length in Unicode scalars for string fields.
    public var maxLength: Int?
    /// The allowed values of a string field.
    public var allowed: [String]?

    public init(minimum: Double? = nil, maximum: Double? = nil, minLength: Int? = nil, maxLength: Int? = nil,
                allowed: [String]? = nil) {
        self.minimum = minimum
        self.maximum = maximum
        self.minLength = minLength
        self.maxLength = maxLength
        self.allowed = allowed
    }

    enum CodingKeys: String, CodingKey {
        case minimum, maximum
        case minLength = "min_length"
        case maxLength = "max_length"
        case allowed = "enum"
    }
}

// MARK: - Feature pipeline spec

/// The feature pipeline: column transformers whose outputs are concatenated, in order, into
/// one sparse vector. Transformer `k` owns the index block that starts after the blocks of
/// transformers `0..<k`; its width is given by its spec (vocabulary size, `n_features`,
/// category count, 1 or 2 numeric columns, 1 boolean column).
public struct PipelineSpec: Codable, Sendable, Equatable {
    public var transformers: [TransformerSpec]

    public init(transformers: [TransformerSpec]) { self.transformers = transformers }

    enum CodingKeys: String, CodingKey { case transformers }
}

/// One column transformer. JSON: an object with `"type": "text" | "categorical" | "numeric" |
/// "boolean"` and that type's members.
public enum TransformerSpec: Codable, Sendable, Equatable {
    case text(TextSpec)
    case categorical(CategoricalSpec)
    case numeric(NumericSpec)
    case boolean(BooleanSpec)

    /// The input field the transformer reads.
    public var field: String {
        switch self {
        case .text(let s): s.field
        case .categorical(let s): s.field
        case .numeric(let s): s.field
        case .boolean(let s): s.field
        }
    }

    enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: TypeKey.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "text": self = .text(try TextSpec(from: decoder))
        case "categorical": self = .categorical(try CategoricalSpec(from: decoder))
        case "numeric": self = .numeric(try NumericSpec(from: decoder))
        case "boolean": self = .boolean(try BooleanSpec(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c,
                debugDescription: "unknown transformer type \"\(type)\" (expected text, categorical, numeric or boolean)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .text(let s): try c.encode("text", forKey: .type); try s.encode(to: encoder)
        case .categorical(let s): try c.encode("categorical", forKey: .type); try s.encode(to: encoder)
        case .numeric(let s): try c.encode("numeric", forKey: .type); try s.encode(to: encoder)
        case .boolean(let s): try c.encode("boolean", forKey: .type); try s.encode(to: encoder)
        }
    }
}

/// Text → n-gram features, matching scikit-learn's `CountVectorizer`/`TfidfVectorizer`/
/// `HashingVectorizer` with `lowercase=True`, `strip_accents='unicode'` (when `strip_accents`),
/// `token_pattern=r"(?u)\b\w\w+\b"`.
///
/// Order (as in scikit-learn): lowercase → strip accents (NFKD, drop combining marks) → analyse.
/// - `analyzer = "word"`: tokens are maximal runs of ≥ 2 word characters (Python `re` `\w`:
///   Unicode letters L*, numbers N*, and `_`; *not* combining marks, which accent stripping has
///   removed anyway). Word n-grams for n in `ngram_min...ngram_max` are the tokens joined by
///   one space, emitted as all 1-grams, then all 2-grams, … (scikit-learn's order).
/// - `analyzer = "char_wb"`: the text is split on whitespace; each word is padded with one
///   space on each side and its character n-grams (Unicode scalars) are taken; a word shorter
///   than `n` yields itself padded once (scikit-learn's `_char_wb_ngrams`).
public struct TextSpec: Codable, Sendable, Equatable {
    /// The input field (a string field of the signature).
    public var field: String
    /// Prefix of output feature names (`"<name>:<term>"`). Default: the field name.
    public var name: String
    /// Lowercase before analysing (Python `str.lower()`, with final-sigma). Default true.
    public var lowercase: Bool
    /// Strip accents like scikit-learn's `strip_accents='unicode'`. Default true.
    public var stripAccents: Bool
    /// Format 2: strip like `strip_accents='ascii'` instead (NFKD, then drop every non-ASCII
    /// scalar); JSON `"strip_accents": "ascii"`. Implies `stripAccents`. Default false.
    public var asciiOnly: Bool
    /// Format 2: tokens removed before word n-grams are formed (scikit-learn `stop_words`,
    /// compared after preprocessing). Ignored by the char analyzers, as in scikit-learn. Default none.
    public var stopWords: [String]
    /// `word`, `char` or `char_wb`. Default `word`.
    public var analyzer: TextAnalyzer
    /// Smallest n-gram length. Default 1.
    public var ngramMin: Int
    /// Largest n-gram length (≥ `ngram_min`). Default 1.
    public var ngramMax: Int
    /// How n-grams become vector values.
    public var vectorizer: TextVectorizerSpec
    /// Format 3: Vigia-native normalisation against disguised words (`NormalizationStep`),
    /// JSON `"normalize": ["homoglyphs", "separators", "leetspeak", "repeats"]`, applied in that
    /// order whatever the order listed. Default none (absent).
    public var normalization: TextNormalization

    public init(field: String, name: String? = nil, lowercase: Bool = true, stripAccents: Bool = true,
                analyzer: TextAnalyzer = .word, ngramMin: Int = 1, ngramMax: Int = 1,
                vectorizer: TextVectorizerSpec, asciiOnly: Bool = false, stopWords: [String] = [],
                normalization: TextNormalization = .none) {
        self.normalization = normalization
        self.field = field
        self.name = name ?? field
        self.lowercase = lowercase
        self.stripAccents = stripAccents || asciiOnly
        self.asciiOnly = asciiOnly
        self.stopWords = stopWords
        self.analyzer = analyzer
        self.ngramMin = ngramMin
        self.ngramMax = ngramMax
        self.vectorizer = vectorizer
    }

    enum CodingKeys: String, CodingKey {
        case field, name, lowercase, analyzer, vectorizer
        case stripAccents = "strip_accents"
        case stopWords = "stop_words"
        case normalization = "normalize"
        case ngramMin = "ngram_min"
        case ngramMax = "ngram_max"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        field = try c.decode(String.self, forKey: .field)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? field
        lowercase = try c.decodeIfPresent(Bool.self, forKey: .lowercase) ?? true
        (stripAccents, asciiOnly) = try Self.decodeStripAccents(c)
        stopWords = try c.decodeIfPresent([String].self, forKey: .stopWords) ?? []
        analyzer = try c.decodeIfPresent(TextAnalyzer.self, forKey: .analyzer) ?? .word
        ngramMin = try c.decodeIfPresent(Int.self, forKey: .ngramMin) ?? 1
        ngramMax = try c.decodeIfPresent(Int.self, forKey: .ngramMax) ?? 1
        vectorizer = try c.decode(TextVectorizerSpec.self, forKey: .vectorizer)
        normalization = TextNormalization(try c.decodeIfPresent([NormalizationStep].self, forKey: .normalization) ?? [])
    }
}

/// How text is cut into terms.
public enum TextAnalyzer: String, Codable, Sendable, Equatable {
    /// Word n-grams over `(?u)\b\w\w+\b` tokens.
    case word
    /// Character n-grams inside space-padded words.
    case charWB = "char_wb"
    /// Format 2: character n-grams of the whole text, runs of whitespace collapsed to one space.
    case char
}

/// Vector normalisation applied to a text block.
public enum VectorNorm: String, Codable, Sendable, Equatable {
    /// Divide by the Euclidean norm of the block (a zero block stays zero).
    case l2
    /// Leave values as they are.
    case none
    /// Format 2: divide by the sum of absolute values of the block.
    case l1
}

/// Term counts → values. JSON: `{"type": "tfidf", …}` or `{"type": "hashing", …}`.
public enum TextVectorizerSpec: Codable, Sendable, Equatable {
    case tfidf(TfidfSpec)
    case hashing(HashingSpec)

    enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: TypeKey.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "tfidf": self = .tfidf(try TfidfSpec(from: decoder))
        case "hashing": self = .hashing(try HashingSpec(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c, debugDescription: "unknown vectorizer type \"\(type)\" (expected tfidf or hashing)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .tfidf(let s): try c.encode("tfidf", forKey: .type); try s.encode(to: encoder)
        case .hashing(let s): try c.encode("hashing", forKey: .type); try s.encode(to: encoder)
        }
    }
}

/// TF-IDF with a fixed vocabulary (scikit-learn `TfidfVectorizer` semantics):
/// tf = raw count of the term in the document; with `sublinear_tf`, tf = 1 + ln(tf);
/// value = tf × idf[index]; then the block is normalised by `norm`. Terms not in the
/// vocabulary are ignored. (scikit-learn's `smooth_idf` only changes how idf was computed
/// at fit time; store the fitted `idf_` array here.)
public struct TfidfSpec: Codable, Sendable, Equatable {
    /// term → column inside this block (0..<vocabulary.count, each used once).
    public var vocabulary: [String: Int]
    /// One idf value per column (count == vocabulary.count). Inline or in `weights.bin`.
    public var idf: StoredArray
    /// Use 1 + ln(count) instead of the count. Default false.
    public var sublinearTF: Bool
    /// Default l2.
    public var norm: VectorNorm
    /// Format 2: count every present term once (scikit-learn `binary=True`). Default false.
    public var binary: Bool

    public init(vocabulary: [String: Int], idf: StoredArray, sublinearTF: Bool = false, norm: VectorNorm = .l2,
                binary: Bool = false) {
        self.vocabulary = vocabulary
        self.idf = idf
        self.sublinearTF = sublinearTF
        self.norm = norm
        self.binary = binary
    }

    enum CodingKeys: String, CodingKey {
        case vocabulary, idf, norm, binary
        case sublinearTF = "sublinear_tf"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabulary = try c.decode([String: Int].self, forKey: .vocabulary)
        idf = try c.decode(StoredArray.self, forKey: .idf)
        sublinearTF = try c.decodeIfPresent(Bool.self, forKey: .sublinearTF) ?? false
        norm = try c.decodeIfPresent(VectorNorm.self, forKey: .norm) ?? .l2
        binary = try c.decodeIfPresent(Bool.self, forKey: .binary) ?? false
    }
}

/// Feature hashing (scikit-learn `HashingVectorizer` semantics): each term occurrence adds
/// `sign` at column `index`, where h = MurmurHash3_x86_32(UTF-8 bytes of the term, seed 0) as a
/// signed Int32, index = |h| mod n_features (for h = −2³¹: 2³¹ mod n_features), and
/// sign = +1 if h ≥ 0 else −1 when `alternate_sign`, otherwise +1. Duplicates are summed, then
/// the block is normalised by `norm`. Feature names are `"<name>:#<index>"`.
public struct HashingSpec: Codable, Sendable, Equatable {
    /// Width of the block. Must be ≥ 1. scikit-learn's default is 2²⁰.
    public var nFeatures: Int
    /// Default true (as scikit-learn).
    public var alternateSign: Bool
    /// Default l2.
    public var norm: VectorNorm
    /// Format 2: every non-zero column becomes 1 before `norm` (scikit-learn `binary=True`). Default false.
    public var binary: Bool

    public init(nFeatures: Int, alternateSign: Bool = true, norm: VectorNorm = .l2, binary: Bool = false) {
        self.nFeatures = nFeatures
        self.alternateSign = alternateSign
        self.norm = norm
        self.binary = binary
    }

    enum CodingKeys: String, CodingKey {
        case norm, binary
        case nFeatures = "n_features"
        case alternateSign = "alternate_sign"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nFeatures = try c.decode(Int.self, forKey: .nFeatures)
        alternateSign = try c.decodeIfPresent(Bool.self, forKey: .alternateSign) ?? true
        norm = try c.decodeIfPresent(VectorNorm.self, forKey: .norm) ?? .l2
        binary = try c.decodeIfPresent(Bool.self, forKey: .binary) ?? false
    }
}

/// One-hot encoding of a categorical field (scikit-learn `OneHotEncoder(handle_unknown='ignore')`).
/// Column `k` is 1 when the value equals `categories[k]`. Unknown values give all zeros. A
/// missing value gives all zeros, or 1 in an extra last column when `missing_slot` is true.
/// Numbers are compared by their shortest text (`3` for 3.0, `2.5`), booleans as `true`/`false`.
/// Feature names: `"<name>=<category>"`, the missing slot `"<name>=<missing>"`.
public struct CategoricalSpec: Codable, Sendable, Equatable {
    public var field: String
    /// Prefix of feature names. Default: the field name.
    public var name: String
    /// The known categories, distinct.
    public var categories: [String]
    /// Add a column for missing values. Default false.
    public var missingSlot: Bool
    /// Format 2 (see `CategoricalLayout`): where each category, unknown and missing values go
    /// when that is not one column per category in order. Default nil.
    public var layout: CategoricalLayout?

    public init(field: String, name: String? = nil, categories: [String], missingSlot: Bool = false,
                layout: CategoricalLayout? = nil) {
        self.field = field
        self.name = name ?? field
        self.categories = categories
        self.missingSlot = missingSlot
        self.layout = layout
    }

    enum CodingKeys: String, CodingKey {
        case field, name, categories, layout
        case missingSlot = "missing_slot"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        field = try c.decode(String.self, forKey: .field)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? field
        categories = try c.decode([String].self, forKey: .categories)
        missingSlot = try c.decodeIfPresent(Bool.self, forKey: .missingSlot) ?? false
        layout = try c.decodeIfPresent(CategoricalLayout.self, forKey: .layout)
    }
}

/// A numeric field: x → (missing or non-finite ⇒ `impute_value`) → (`log1p` ⇒ ln(1 + x)) →
/// (x − mean) / scale. `impute_value` is in the raw input space (as `SimpleImputer` placed first).
/// If after log1p the value is not finite (x ≤ −1) it is treated as missing. With
/// `missing_indicator`, a second column is 1 when the input was missing/non-finite.
/// Feature names: `"<name>"` and `"<name>:missing"`.
public struct NumericSpec: Codable, Sendable, Equatable {
    public var field: String
    /// Feature name. Default: the field name.
    public var name: String
    /// Apply ln(1 + x) before scaling. Default false.
    public var log1p: Bool
    /// Subtracted after log1p. Default 0.
    public var mean: Double
    /// Divisor after centering; must be finite and non-zero. Default 1.
    public var scale: Double
    /// Raw value used when the input is missing or non-finite. Default 0.
    public var imputeValue: Double
    /// Add a 0/1 "was missing" column. Default false.
    public var missingIndicator: Bool

    public init(field: String, name: String? = nil, log1p: Bool = false, mean: Double = 0, scale: Double = 1,
                imputeValue: Double = 0, missingIndicator: Bool = false) {
        self.field = field
        self.name = name ?? field
        self.log1p = log1p
        self.mean = mean
        self.scale = scale
        self.imputeValue = imputeValue
        self.missingIndicator = missingIndicator
    }

    enum CodingKeys: String, CodingKey {
        case field, name, log1p, mean, scale
        case imputeValue = "impute_value"
        case missingIndicator = "missing_indicator"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        field = try c.decode(String.self, forKey: .field)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? field
        log1p = try c.decodeIfPresent(Bool.self, forKey: .log1p) ?? false
        mean = try c.decodeIfPresent(Double.self, forKey: .mean) ?? 0
        scale = try c.decodeIfPresent(Double.self, forKey: .scale) ?? 1
        imputeValue = try c.decodeIfPresent(Double.self, forKey: .imputeValue) ?? 0
        missingIndicator = try c.decodeIfPresent(Bool.self, forKey: .missingIndicator) ?? false
    }
}

/// A boolean field → one column: true ⇒ 1, false ⇒ 0, missing ⇒ `missing_value`.
/// Numbers count as true when non-zero; strings "true"/"false" are accepted.
public struct BooleanSpec: Codable, Sendable, Equatable {
    public var field: String
    /// Feature name. Default: the field name.
    public var name: String
    /// Value for a missing input. Default 0.
    public var missingValue: Double

    public init(field: String, name: String? = nil, missingValue: Double = 0) {
        self.field = field
        self.name = name ?? field
        self.missingValue = missingValue
    }

    enum CodingKeys: String, CodingKey {
        case field, name
        case missingValue = "missing_value"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        field = try c.decode(String.self, forKey: .field)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? field
        missingValue = try c.decodeIfPresent(Double.self, forKey: .missingValue) ?? 0
    }
}

// MARK: - Model parameters

/// An array of float64 values stored inline (`{"values": [...]}`) or in `weights.bin`
/// (`{"offset": o, "count": n}`: `n` values starting at value index `o`, i.e. at byte `8·o`).
public struct StoredArray: Codable, Sendable, Equatable {
    /// Inline values, or nil when the array lives in `weights.bin`.
    public var values: [Double]?
    /// Index of the first value in `weights.bin` (in float64 units, not bytes).
    public var offset: Int?
    /// Number of values in `weights.bin`.
    public var count: Int?

    /// An array stored inside `model.json`.
    public static func inline(_ values: [Double]) -> StoredArray { StoredArray(values: values, offset: nil, count: nil) }
    /// An array stored in `weights.bin` (see `WeightsBuilder`).
    public static func external(offset: Int, count: Int) -> StoredArray { StoredArray(values: nil, offset: offset, count: count) }

    public init(values: [Double]?, offset: Int?, count: Int?) {
        self.values = values
        self.offset = offset
        self.count = count
    }

    enum CodingKeys: String, CodingKey { case values, offset, count }
}

/// Parameters of the model; which members are required depends on `algorithm`:
/// - `logistic_regression`: `weights`, `intercept`.
/// - `linear_svm`: `weights`, `intercept`, `platt_a`, `platt_b`.
/// - `multinomial_nb`: `class_log_prior` (2 values: negative, positive) and
///   `feature_log_prob` (2 arrays: negative, positive, each one value per feature).
/// - multi-class (format 4, K = `labels.count` ≥ 3): `logistic_regression` takes
///   `class_weights` (K arrays) and `class_intercepts` (K values); `multinomial_nb` takes K
///   `class_log_prior` values and K `feature_log_prob` arrays; all in `labels` order.
/// Weight arrays have one value per pipeline output column.
public struct ModelParameters: Codable, Sendable, Equatable {
    public var weights: StoredArray?
    public var intercept: Double?
    public var plattA: Double?
    public var plattB: Double?
    public var classLogPrior: [Double]?
    public var featureLogProb: [StoredArray]?
    /// Format 2, `bernoulli_nb`: features are 1 when > `binarize`, else 0; nil = used as they are.
    public var binarize: Double?
    /// Format 2, `calibrated_linear`: the calibrated members whose scores are averaged.
    public var members: [CalibratedMember]?
    /// Format 4, multi-class `logistic_regression`: one weight array per class.
    public var classWeights: [StoredArray]?
    /// Format 4, multi-class `logistic_regression`: one intercept per class.
    public var classIntercepts: [Double]?

    public init(weights: StoredArray? = nil, intercept: Double? = nil, plattA: Double? = nil, plattB: Double? = nil,
                classLogPrior: [Double]? = nil, featureLogProb: [StoredArray]? = nil, binarize: Double? = nil,
                members: [CalibratedMember]? = nil, classWeights: [StoredArray]? = nil, classIntercepts: [Double]? = nil) {
        self.classWeights = classWeights
        self.classIntercepts = classIntercepts
        self.binarize = binarize
        self.members = members
        self.weights = weights
        self.intercept = intercept
        self.plattA = plattA
        self.plattB = plattB
        self.classLogPrior = classLogPrior
        self.featureLogProb = featureLogProb
    }

    /// Logistic regression parameters.
    public static func logisticRegression(weights: StoredArray, intercept: Double) -> ModelParameters {
        ModelParameters(weights: weights, intercept: intercept)
    }
    /// Linear SVM + Platt scaling parameters.
    public static func linearSVM(weights: StoredArray, intercept: Double, plattA: Double, plattB: Double) -> ModelParameters {
        ModelParameters(weights: weights, intercept: intercept, plattA: plattA, plattB: plattB)
    }
    /// Multinomial naive Bayes parameters, `[negative, positive]` order.
    public static func multinomialNB(classLogPrior: [Double], featureLogProb: [StoredArray]) -> ModelParameters {
        ModelParameters(classLogPrior: classLogPrior, featureLogProb: featureLogProb)
    }
    /// Multinomial (softmax) logistic regression parameters, one row per class.
    public static func softmax(classWeights: [StoredArray], classIntercepts: [Double]) -> ModelParameters {
        ModelParameters(classWeights: classWeights, classIntercepts: classIntercepts)
    }

    enum CodingKeys: String, CodingKey {
        case weights, intercept, binarize, members
        case plattA = "platt_a"
        case plattB = "platt_b"
        case classLogPrior = "class_log_prior"
        case featureLogProb = "feature_log_prob"
        case classWeights = "class_weights"
        case classIntercepts = "class_intercepts"
    }
}

// MARK: - Metadata

/// Metrics measured on held-out data. Informational; the service shows them.
public struct Metrics: Codable, Sendable, Equatable {
    /// Named scalar metrics, e.g. `accuracy`, `precision`, `recall`, `f1`, `roc_auc`. Default empty.
    public var values: [String: Double]
    /// Counts at `threshold`. Default nil.
    public var confusionMatrix: ConfusionMatrix?

    public init(values: [String: Double] = [:], confusionMatrix: ConfusionMatrix? = nil) {
        self.values = values
        self.confusionMatrix = confusionMatrix
    }

    enum CodingKeys: String, CodingKey {
        case values
        case confusionMatrix = "confusion_matrix"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        values = try c.decodeIfPresent([String: Double].self, forKey: .values) ?? [:]
        confusionMatrix = try c.decodeIfPresent(ConfusionMatrix.self, forKey: .confusionMatrix)
    }
}

/// Binary confusion matrix (positive = `labels[1]`).
public struct ConfusionMatrix: Codable, Sendable, Equatable {
    public var trueNegative: Int
    public var falsePositive: Int
    public var falseNegative: Int
    public var truePositive: Int

    public init(trueNegative: Int, falsePositive: Int, falseNegative: Int, truePositive: Int) {
        self.trueNegative = trueNegative
        self.falsePositive = falsePositive
        self.falseNegative = falseNegative
        self.truePositive = truePositive
    }

    enum CodingKeys: String, CodingKey {
        case trueNegative = "true_negative"
        case falsePositive = "false_positive"
        case falseNegative = "false_negative"
        case truePositive = "true_positive"
    }
}

/// A stored input and the score it must produce (checked at load time).
public struct Example: Codable, Sendable, Equatable {
    /// Field name → value (JSON string, number, boolean or null).
    public var input: [String: FeatureValue]
    /// The score `predict(input)` returns; loading fails when |Δ| > 1e-9.
    public var expectedScore: Double

    public init(input: [String: FeatureValue], expectedScore: Double) {
        self.input = input
        self.expectedScore = expectedScore
    }

    enum CodingKeys: String, CodingKey {
        case input
        case expectedScore = "expected_score"
    }
}

/// The dataset a model was trained on.
public struct DatasetInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    /// A content fingerprint of the training data (e.g. SHA-256 hex of the CSV).
    public var fingerprint: String

    public init(name: String, version: String, fingerprint: String) {
        self.name = name
        self.version = version
        self.fingerprint = fingerprint
    }

    enum CodingKeys: String, CodingKey { case name, version, fingerprint }
}
