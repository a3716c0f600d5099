import FoundationEssentials
import HTTPServer
import Inference
import JSON
import Monitoring
import Registry

/// Predict, explain and model status: the product's routes.
struct ModelRoutes {
    /// The one scoring call; these routes are its KServe V1 / TF Serving codec.
    let scoring: Scoring
    var registry: ModelRegistry<ServingModelLoader> { scoring.registry }

    // MARK: Predict and explain

    /// Which version a predict path asks for.
    static func selector(_ request: HTTPRequest) throws -> VersionSelector {
        if let label = request.pathParameters["label"] { return .label(label) }
        if let text = request.pathParameters["version"] {
            guard let version = Int(text), version > 0 else {
                throw HTTPError(.notFound, detail: "version '\(text)' is not a positive integer")
            }
            return .version(version)
        }
        return .serving
    }

    func predict(_ request: HTTPRequest) throws -> HTTPResponse {
        try Self.requireJSON(request)
        var form = ServingModel.PredictForm.rows
        // The closure captures the body alone: capturing `request` copied the whole request
        // (ten references retained, then released).
        let body = request.body
        let batch = try scoring.predict(
            model: request.pathParameters["name"] ?? "", selector: Self.selector(request),
            requestID: request.id ?? request.headers[RequestID.headerName]
        ) {
            let input = try $0.predictInput(of: body)
            form = input.form
            return input.listings
        }
        var out = Self.beginBody(batch.handle, version: batch.answeringVersion, capacity: 96 + 96 * batch.results.count)
        if form == .columns {
            Self.writeColumns(batch, to: &out)
        } else {
            Self.writePredictions(batch, to: &out)
        }
        scoring.recycle(consume batch)
        return Self.reusedJSON(out.bytes)
    }

    /// KServe V1's answer: `,"predictions":[…]}`, one scored item per listing.
    private static func writePredictions(_ batch: Scoring.Batch<Prediction>, to out: inout JSONWriter) {
        let serving = batch.serving
        out.raw(",\"predictions\":[")
        for (i, prediction) in batch.results.enumerated() {
            if i > 0 { out.raw(",") }
            if batch.byCanary != nil {
                // Split with a canary: each prediction says which version answered it.
                out.beginScoredItem(id: batch.id(at: i), prediction, answeredBy: batch.serving(at: i))
                out.raw(",\"model_version\":")
                out.number(batch.version(at: i))
            } else {
                out.beginScoredItem(id: batch.id(at: i), prediction, answeredBy: serving)
            }
            out.raw("}")
        }
        out.raw("]}")
    }

    func explain(_ request: HTTPRequest) throws -> HTTPResponse {
        try Self.requireJSON(request)
        let batch = try scoring.explain(model: request.pathParameters["name"] ?? "", selector: Self.selector(request)) {
            try $0.explainInput(of: request.body)
        }
        let model = batch.serving.model
        var out = Self.beginBody(batch.handle, version: batch.handle.version, capacity: 512 * batch.results.count)
        out.raw(",\"margin_unit\":")
        out.string(model.marginUnit.rawValue)
        out.raw(",\"explanations\":[")
        for (i, explanation) in batch.results.enumerated() {
            if i > 0 { out.raw(",") }
            out.beginScoredItem(id: batch.id(at: i), explanation.prediction, answeredBy: batch.serving)
            if let explained = explanation.explainedClass {
                out.raw(",\"class\":")
                out.string(explained)
            }
            out.raw(",\"margin\":")
            out.number(explanation.margin)
            out.raw(",\"bias\":")
            out.number(explanation.bias)
            out.raw(",\"remainder\":")
            out.number(explanation.remainder)
            out.contributions(",\"raised_by\":[", explanation.up)
            out.contributions(",\"lowered_by\":[", explanation.down)
            out.raw("}")
        }
        out.raw("]}")
        return Self.reusedJSON(out.bytes)
    }

    /// TF Serving's columnar answer: `,"outputs":{"id":[…],"score":[…],"label":[…]}}`.
    private static func writeColumns(_ batch: Scoring.Batch<Prediction>, to out: inout JSONWriter) {
        out.raw(",\"outputs\":{\"id\":[")
        for i in batch.listings.indices {
            if i > 0 { out.raw(",") }
            if let id = batch.id(at: i) { out.string(id) } else { out.null() }
        }
        out.raw("],\"score\":[")
        for (i, prediction) in batch.results.enumerated() {
            if i > 0 { out.raw(",") }
            out.number(prediction.score)
        }
        out.raw("],\"label\":[")
        for (i, prediction) in batch.results.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(prediction.label)
        }
        if batch.results.contains(where: { $0.classScores != nil }) {
            // Multi-class: every class's probability, one object per listing (null where a
            // binary canary answered).
            out.raw("],\"scores\":[")
            for (i, prediction) in batch.results.enumerated() {
                if i > 0 { out.raw(",") }
                if let scores = prediction.classScores { out.classScores(scores) } else { out.null() }
            }
        }
        if batch.byCanary != nil {
            out.raw("],\"model_version\":[")
            for i in batch.results.indices {
                if i > 0 { out.raw(",") }
                out.number(batch.version(at: i))
            }
        }
        out.raw("]}}")
    }

    /// `{"model_name":…,"model_version":…` — the start of every scoring response.
    /// Written into a body the thread reused (`ResponseBodies`): answer with `reusedJSON`.
    private static func beginBody(_ handle: ServableHandle<ServingModel>, version: Int, capacity: Int) -> JSONWriter {
        var out = JSONWriter(appendingTo: ResponseBodies.take(capacity: capacity), capacity: capacity)
        out.raw("{\"model_name\":")
        out.string(handle.model)
        out.raw(",\"model_version\":")
        out.number(version)
        return out
    }

    // MARK: Status

    func listModels(_ request: HTTPRequest) throws -> HTTPResponse {
        let models = registry.status().map { statusJSON($0, detailed: false) }
        return Self.json(JSONWriter.encode(["models": .array(models)]))
    }

    func model(_ request: HTTPRequest) throws -> HTTPResponse {
        let name = request.pathParameters["name"] ?? ""
        guard let status = registry.status(model: name) else { throw RegistryError.unknownModel(name) }
        return Self.json(JSONWriter.encode(statusJSON(status, detailed: true)))
    }

    func version(_ request: HTTPRequest) throws -> HTTPResponse {
        let name = request.pathParameters["name"] ?? ""
        guard let status = registry.status(model: name) else { throw RegistryError.unknownModel(name) }
        guard case .version(let number) = try Self.selector(request),
              let version = status.versions.first(where: { $0.version == number })
        else {
            throw RegistryError.unknownVersion(model: name, version: Int(request.pathParameters["version"] ?? "") ?? 0)
        }
        var object = versionJSON(version, serving: status.servingVersion)
        object.append("model_version_status", .array([Self.tensorFlowVersionStatus(version)]))
        // Nested: the manifest's `version` and `labels` (class names) are not the status's.
        if let loaded = registry.snapshot(model: name)?.versions[number] {
            object.append("manifest", .object(loaded.servable.manifestSummary))
        }
        return Self.json(JSONWriter.encode(.object(object)))
    }

    private func statusJSON(_ status: ModelStatus, detailed: Bool) -> JSONValue {
        var object: JSONObject = [
            "name": .string(status.model),
            "serving_version": status.servingVersion.map { .number(Double($0)) } ?? .null,
            "pinned": .bool(status.pinned),
            "storage_pin": status.storagePin.map { .number(Double($0)) } ?? .null,
            "storage_pin_issue": status.storagePinIssue.map { .string($0) } ?? .null,
            "previous_version": status.previousVersion.map { .number(Double($0)) } ?? .null,
            "required": .bool(status.required),
            "labels": Self.versionMap(status.labels),
            "pending_labels": Self.versionMap(status.pendingLabels),
            "labels_file_error": status.labelsFileError.map { .string($0) } ?? .null,
            "storage_error": status.storageError.map { .string($0) } ?? .null,
            "versions": .array(status.versions.map { .object(versionJSON($0, serving: status.servingVersion)) }),
        ]
        object.append("ready", .bool(status.servingVersion != nil))
        object.append("model_version_status", .array(status.versions.map(Self.tensorFlowVersionStatus)))
        let report = scoring.monitor?.report(model: status.model)
        object.append("rollout", Self.rolloutJSON(status.rollout, report: report))
        if detailed { object.append("input_skew", Self.inputSkewJSON(report, window: scoring.monitor?.configuration.skewWindow ?? 0)) }
        if detailed, let serving = status.servingVersion,
           let loaded = registry.snapshot(model: status.model)?.versions[serving]
        {
            object.append("serving", .object(loaded.servable.manifestSummary))
        }
        return .object(object)
    }

    /// The rollout in force with its live comparisons (`rollout` in the model status); null without one.
    static func rolloutJSON(_ rollout: RolloutStatus?, report: MonitorReport?) -> JSONValue {
        guard let rollout else { return .null }
        func number(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        func comparison(_ figures: ScoreComparison, version: Int?) -> JSONValue {
            guard let version, let serving = report?.servingVersion else { return .null }
            return [
                "serving_version": .number(Double(serving)), "version": .number(Double(version)),
                "listings": .number(Double(figures.count)), "agreement": .number(figures.agreement),
                "mean_abs_delta": .number(figures.meanAbsDelta), "p99_abs_delta": .number(figures.p99AbsDelta),
                "psi": .number(figures.psi),
            ]
        }
        let spec = rollout.spec
        let guards = spec?.guards
        return [
            "source": rollout.source.map { .string($0.rawValue) } ?? .null,
            "shadow": spec?.shadow.map { ["version": .number(Double($0))] } ?? .null,
            "canary": spec?.canary.map { ["version": .number(Double($0.version)), "weight": .number($0.weight)] } ?? .null,
            "guards": guards.map { guards in [
                "min_samples": .number(Double(guards.minSamples)), "max_disagreement": number(guards.maxDisagreement),
                "max_psi": number(guards.maxPSI), "max_mean_delta": number(guards.maxMeanDelta),
            ] } ?? .null,
            "aborted": rollout.abort.map { abort in [
                "reason": .string(abort.reason), "automatic": .bool(abort.automatic), "at": timestamp(abort.at),
                "earlier": .bool(abort.earlier), "record_error": abort.recordError.map { .string($0) } ?? .null,
            ] } ?? .null,
            "file_error": rollout.fileError.map { .string($0) } ?? .null,
            "issues": .array(rollout.issues.map { .string($0) }),
            "shadow_comparison": report.map { comparison($0.shadow, version: $0.routing?.shadow) } ?? .null,
            "canary_comparison": report.map { comparison($0.canary, version: $0.routing?.canary?.version) } ?? .null,
            "skipped_listings": .number(Double(report?.skipped ?? 0)),
            "automatic_aborts": .number(Double(report?.aborts ?? 0)),
            "abort_record_failures": .number(Double(report?.abortRecordFailures ?? 0)),
        ]
    }

    /// Live inputs against the serving version's training profile (`input_skew`); null while
    /// nothing was compared (no profile, skew off, or no traffic yet).
    static func inputSkewJSON(_ report: MonitorReport?, window: Int) -> JSONValue {
        guard let report, let version = report.skewVersion else { return .null }
        func number(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        let fields: [JSONValue] = report.skew.map { field in [
            "name": .string(field.name), "kind": .string(field.kind.rawValue),
            "observed": .number(Double(field.counts.observed)), "missing": .number(Double(field.counts.missing)),
            "missing_rate": .number(field.missingRate), "training_missing_rate": .number(field.trainingMissingRate),
            "unseen_categories": .number(Double(field.counts.unseen)), "outside_range": .number(Double(field.counts.outsideRange)),
            "terms": .number(Double(field.counts.terms)), "out_of_vocabulary": .number(Double(field.counts.outOfVocabulary)),
            "out_of_vocabulary_share": number(field.outOfVocabularyShare),
            "training_vocabulary_share": number(field.trainingVocabularyShare),
            "window_values": .number(Double(field.windowValues)), "psi": number(field.psi),
        ] }
        return [
            "version": .number(Double(version)), "listings": .number(Double(report.skewListings)),
            "window": .number(Double(window)), "fields": .array(fields),
        ]
    }

    /// TF Serving's `ModelVersionStatus`: its state names, and a failed load as `END` with
    /// the reason (TF Serving's own clients poll for `AVAILABLE`).
    static func tensorFlowVersionStatus(_ version: VersionStatus) -> JSONValue {
        let state: String
        var error: String?
        switch version.state {
        case .notLoaded: state = "START"
        case .loading: state = "LOADING"
        case .available: state = "AVAILABLE"
        case .unloading: state = "UNLOADING"
        case .failed(let reason): state = "END"; error = reason
        }
        return [
            "version": .string(String(version.version)),
            "state": .string(state),
            "status": ["error_code": .string(error == nil ? "OK" : "UNKNOWN"), "error_message": .string(error ?? "")],
        ]
    }

    /// TF Serving's `GET …/metadata`: the version's signature as `serving_default`.
    func metadata(_ request: HTTPRequest) throws -> HTTPResponse {
        let handle = try registry.handle(model: request.pathParameters["name"] ?? "", selector: Self.selector(request))
        let tensors = handle.servable.tensors
        func described(_ list: [SignatureTensors.Tensor]) -> JSONValue {
            .object(JSONObject(list.map { tensor in
                (key: tensor.name, value: [
                    "dtype": .string(tensor.element.tensorFlowDtype),
                    "tensor_shape": ["dim": .array(tensors.shape(of: tensor).map { ["size": .string(String($0)), "name": ""] }),
                                     "unknown_rank": false],
                    "name": .string(tensor.name),
                ])
            }))
        }
        let body: JSONValue = [
            "model_spec": ["name": .string(handle.model), "signature_name": "", "version": .string(String(handle.version))],
            "metadata": ["signature_def": ["signature_def": ["serving_default": [
                "inputs": described(tensors.inputs), "outputs": described(tensors.outputs),
                "method_name": "tensorflow/serving/predict",
            ]]]],
        ]
        return Self.json(JSONWriter.encode(body))
    }

    /// `{"label": version, …}`, sorted by label.
    static func versionMap(_ map: [String: Int]) -> JSONValue {
        .object(JSONObject(map.keys.sorted().map { (key: $0, value: .number(Double(map[$0]!))) }))
    }

    private func versionJSON(_ version: VersionStatus, serving: Int?) -> JSONObject {
        var object: JSONObject = [
            "version": .number(Double(version.version)),
            "state": .string(version.state.name),
            "serving": .bool(version.version == serving),
            "labels": .array(version.labels.map { .string($0) }),
            "in_storage": .bool(version.inStorage),
            "published_at": Self.timestamp(version.publishedAt),
            "loaded_at": Self.timestamp(version.loadedAt),
            "attempts": .number(Double(version.attempts)),
        ]
        if case .failed(let reason) = version.state { object.append("error", .string(reason)) }
        else if let error = version.error { object.append("error", .string(error)) }
        if let retry = version.nextRetryAt { object.append("next_retry_at", Self.timestamp(retry)) }
        return object
    }

    /// Signature, metrics, threshold, labels, example and dataset of a loaded version; built
    /// once at load (`ServingModel.manifestSummary`), `listing` being its listing schema.
    static func metadata(_ model: LoadedModel, listing: Schema) -> JSONObject {
        let manifest = model.manifest
        var object: JSONObject = [
            "version": .number(Double(manifest.version)),
            "algorithm": .string(manifest.algorithm.rawValue),
            "created": .string(manifest.created),
            "threshold": .number(manifest.threshold),
            "labels": .array(manifest.labels.map { .string($0) }),
            "signature": listing.jsonSchema(useReferences: false),
        ]
        if let positive = manifest.positiveClasses {
            object.append("positive_classes", .array(positive.map { .string($0) }))
            let thresholds = manifest.classThresholds ?? [:]
            object.append("class_thresholds", .object(JSONObject(thresholds.keys.sorted().map { (key: $0, value: .number(thresholds[$0]!)) })))
        }
        for (key, value) in [("metrics", encodeCodable(manifest.metrics)), ("example", encodeCodable(manifest.example)),
                             ("dataset", encodeCodable(manifest.dataset))] {
            object.append(key, value)
        }
        return object
    }

    private static func encodeCodable(_ value: some Encodable) -> JSONValue {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .useDefaultKeys
        guard let data = try? encoder.encode(value), let parsed = try? JSONParser.parse(Array(data)) else { return .null }
        return parsed
    }

    static func timestamp(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(date.formatted(.iso8601))
    }

    // MARK: Helpers

    /// 415 unless the body is declared `application/json` (parameters such as charset allowed).
    /// Checked where the value arrived: no string is made unless it is refused.
    static func requireJSON(_ request: HTTPRequest) throws {
        guard let isJSON = request.headers.firstValue("Content-Type", satisfies: isJSONMediaType(bytes:)) else {
            throw ContractError.unsupportedMediaType(nil)
        }
        guard isJSON else { throw ContractError.unsupportedMediaType(request.headers["Content-Type"]) }
    }

    /// `application/json`, any case, optionally followed by parameters (`; charset=utf-8`).
    static func isJSONMediaType(_ value: String) -> Bool {
        var value = value
        return value.withUTF8(isJSONMediaType(bytes:))
    }

    /// `isJSONMediaType` on a value's UTF-8, compared without allocating: this runs on every
    /// predict request.
    static func isJSONMediaType(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var at = 0
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x09 { at += 1 }
        let expected: StaticString = "application/json"
        let count = expected.utf8CodeUnitCount
        guard bytes.count - at >= count, UnsafeRawBufferPointer(bytes).equalsIgnoringCase(at..<(at + count), expected)
        else { return false }
        at += count
        guard at < bytes.count else { return true }
        return bytes[at] == UInt8(ascii: ";") || bytes[at] == 0x20 || bytes[at] == 0x09
    }

    static func json(_ body: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    /// `json` for a body from `ResponseBodies.take(capacity:)` (`beginBody`), which goes back
    /// there once written.
    static func reusedJSON(_ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: jsonHeaders, body: body, recyclesBody: true)
    }

    /// Shared by every JSON answer (the request id travels beside the headers, so none is
    /// copied to add it).
    static let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json"]
}

extension ModelRoutes {
    /// Registers `models`' routes: the V1 and TF Serving paths, each by version and by label.
    static func register(_ models: ModelRoutes, into routes: inout RouteTable, settings: ServiceSettings) {
        let errors: [(status: Int, description: String, schema: Schema?, mediaType: String)] = [
            (400, "Malformed JSON", Schemas.problem, ProblemDetails.contentType),
            (404, "Unknown model, version or label", Schemas.problem, ProblemDetails.contentType),
            (413, "Body over limits.max_body_bytes", Schemas.problem, ProblemDetails.contentType),
            (415, "Not application/json", Schemas.problem, ProblemDetails.contentType),
            (422, "Body breaks the schema; every problem listed with its JSON Pointer", Schemas.problem, ProblemDetails.contentType),
            (503, "The model has no serving version yet", Schemas.problem, ProblemDetails.contentType),
        ]
        let request = Schemas.predictRequest(listing: Schema.object(properties: [], componentName: "Listing"),
                                             maxBatchSize: settings.maxBatchSize)
        let explainRequest = Schemas.explainRequest(listing: Schema.object(properties: [], componentName: "Listing"),
                                                    maxBatchSize: settings.maxBatchSize)
        for (suffix, what) in [("", "the serving version"), ("/versions/{version}", "one version"), ("/labels/{label}", "the version a label points at")] {
            let idSuffix = suffix.isEmpty ? "" : suffix.hasPrefix("/versions") ? "Version" : "Label"
            routes.add(
                Operation(method: "POST", path: "/v1/models/{name}\(suffix):predict", operationId: "predict\(idSuffix)",
                          summary: "Score listings with \(what).", tags: ["predict"], requestBody: request,
                          responses: [(200, "Scores", Schemas.predictResponse, "application/json")] + errors,
                          requiresAuth: settings.auth.enabled, requiredRole: .predict),
                models.predict)
            routes.add(
                Operation(method: "POST", path: "/v1/models/{name}\(suffix):explain", operationId: "explain\(idSuffix)",
                          summary: "Score listings with \(what) and list the features that raised and lowered each score.",
                          tags: ["predict"], requestBody: explainRequest,
                          responses: [(200, "Explanations", Schemas.explainResponse, "application/json")] + errors,
                          requiresAuth: settings.auth.enabled, requiredRole: .predict),
                models.explain)
        }
        let notFound: [(status: Int, description: String, schema: Schema?, mediaType: String)] =
            [(400, "A path parameter that is not a valid name", Schemas.problem, ProblemDetails.contentType),
             (404, "Unknown model or version", Schemas.problem, ProblemDetails.contentType)]
        for (suffix, what) in [("", "the serving version"), ("/versions/{version}", "one version"), ("/labels/{label}", "the version a label points at")] {
            let idSuffix = suffix.isEmpty ? "" : suffix.hasPrefix("/versions") ? "Version" : "Label"
            routes.add(
                Operation(method: "GET", path: "/v1/models/{name}\(suffix)/metadata", operationId: "metadata\(idSuffix)",
                          summary: "The signature of \(what), as TF Serving's metadata.", tags: ["models"],
                          responses: [(200, "Signature", Schemas.tensorFlowMetadata, "application/json")] + notFound
                            + [(503, "The model has no serving version yet", Schemas.problem, ProblemDetails.contentType)]),
                models.metadata)
        }
        routes.add(
            Operation(method: "GET", path: "/v1/models", operationId: "listModels", summary: "Models, their versions, states and labels.",
                      tags: ["models"], responses: [(200, "Models", Schemas.modelList, "application/json")]),
            models.listModels)
        routes.add(
            Operation(method: "GET", path: "/v1/models/{name}", operationId: "getModel",
                      summary: "One model: versions with state (loading, available, failed + reason), labels, serving version, its signature, metrics and example.",
                      tags: ["models"], responses: [(200, "Model status", Schemas.modelStatus, "application/json")] + notFound),
            models.model)
        routes.add(
            Operation(method: "GET", path: "/v1/models/{name}/versions/{version}", operationId: "getModelVersion",
                      summary: "One version: state, and when loaded its signature, metrics and example.",
                      tags: ["models"], responses: [(200, "Version status", Schemas.versionStatus, "application/json")] + notFound),
            models.version)
    }
}
