import FoundationEssentials

/// A validated, ready-to-serve model version.
///
/// Immutable after construction (every stored property is a `let` of a `Sendable` value type),
/// so one instance is shared by all request threads without locks. Everything that can be
/// computed ahead — vocabulary maps, inverse vocabularies for feature names, field positions,
/// naive Bayes weight differences — is computed in `init`.
public final class LoadedModel: Sendable {
    /// The manifest as loaded (signature, metrics, example, labels, dataset …).
    public let manifest: ModelManifest
    /// The compiled feature pipeline (also usable by the trainer to vectorise data).
    public let pipeline: FeaturePipeline
    /// How feature vectors become predictions.
    let scorer: Scorer

    /// A binary model (one margin and a link) or a multi-class one (a softmax over K classes).
    enum Scorer: Sendable {
        case binary(LinearModel)
        case classes(ClassModel)
    }

    public var name: String { manifest.name }
    public var version: Int { manifest.version }
    public var algorithm: Algorithm { manifest.algorithm }
    public var signature: Signature { manifest.signature }
    public var threshold: Double { manifest.threshold }
    /// `[negative, positive]`, or a multi-class model's class names.
    public var labels: [String] { manifest.labels }
    /// Whether the model has more than two classes (predictions then carry `classScores`).
    public var isMulticlass: Bool { manifest.isMulticlass }
    /// The unit explanations are expressed in.
    public var marginUnit: MarginUnit {
        if isMulticlass { return .classLogit }
        switch manifest.algorithm {
        case .linearSVM, .modifiedHuber, .calibratedLinear: return .decisionFunction
        case .logisticRegression, .multinomialNB, .bernoulliNB: return .logOdds
        }
    }

    /// Largest accepted difference between the example's stored and recomputed score.
    public static let exampleTolerance = 1e-9

    /// Validates and compiles a manifest whose arrays live inline or in `weights` (the values of
    /// `weights.bin`). Checks everything except files and location; checks the stored example
    /// when `verifyExample` (default true). The trainer uses this with `verifyExample: false`
    /// to compute `example.expected_score` before writing.
    public init(manifest: ModelManifest, weights: [Double] = [], verifyExample: Bool = true) throws(ArtifactError) {
        try Self.validateHeader(manifest)
        let pipeline = try FeaturePipeline(spec: manifest.pipeline, signature: manifest.signature, weights: weights)
        if manifest.algorithm == .multinomialNB, let reason = pipeline.nonNegativeViolation() {
            throw ArtifactError(.invalidPipeline, "multinomial_nb needs non-negative features: \(reason)")
        }
        if let profile = manifest.profile { try profile.validate(against: manifest.signature) }
        self.manifest = manifest
        self.pipeline = pipeline
        if manifest.isMulticlass {
            let policy = try ClassPolicy(classes: manifest.labels, positiveClasses: manifest.positiveClasses,
                                         classThresholds: manifest.classThresholds, threshold: manifest.threshold)
            self.scorer = .classes(try ClassModel(algorithm: manifest.algorithm, parameters: manifest.model,
                                                  dimension: pipeline.dimension, weights: weights, policy: policy))
        } else {
            self.scorer = .binary(try LinearModel(algorithm: manifest.algorithm, parameters: manifest.model,
                                                  dimension: pipeline.dimension, weights: weights))
        }
        if verifyExample { try verifyStoredExample() }
    }

    /// Loads `<directory>/model.json` (+ `weights.bin`), verifying, in order: the manifest parses
    /// (the error names the key), `format_version` is supported, name/version equal the last two
    /// path components `<name>/<version>` (unless `checkLocation` is false), every file listed in
    /// `files` exists and matches its SHA-256, `weights.bin` holds whole float64 values and every
    /// array reference fits in it, the pipeline and model are consistent, and the stored example
    /// reproduces its expected score within `exampleTolerance`.
    public static func load(directory: String, checkLocation: Bool = true) throws(ArtifactError) -> LoadedModel {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let manifestBytes = try readFile(directory, ModelManifest.fileName)
        let manifest = try decodeManifest(manifestBytes)
        if checkLocation {
            let components = directory.split(separator: "/", omittingEmptySubsequences: true)
            let versionName = components.last.map(String.init) ?? ""
            let modelName = components.count >= 2 ? String(components[components.count - 2]) : ""
            guard modelName == manifest.name else {
                throw ArtifactError(.locationMismatch, "manifest name \"\(manifest.name)\" differs from directory \"\(modelName)\"")
            }
            guard versionName == String(manifest.version) else {
                throw ArtifactError(.locationMismatch, "manifest version \(manifest.version) differs from directory \"\(versionName)\"")
            }
        }
        var weights: [Double] = []
        for fileName in manifest.files.keys.sorted() {
            guard let expected = manifest.files[fileName] else { continue }
            guard isPlainFileName(fileName), fileName != ModelManifest.fileName else {
                throw ArtifactError(.invalidManifest, "files: \"\(fileName)\" is not a plain file name in the version directory")
            }
            let bytes = try readFile(directory, fileName)
            let actual = SHA256.hex(bytes)
            guard actual == expected.lowercased() else {
                throw ArtifactError(.checksumMismatch, "\(fileName): SHA-256 is \(actual), manifest lists \(expected)")
            }
            if fileName == ModelManifest.weightsFileName { weights = try decodeWeights(bytes) }
        }
        if manifest.files[ModelManifest.weightsFileName] == nil, manifest.referencesWeightsFile {
            throw ArtifactError(.invalidWeights, "arrays reference weights.bin but files does not list it with its checksum")
        }
        return try LoadedModel(manifest: manifest, weights: weights, verifyExample: true)
    }

    // MARK: Hot path

    /// Scores values given in `signature.fields` order (shorter arrays: the rest is `.missing`).
    /// A plain linear model scores through `FeaturePipeline.dot` (no feature vector, no heap
    /// allocation); Bernoulli naive Bayes, calibrated ensembles and multiclass models through the vector. Both
    /// give the score `model.score(features(values))` gives, bit for bit.
    public func predict(_ values: [FeatureValue]) -> Prediction {
        predict(values, termCounts: nil)
    }

    /// `predict`, also writing to `termCounts[start + field]`, for each signature field, the
    /// field's `TermCount` as `FeaturePipeline.termCount(_:field:)` gives it, counted in the
    /// scoring pass itself: what live input skew monitoring compares with training, without
    /// analysing the text again. `termCounts` needs `signature.fields.count` entries from `start`.
    public func predict(_ values: [FeatureValue], termCounts: inout [TermCount?], at start: Int) -> Prediction {
        let fields = signature.fields.count
        precondition(start >= 0 && start + fields <= termCounts.count, "room for one count per field")
        return termCounts.withUnsafeMutableBufferPointer { all in
            predict(values, termCounts: UnsafeMutableBufferPointer(rebasing: all[start..<start + fields]))
        }
    }

    private func predict(_ values: [FeatureValue], termCounts: UnsafeMutableBufferPointer<TermCount?>?) -> Prediction {
        switch scorer {
        case .binary(let model):
            guard model.ensemble == nil, model.binarize == nil else {
                return prediction(score: model.score(pipeline.transform(values, termCounts: termCounts)))
            }
            let dot = model.weights.withUnsafeBufferPointer { pipeline.dot(values, $0, termCounts: termCounts) }
            return prediction(score: model.score(margin: model.bias + dot))
        case .classes(let model):
            return model.predict(pipeline.transform(values, termCounts: termCounts))
        }
    }

    /// Scores a field-name → value dictionary (absent fields are `.missing`; unknown keys ignored).
    public func predict(_ dict: [String: FeatureValue]) -> Prediction {
        predict(orderedValues(dict))
    }

    /// The feature vector the model sees for `values` (for debugging and the trainer).
    public func features(_ values: [FeatureValue]) -> SparseVector { pipeline.transform(values) }

    /// The raw margin (see `marginUnit`) for values in signature order; for a multi-class
    /// model, the predicted class's.
    public func margin(_ values: [FeatureValue]) -> Double {
        switch scorer {
        case .binary(let model): model.margin(pipeline.transform(values))
        case .classes: explain(values, top: 0).margin
        }
    }

    /// Prediction plus the `top` features that pushed the score up and the `top` that pushed it
    /// down, by absolute contribution. Contributions are value × weight in `marginUnit`. A
    /// multi-class model explains class `explainedClass` (a position in `labels`; nil: the
    /// predicted label's class); a binary model always explains its positive label.
    public func explain(_ values: [FeatureValue], top: Int, class explainedClass: Int? = nil) -> Explanation {
        let x = pipeline.transform(values)
        let raises: Bool, margin: Double, bias: Double, weights: [Double], prediction: Prediction
        var explained: Int?
        var effectiveValue: (Double) -> Double = { $0 }
        switch scorer {
        case .binary(let model):
            raises = model.marginRaisesScore
            margin = model.margin(x)  // the same arithmetic as predict, so the prediction is identical
            bias = model.bias
            weights = model.weights
            effectiveValue = model.effectiveValue
            prediction = self.prediction(score: model.score(x, margin: margin))
        case .classes(let model):
            prediction = model.predict(x)
            let c = explainedClass ?? prediction.classScores?.labelIndex ?? 0
            (weights, bias) = model.centred(c)
            margin = bias + x.dot(weights)
            raises = true
            explained = c
        }
        var ups: [(index: Int32, value: Double, contribution: Double)] = []
        var downs: [(index: Int32, value: Double, contribution: Double)] = []
        for k in 0..<x.count {
            let index = x.indices[k]
            let value = effectiveValue(x.values[k])
            let c = value * weights[Int(index)]
            if c == 0 { continue }
            if (c > 0) == raises { ups.append((index, value, c)) } else { downs.append((index, value, c)) }
        }
        let limit = max(0, top)
        // Largest effect first; ties by column so that the order is deterministic.
        func byEffect(_ a: (index: Int32, value: Double, contribution: Double), _ b: (index: Int32, value: Double, contribution: Double)) -> Bool {
            abs(a.contribution) != abs(b.contribution) ? abs(a.contribution) > abs(b.contribution) : a.index < b.index
        }
        ups.sort(by: byEffect)
        downs.sort(by: byEffect)
        let shownUp = ups.prefix(limit), shownDown = downs.prefix(limit)
        let remainder = ups.dropFirst(limit).reduce(0) { $0 + $1.contribution }
            + downs.dropFirst(limit).reduce(0) { $0 + $1.contribution }
        func named(_ item: (index: Int32, value: Double, contribution: Double)) -> FeatureContribution {
            FeatureContribution(feature: pipeline.featureName(at: Int(item.index)), value: item.value, contribution: item.contribution)
        }
        return Explanation(prediction: prediction, unit: marginUnit, margin: margin, bias: bias,
                           up: shownUp.map(named), down: shownDown.map(named), remainder: remainder,
                           explainedClass: explained.map { labels[$0] })
    }

    /// `explain` for a field-name → value dictionary.
    public func explain(_ dict: [String: FeatureValue], top: Int, class explainedClass: Int? = nil) -> Explanation {
        explain(orderedValues(dict), top: top, class: explainedClass)
    }

    /// Values in signature order from a dictionary.
    public func orderedValues(_ dict: [String: FeatureValue]) -> [FeatureValue] {
        manifest.signature.fields.map { dict[$0.name] ?? .missing }
    }

    @inline(__always)
    private func prediction(score: Double) -> Prediction {
        let positive = score >= manifest.threshold
        return Prediction(score: score, label: manifest.labels[positive ? 1 : 0], isPositive: positive)
    }

    // MARK: Validation helpers

    private func verifyStoredExample() throws(ArtifactError) {
        for key in manifest.example.input.keys.sorted() where manifest.signature.index(of: key) == nil {
            throw ArtifactError(.exampleMismatch, "example.input.\(key) is not a field of the signature")
        }
        let score = predict(manifest.example.input).score
        let expected = manifest.example.expectedScore
        guard abs(score - expected) <= Self.exampleTolerance else {
            throw ArtifactError(.exampleMismatch, "example scores \(score), manifest expects \(expected)")
        }
    }

    static func validateHeader(_ m: ModelManifest) throws(ArtifactError) {
        try checkFormatVersion(m.formatVersion)
        try m.validateFormatFeatures()
        guard !m.name.isEmpty, isPlainFileName(m.name) else {
            throw ArtifactError(.invalidManifest, "name \"\(m.name)\" must be a non-empty plain directory name")
        }
        guard m.version > 0 else { throw ArtifactError(.invalidManifest, "version must be a positive integer, got \(m.version)") }
        guard m.labels.count >= 2 else {
            throw ArtifactError(.invalidManifest, "labels must hold 2 names [negative, positive] or the names of 3 or more classes, got \(m.labels.count)")
        }
        guard Set(m.labels).count == m.labels.count, !m.labels.contains("") else {
            throw ArtifactError(.invalidManifest, "labels must be different non-empty names, got \(m.labels)")
        }
        if !m.isMulticlass {
            for (key, present) in [("positive_classes", m.positiveClasses != nil), ("class_thresholds", m.classThresholds != nil),
                                   ("model.class_weights", m.model.classWeights != nil), ("model.class_intercepts", m.model.classIntercepts != nil)]
            where present {
                throw ArtifactError(.invalidManifest, "\(key) is for multi-class models; this one has 2 labels")
            }
        }
        guard m.threshold.isFinite, m.threshold >= 0, m.threshold <= 1 else {
            throw ArtifactError(.invalidManifest, "threshold must be in [0, 1], got \(m.threshold)")
        }
        var seen = Set<String>()
        for (k, field) in m.signature.fields.enumerated() {
            guard !field.name.isEmpty else { throw ArtifactError(.invalidSignature, "signature.fields[\(k)].name is empty") }
            guard seen.insert(field.name).inserted else {
                throw ArtifactError(.invalidSignature, "signature.fields[\(k)]: \"\(field.name)\" is listed twice")
            }
        }
        if let id = m.signature.idField {
            guard let k = m.signature.index(of: id), m.signature.fields[k].type == .string else {
                throw ArtifactError(.invalidSignature, "signature.id_field \"\(id)\" must name a string field of signature.fields")
            }
        }
    }

    static func checkFormatVersion(_ version: Int) throws(ArtifactError) {
        let supported = ModelManifest.supportedFormatVersions
        guard supported.contains(version) else {
            throw ArtifactError(.unsupportedFormatVersion,
                                "format_version \(version) is not supported (this build reads \(supported.lowerBound) to \(supported.upperBound))")
        }
    }

    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    static func readFile(_ directory: String, _ fileName: String) throws(ArtifactError) -> [UInt8] {
        let path = directory + "/" + fileName
        let manager = FileManager.default
        var isDirectory = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory else {
            throw ArtifactError(.missingFile, "\(fileName) is missing from \(directory)")
        }
        guard let data = manager.contents(atPath: path) else {
            throw ArtifactError(.unreadableFile, "\(path) could not be read")
        }
        return [UInt8](data)
    }

    /// Parses `model.json`: format version first (so a future format gets a precise error), then
    /// the whole manifest, turning decoding errors into messages that name the key path.
    public static func decodeManifest(_ bytes: [UInt8]) throws(ArtifactError) -> ModelManifest {
        struct VersionProbe: Decodable {
            let formatVersion: Int
            enum CodingKeys: String, CodingKey { case formatVersion = "format_version" }
        }
        let data = Data(bytes)
        let decoder = JSONDecoder()
        do {
            let probe = try decoder.decode(VersionProbe.self, from: data)
            try checkFormatVersion(probe.formatVersion)
            return try decoder.decode(ModelManifest.self, from: data)
        } catch let error as ArtifactError {
            throw error
        } catch let error as DecodingError {
            throw ArtifactError(.invalidManifest, "model.json: " + describe(error))
        } catch {
            throw ArtifactError(.invalidManifest, "model.json: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for key in keys {
                if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return out.isEmpty ? "(top level)" : out
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key \(path(context.codingPath + [key]))"
        case .typeMismatch(let type, let context):
            return "key \(path(context.codingPath)) has the wrong type (expected \(type))"
        case .valueNotFound(let type, let context):
            return "key \(path(context.codingPath)) is null (expected \(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON (\(context.debugDescription))" }
            return "key \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// `weights.bin` bytes → float64 values (little-endian).
    static func decodeWeights(_ bytes: [UInt8]) throws(ArtifactError) -> [Double] {
        guard bytes.count % 8 == 0 else {
            throw ArtifactError(.invalidWeights, "weights.bin is \(bytes.count) bytes, not a whole number of float64 values")
        }
        return bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 8).map { i in
                Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
            }
        }
    }
}

extension ModelManifest {
    /// Whether any array lives in `weights.bin`.
    var referencesWeightsFile: Bool {
        var arrays: [StoredArray] = []
        for transformer in pipeline.transformers {
            if case .text(let text) = transformer, case .tfidf(let tfidf) = text.vectorizer { arrays.append(tfidf.idf) }
        }
        if let w = model.weights { arrays.append(w) }
        arrays.append(contentsOf: model.classWeights ?? [])
        arrays.append(contentsOf: model.featureLogProb ?? [])
        arrays.append(contentsOf: (model.members ?? []).map(\.weights))
        return arrays.contains { $0.values == nil }
    }
}
