import HTTPServer
import Inference
import JSON
import Registry

/// One loaded model version plus everything the request path needs that can be computed
/// once at load time: the listing schema derived from the signature, the request schema,
/// and the field positions used to turn a JSON listing into pipeline input.
public final class ServingModel: Sendable {
    public let model: LoadedModel
    /// The listing schema of this version (from its signature).
    public let listingSchema: Schema
    /// What the status routes show of this version (ModelRoutes.metadata), built once.
    public let manifestSummary: JSONObject
    /// `{"instances": [listing…]}` with the batch limit.
    public let requestSchema: Schema
    /// Decodes conforming predict bodies straight into pipeline input (nil: general path only).
    let listingDecoder: ListingDecoder?
    /// Signature field name → position in the pipeline's input.
    private let fieldIndex: [String: Int]
    /// The signature's field names, in order.
    let fieldNames: [String]
    private let idIndex: Int?
    /// The signature as tensors, for TF Serving's and the Open Inference Protocol's metadata and codecs.
    let tensors: SignatureTensors
    /// The signature as the Open Inference Protocol's decoders check requests against it.
    let v2Signature: V2Signature
    /// Decodes all-JSON V2 infer bodies that fit the signature straight into pipeline input
    /// (nil: general path only).
    let v2Decoder: V2ListingDecoder?
    /// The V2 outputs an infer request without `outputs` gets (every signature output, as
    /// JSON unless the request asks for binary), listed once rather than per request.
    let v2DefaultOutputs: [V2RequestedOutput]
    /// Prediction counters and the score histogram of this version (nil: metrics off).
    public let metrics: ModelVersionMetrics?
    /// Whether the artifact carries a training-input profile (input skew can be compared).
    let hasProfile: Bool
    /// The decision threshold in JSON (its shortest form), written once: every prediction of
    /// the version carries it, and formatting a double costs about as much as scoring a
    /// listing's numeric fields.
    let thresholdJSON: [UInt8]
    /// `,"label":"<label>","threshold":<threshold>` for each of the model's labels, in their
    /// order: what follows the score in every scored item, appended whole. One array, not an
    /// array per label: taking an inner array out retained it, on every item, from every
    /// event loop.
    let labelAndThresholdJSON: JoinedRuns
    /// Listings of this model the monitor skipped (shared by the model's versions).
    let monitorSkipped: MonitorSkipCounters.Counter

    public init(model: LoadedModel, maxBatchSize: Int, metrics: ModelVersionMetrics? = nil,
                monitorSkipped: MonitorSkipCounters.Counter = MonitorSkipCounters.Counter()) {
        self.model = model
        self.metrics = metrics
        self.monitorSkipped = monitorSkipped
        hasProfile = model.manifest.profile != nil
        var threshold = JSONWriter(capacity: 32)
        threshold.number(model.threshold)
        thresholdJSON = threshold.bytes
        labelAndThresholdJSON = JoinedRuns(model.labels.map { [thresholdJSON] label in
            var out = JSONWriter(capacity: 32 + label.utf8.count)
            out.raw(",\"label\":")
            out.string(label)
            out.raw(",\"threshold\":")
            thresholdJSON.withUnsafeBytes { out.raw(bytes: $0) }
            return out.bytes
        })
        listingSchema = ListingSchema.from(model.signature)
        manifestSummary = ModelRoutes.metadata(model, listing: listingSchema)
        requestSchema = Schemas.predictRequest(listing: listingSchema, maxBatchSize: maxBatchSize)
        listingDecoder = ListingDecoder(listing: listingSchema, maxBatchSize: maxBatchSize)
        tensors = SignatureTensors(model.signature, classes: model.isMulticlass ? model.labels : nil)
        v2Signature = V2Codec.signature(model.signature, listing: listingSchema, tensors: tensors)
        v2Decoder = V2ListingDecoder(signature: v2Signature, maxBatchSize: maxBatchSize,
                                     emptyListings: { ReusedStorage.emptyListings(count: $0, width: $1) },
                                     textValue: { ReusedStorage.textValue($0) })
        v2DefaultOutputs = tensors.outputs.map { V2RequestedOutput.listedByDefault($0.name) }
        var index: [String: Int] = [:]
        for (i, field) in model.signature.fields.enumerated() { index[field.name] = i }
        fieldIndex = index
        fieldNames = model.signature.fields.map(\.name)
        idIndex = model.signature.idField.flatMap { index[$0] }
    }

    /// Pipeline input for every listing of a predict body, or the error the contract answers
    /// with: 400 for JSON that does not parse, 422 with every problem for one that breaks the
    /// request schema. A conforming body is decoded in one pass without a JSON tree.
    public func instances(of body: [UInt8]) throws -> [[FeatureValue]] {
        try predictInput(of: body).listings
    }

    /// How a predict body laid its listings out, so the answer can use the same layout.
    public enum PredictForm: Sendable, Equatable {
        /// `{"instances": [listing, …]}`: answered with `predictions`, one object per listing.
        case rows
        /// TF Serving's `{"inputs": {field: [value, …]}}`: answered with `outputs`, one array per output.
        case columns
    }

    /// `instances(of:)` and the form the body used.
    public func predictInput(of body: [UInt8]) throws -> (listings: [[FeatureValue]], form: PredictForm) {
        if let decoded = listingDecoder?.decode(body) { return (decoded, .rows) }
        return try generalInput(of: body)
    }

    /// The general path alone (parse, validate, convert): the answer for every body the
    /// one-pass decoder declines, and the reference the decoder is tested against.
    func generalInstances(of body: [UInt8]) throws -> [[FeatureValue]] {
        try generalInput(of: body).listings
    }

    /// An explain body's listings and the class it asks about (`class`, a position in the
    /// model's labels; nil: each listing's predicted class). A binary model explains its
    /// positive label only, so `class` must name that one; anything else is a 422 at `/class`.
    public func explainInput(of body: [UInt8]) throws -> (listings: [[FeatureValue]], explainedClass: Int?) {
        if let decoded = listingDecoder?.decode(body) { return (decoded, nil) }
        let parsed = try JSONParser.parse(body)
        guard let name = parsed["class"] else { return (try generalInput(of: body, parsed: parsed).listings, nil) }
        let labels = model.labels
        var problems: [FieldProblem] = []
        var explained: Int?
        if case .string(let text) = name, let c = labels.firstIndex(of: text), model.isMulticlass || c == 1 {
            explained = c
        } else {
            let expected = model.isMulticlass ? "one of the model's classes: \(labels.joined(separator: ", "))"
                : "\"\(labels[1])\" (a binary model explains its positive label)"
            problems.append(FieldProblem(pointer: "/class", problem: "must be \(expected)"))
        }
        let rest = JSONObject((parsed.objectValue?.members ?? []).filter { $0.key != "class" })
        let others = requestSchema.validate(.object(rest))
        guard problems.isEmpty, others.isEmpty else { throw ContractError.schemaViolation(problems + others) }
        return (try generalInput(of: body, parsed: .object(rest)).listings, explained)
    }

    /// `generalInstances(of:)` and the form the body used (`parsed`: the body already parsed).
    func generalInput(of body: [UInt8], parsed alreadyParsed: JSONValue? = nil) throws -> (listings: [[FeatureValue]], form: PredictForm) {
        let parsed = try alreadyParsed ?? JSONParser.parse(body)
        guard requestSchema.conforms(parsed) else { throw ContractError.schemaViolation(requestSchema.validate(parsed)) }
        // The schema admits exactly one of the two forms.
        if let columns = parsed["inputs"]?.objectValue { return (try listings(columns: columns), .columns) }
        return ((parsed["instances"]?.arrayValue ?? []).map { featureValues($0.objectValue ?? JSONObject()) }, .rows)
    }

    /// Turns columns into listings and checks each against the listing schema; a problem's
    /// pointer names the column and the position (`/inputs/price_usd/3`).
    private func listings(columns: JSONObject) throws -> [[FeatureValue]] {
        let count = columns.members.first?.value.arrayValue?.count ?? 0
        var problems: [FieldProblem] = []
        for column in columns.members where column.value.arrayValue?.count != count {
            problems.append(FieldProblem(
                pointer: "/inputs/" + Schema.escape(column.key),
                problem: "expected \(count) values like the first input, got \(column.value.arrayValue?.count ?? 0)"))
        }
        if count == 0 { problems.append(FieldProblem(pointer: "/inputs", problem: "expected at least one input")) }
        guard problems.isEmpty else { throw ContractError.schemaViolation(problems) }
        var rows: [JSONObject] = []
        rows.reserveCapacity(count)
        for i in 0..<count {
            let listing = JSONObject(columns.members.map { (key: $0.key, value: $0.value.arrayValue![i]) })
            for problem in listingSchema.validate(.object(listing)) {
                // "/field" of listing i → "/inputs/field/i"; a missing field names the column.
                let field = problem.pointer.dropFirst().split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                let pointer = field.first.map { "/inputs/\($0)" + (problem.problem == "is required" ? "" : "/\(i)") } ?? "/inputs"
                if !problems.contains(where: { $0.pointer == pointer && $0.problem == problem.problem }) {
                    problems.append(FieldProblem(pointer: pointer, problem: problem.problem))
                }
            }
            rows.append(listing)
        }
        guard problems.isEmpty else { throw ContractError.schemaViolation(problems) }
        return rows.map(featureValues)
    }

    /// Pipeline input for one validated listing: values in signature order, absent or null
    /// optional fields as `.missing`, members the signature does not name ignored.
    public func featureValues(_ listing: JSONObject) -> [FeatureValue] {
        var values = [FeatureValue](filledWith: .missing, count: fieldIndex.count)
        for member in listing.members {
            guard let i = fieldIndex[member.key] else { continue }
            switch member.value {
            case .string(let s): values[i] = .string(s)
            case .number(let n): values[i] = .number(n)
            case .bool(let b): values[i] = .bool(b)
            case .null, .array, .object: values[i] = .missing
            }
        }
        return values
    }

    /// `listing`, decoded with `other`'s signature, in this version's field order (the same
    /// array when both signatures list the same fields in the same order).
    func values(_ listing: [FeatureValue], from other: ServingModel) -> [FeatureValue] {
        if other === self || other.fieldNames == fieldNames { return listing }
        var values = [FeatureValue](filledWith: .missing, count: fieldIndex.count)
        for (name, i) in fieldIndex {
            if let j = other.fieldIndex[name], j < listing.count { values[i] = listing[j] }
        }
        return values
    }

    /// The listing's id, echoed in responses.
    public func id(of values: [FeatureValue]) -> FeatureText? {
        guard let idIndex, case .string(let id) = values[idIndex] else { return nil }
        return id
    }
}

/// Loads versions for the registry: validates the artifact (checksums, stored example)
/// and prepares the request-path structures, all on the registry's thread.
public struct ServingModelLoader: ServableLoader {
    public let maxBatchSize: Int
    /// Load outcomes and per-version handles go here; nil: metrics off.
    public let metrics: ServiceMetrics?

    /// The monitor's per-model skip counters, handed to each version as it loads.
    let skipCounters: MonitorSkipCounters

    public init(maxBatchSize: Int, metrics: ServiceMetrics? = nil, skipCounters: MonitorSkipCounters = MonitorSkipCounters()) {
        self.maxBatchSize = maxBatchSize
        self.metrics = metrics
        self.skipCounters = skipCounters
    }

    public func load(name: String, version: Int, directory: String) throws -> ServingModel {
        let model: LoadedModel
        do {
            model = try LoadedModel.load(directory: directory)
        } catch {
            metrics?.loadFailed(model: name, reason: error.code.rawValue)
            throw error
        }
        metrics?.loadSucceeded(model: name)
        let versionMetrics = metrics?.modelVersion(model: name, version: version, labels: model.manifest.labels)
        return ServingModel(model: model, maxBatchSize: maxBatchSize, metrics: versionMetrics,
                            monitorSkipped: skipCounters.counter(model: name))
    }
}

/// The listing schema of a model version, derived from its signature.
public enum ListingSchema {
    /// Optional fields accept null (treated as missing). Members the signature does not
    /// name are accepted and ignored, so clients can send fields a newer version needs
    /// while an older one serves (and across a rollback) without failing.
    public static func from(_ signature: Signature) -> Schema {
        let properties = signature.fields.map { field -> (name: String, schema: Schema) in
            let base: JSONType =
                switch field.type {
                case .string: .string
                case .number: .number
                case .integer: .integer
                case .boolean: .boolean
                }
            let c = field.constraints
            let schema = Schema(
                types: field.required ? [base] : [base, .null],
                description: field.description.isEmpty ? nil : field.description,
                minimum: c?.minimum, maximum: c?.maximum, minLength: c?.minLength, maxLength: c?.maxLength,
                enumValues: c?.allowed)
            return (name: field.name, schema: schema)
        }
        return Schema(
            types: [.object], description: "A marketplace listing, as the serving model's signature defines it.",
            properties: properties, required: signature.fields.filter(\.required).map(\.name),
            additionalProperties: true, componentName: "Listing")
    }
}

extension JSONWriter {
    /// A listing's text, written from its UTF-8.
    mutating func string(_ text: FeatureText) {
        text.withUTF8 { string(utf8: $0) }
    }

    /// `{"id":…,"score":…,"label":…,"threshold":…` — the fields every scored item starts with
    /// (the Prediction and Explanation schemas, and `vigia predict`'s lines), then `"scores"`
    /// for a multi-class model; left open for the caller to close or extend.
    /// `serving`: the version that answered.
    mutating func beginScoredItem(id: FeatureText?, _ prediction: Prediction, answeredBy serving: ServingModel) {
        raw("{\"id\":")
        if let id { string(id) } else { null() }
        raw(",\"score\":")
        number(prediction.score)
        // The label and threshold as the version wrote them once, when the prediction's label
        // is the one at its class's position (always, for predictions of this version).
        let labels = serving.model.labels
        let index = prediction.classScores?.labelIndex ?? (prediction.isPositive ? 1 : 0)
        if index >= 0, index < serving.labelAndThresholdJSON.count, labels[index] == prediction.label {
            serving.labelAndThresholdJSON.withRun(index) { raw(bytes: $0) }
        } else {
            raw(",\"label\":")
            string(prediction.label)
            raw(",\"threshold\":")
            serving.thresholdJSON.withUnsafeBytes { raw(bytes: $0) }
        }
        if let scores = prediction.classScores {
            raw(",\"scores\":")
            classScores(scores)
        }
    }

    /// `{"<class>":p,…}`, every class of a multi-class model in its order.
    mutating func classScores(_ scores: ClassScores) {
        raw("{")
        for (c, name) in scores.classes.enumerated() {
            if c > 0 { raw(",") }
            string(name)
            raw(":")
            number(scores.probabilities[c])
        }
        raw("}")
    }

    /// `head` (e.g. `,"raised_by":[`), the contributions as objects, and the closing `]`.
    mutating func contributions(_ head: StaticString, _ list: [FeatureContribution]) {
        raw(head)
        for (j, contribution) in list.enumerated() {
            if j > 0 { raw(",") }
            raw("{\"feature\":")
            string(contribution.feature)
            raw(",\"value\":")
            number(contribution.value)
            raw(",\"contribution\":")
            number(contribution.contribution)
            raw("}")
        }
        raw("]")
    }
}

/// Byte runs kept end to end in one array, read in place by index.
struct JoinedRuns: Sendable {
    private let bytes: [UInt8]
    /// Where run k starts is `bounds[k]`, where it ends `bounds[k + 1]`.
    private let bounds: [Int]

    init(_ runs: [[UInt8]]) {
        bytes = runs.flatMap { $0 }
        bounds = runs.reduce(into: [0]) { bounds, run in bounds.append(bounds.last! + run.count) }
    }

    var count: Int { bounds.count - 1 }

    /// Run `index` (in `0..<count`), valid during `body`.
    @inline(__always)
    func withRun<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[bounds[index]..<bounds[index + 1]])) }
    }
}
