// Format 4 adds multi-class models: K ≥ 3 `labels`, `positive_classes`, `class_thresholds`,
// and the per-class parameters `class_weights` / `class_intercepts` (ClassModel.swift).
//
// Format 3 adds one thing: `normalize` on text transformers (TextNormalization.swift).
//
// Format 2 of the artifact: what scikit-learn pipelines need beyond format 1 — the char
// analyzer, ASCII accent stripping, stop words, binary term counts, l1 norm, general one-hot
// layouts (dropped, infrequent and unknown categories), the modified Huber link, Bernoulli
// naive Bayes and calibrated linear ensembles. A format 1 manifest may use none of these;
// `ModelManifest.requiredFormatVersion` says which format a manifest needs.

extension TextSpec {
    /// `strip_accents` is a boolean in format 1; format 2 also accepts `"unicode"`, `"ascii"`
    /// and null (no stripping), scikit-learn's spellings.
    static func decodeStripAccents(_ c: KeyedDecodingContainer<CodingKeys>) throws -> (strip: Bool, ascii: Bool) {
        guard c.contains(.stripAccents) else { return (true, false) }
        if try c.decodeNil(forKey: .stripAccents) { return (false, false) }
        if let flag = try? c.decode(Bool.self, forKey: .stripAccents) { return (flag, false) }
        let mode = try c.decode(String.self, forKey: .stripAccents)
        switch mode {
        case "unicode": return (true, false)
        case "ascii": return (true, true)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .stripAccents, in: c,
                debugDescription: "unknown strip_accents \"\(mode)\" (expected true, false, null, \"unicode\" or \"ascii\")")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(field, forKey: .field)
        try c.encode(name, forKey: .name)
        try c.encode(lowercase, forKey: .lowercase)
        if asciiOnly { try c.encode("ascii", forKey: .stripAccents) } else { try c.encode(stripAccents, forKey: .stripAccents) }
        try c.encode(analyzer, forKey: .analyzer)
        try c.encode(ngramMin, forKey: .ngramMin)
        try c.encode(ngramMax, forKey: .ngramMax)
        if !stopWords.isEmpty { try c.encode(stopWords, forKey: .stopWords) }
        if !normalization.isEmpty { try c.encode(normalization.steps, forKey: .normalization) }
        try c.encode(vectorizer, forKey: .vectorizer)
    }
}

/// Where a categorical field's values go inside its block, when that is not one column per
/// category in order (format 2). Covers scikit-learn `OneHotEncoder` with `drop` (the dropped
/// category keeps its place in `categories` with a null column: it is known, so it never
/// counts as unknown), infrequent categories (several categories share one column),
/// `handle_unknown='infrequent_if_exist'` (`unknown_column`) and a fitted missing category
/// (`missing_column`).
///
/// ```json
/// "layout": {"width": 3, "columns": [null, 0, 1, 1], "unknown_column": 1, "missing_column": 2}
/// ```
public struct CategoricalLayout: Codable, Sendable, Equatable {
    /// Columns in the block. Must be ≥ 1 and cover every column named below.
    public var width: Int
    /// The column of `categories[k]`; one value per category, each in `0..<width`, or null
    /// for a dropped category (known, but it sets no column).
    public var columns: [Int?]
    /// The column a value outside `categories` sets; nil: such a value sets none.
    public var unknownColumn: Int?
    /// The column a missing value sets; nil: a missing value sets none.
    public var missingColumn: Int?

    public init(width: Int, columns: [Int?], unknownColumn: Int? = nil, missingColumn: Int? = nil) {
        self.width = width
        self.columns = columns
        self.unknownColumn = unknownColumn
        self.missingColumn = missingColumn
    }

    enum CodingKeys: String, CodingKey {
        case width, columns
        case unknownColumn = "unknown_column"
        case missingColumn = "missing_column"
    }
}

/// One member of a `calibrated_linear` model: a linear decision function d = w·x + b and the
/// calibration that turns d into a probability. The model's score is the mean over members.
public struct CalibratedMember: Codable, Sendable, Equatable {
    public var weights: StoredArray
    public var intercept: Double
    public var calibration: Calibration

    public init(weights: StoredArray, intercept: Double, calibration: Calibration) {
        self.weights = weights
        self.intercept = intercept
        self.calibration = calibration
    }

    enum CodingKeys: String, CodingKey { case weights, intercept, calibration }
}

/// How a decision value becomes a probability.
/// JSON: `{"method": "sigmoid", "a": A, "b": B}` — p = 1 / (1 + exp(A·d + B)) (Platt, as
/// scikit-learn's `_SigmoidCalibration`), or `{"method": "isotonic", "x": [...], "y": [...]}` —
/// p = linear interpolation of the points (x strictly increasing), clipped to the end values
/// outside [x₀, xₙ] (scikit-learn's `IsotonicRegression(out_of_bounds='clip')`).
public enum Calibration: Codable, Sendable, Equatable {
    case sigmoid(a: Double, b: Double)
    case isotonic(x: [Double], y: [Double])

    enum CodingKeys: String, CodingKey { case method, a, b, x, y }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let method = try c.decode(String.self, forKey: .method)
        switch method {
        case "sigmoid": self = .sigmoid(a: try c.decode(Double.self, forKey: .a), b: try c.decode(Double.self, forKey: .b))
        case "isotonic": self = .isotonic(x: try c.decode([Double].self, forKey: .x), y: try c.decode([Double].self, forKey: .y))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .method, in: c, debugDescription: "unknown calibration method \"\(method)\" (expected sigmoid or isotonic)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .sigmoid(let a, let b):
            try c.encode("sigmoid", forKey: .method)
            try c.encode(a, forKey: .a)
            try c.encode(b, forKey: .b)
        case .isotonic(let x, let y):
            try c.encode("isotonic", forKey: .method)
            try c.encode(x, forKey: .x)
            try c.encode(y, forKey: .y)
        }
    }
}

extension ModelManifest {
    /// The oldest format that can express this manifest, and the first feature that needs
    /// format 2 (nil when format 1 suffices).
    public var requiredFormat: (version: Int, reason: String?) {
        if isMulticlass { return (4, "\(labels.count) labels (a multi-class model)") }
        switch algorithm {
        case .modifiedHuber, .bernoulliNB, .calibratedLinear:
            return (2, "algorithm \(algorithm.rawValue)")
        case .logisticRegression, .linearSVM, .multinomialNB:
            break
        }
        for (k, transformer) in pipeline.transformers.enumerated() {
            if case .text(let text) = transformer, !text.normalization.isEmpty {
                return (3, "pipeline.transformers[\(k)].normalize")
            }
        }
        for (k, transformer) in pipeline.transformers.enumerated() {
            let path = "pipeline.transformers[\(k)]"
            switch transformer {
            case .text(let text):
                if text.asciiOnly { return (2, "\(path).strip_accents \"ascii\"") }
                if !text.stopWords.isEmpty { return (2, "\(path).stop_words") }
                if text.analyzer == .char { return (2, "\(path).analyzer char") }
                switch text.vectorizer {
                case .tfidf(let tfidf):
                    if tfidf.binary { return (2, "\(path).vectorizer.binary") }
                    if tfidf.norm == .l1 { return (2, "\(path).vectorizer.norm l1") }
                case .hashing(let hashing):
                    if hashing.binary { return (2, "\(path).vectorizer.binary") }
                    if hashing.norm == .l1 { return (2, "\(path).vectorizer.norm l1") }
                }
            case .categorical(let categorical):
                if categorical.layout != nil { return (2, "\(path).layout") }
            case .numeric, .boolean:
                break
            }
        }
        return (1, nil)
    }

    /// Rejects a manifest that declares a format older than the features it uses.
    func validateFormatFeatures() throws(ArtifactError) {
        let required = requiredFormat
        if formatVersion < required.version, let reason = required.reason {
            throw ArtifactError(.unsupportedFormatVersion,
                                "\(reason) needs format_version \(required.version), the manifest declares \(formatVersion)")
        }
    }
}
