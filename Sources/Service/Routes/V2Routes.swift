import HTTPServer
import Inference
import JSON
import Registry

/// The Open Inference Protocol (V2) REST routes: health, server and model metadata, model
/// readiness and infer. Infer decodes with `V2RequestDecoder`, scores through `Scoring`
/// like every other protocol, and encodes with `V2Codec`.
struct V2Routes {
    let scoring: Scoring
    /// `predict.max_batch_size`: the most elements an input may have.
    let maxBatchSize: Int
    /// Why the service is not ready (empty: ready), shared with `/health/ready`.
    let readinessProblems: @Sendable () -> [String]

    /// The header that says how long the JSON part of a body with binary tensor data is.
    static let headerLengthField = "Inference-Header-Content-Length"

    func serverMetadata(_ request: HTTPRequest) throws -> HTTPResponse {
        ModelRoutes.json(JSONWriter.encode([
            "name": "vigia", "version": .string(VigiaVersion.current), "extensions": ["binary_tensor_data"],
        ]))
    }

    func live(_ request: HTTPRequest) throws -> HTTPResponse {
        ModelRoutes.json(Array(#"{"live":true}"#.utf8))
    }

    /// 200 `{"ready":true}`, or 503 `{"ready":false}` (clients read the status).
    func ready(_ request: HTTPRequest) throws -> HTTPResponse {
        let ready = readinessProblems().isEmpty
        return ModelRoutes.json(JSONWriter.encode(["ready": .bool(ready)]), status: ready ? .ok : .serviceUnavailable)
    }

    /// 200 `{"name","ready":true}` when the version serves; 503 with `ready: false` while it
    /// loads; 404 for an unknown model or version.
    func modelReady(_ request: HTTPRequest) throws -> HTTPResponse {
        let name = request.pathParameters["name"] ?? ""
        do {
            _ = try scoring.registry.handle(model: name, selector: ModelRoutes.selector(request))
        } catch RegistryError.notReady {
            return ModelRoutes.json(JSONWriter.encode(["name": .string(name), "ready": false]), status: .serviceUnavailable)
        }
        return ModelRoutes.json(JSONWriter.encode(["name": .string(name), "ready": true]))
    }

    /// The version's inputs (one per signature field, batch dimension -1) and outputs.
    func modelMetadata(_ request: HTTPRequest) throws -> HTTPResponse {
        let name = request.pathParameters["name"] ?? ""
        let handle = try scoring.registry.handle(model: name, selector: ModelRoutes.selector(request))
        let available = scoring.registry.status(model: name)?.versions.filter { $0.state == .available }.map { String($0.version) } ?? []
        let tensors = handle.servable.tensors
        func described(_ list: [SignatureTensors.Tensor]) -> JSONValue {
            .array(list.map { tensor in
                var object: JSONObject = [
                    "name": .string(tensor.name), "datatype": .string(tensor.element.v2Datatype),
                    "shape": .array(tensors.shape(of: tensor).map { .number(Double($0)) }),
                ]
                if tensors.shape(of: tensor).count == 2, let classes = tensors.classes {
                    object.append("parameters", ["classes": .array(classes.map { .string($0) })])
                }
                return .object(object)
            })
        }
        return ModelRoutes.json(JSONWriter.encode([
            "name": .string(handle.model),
            "versions": .array(available.map { .string($0) }),
            "platform": .string("vigia_\(handle.servable.model.manifest.algorithm.rawValue)"),
            "inputs": described(tensors.inputs),
            "outputs": described(tensors.outputs),
        ]))
    }

    /// An all-JSON body that fits the pinned version's signature is decoded straight into its
    /// listings (`V2ListingDecoder`); any other body by the general decoder, which gives the
    /// exact 400. A malformed body is answered 400 before an unknown model's 404.
    func infer(_ request: HTTPRequest) throws -> HTTPResponse {
        try Self.requireBodyType(request)
        var headerLength: Int?
        if let field = request.headers[Self.headerLengthField] {
            guard let length = Int(field), length >= 0 else {
                throw V2RequestError("\(Self.headerLengthField) must be a non-negative integer, got '\(field)'.")
            }
            headerLength = length
        }
        let (batch, decoded) = try score(request, headerLength: headerLength)
        var (header, binary) = V2Codec.response(batch, request: decoded)
        scoring.recycle(consume batch)
        if binary.isEmpty { return ModelRoutes.reusedJSON(header) }
        // Header and binary data in one reused body (`header + binary` copied the header into
        // a new array sized after the reused one's capacity).
        var body = ResponseBodies.take(capacity: header.count + binary.count)
        body.append(contentsOf: header)
        body.append(contentsOf: binary)
        let headerCount = header.count
        ResponseBodies.giveBack(&header)
        ResponseBodies.giveBack(&binary)
        return HTTPResponse(
            headers: ["Content-Type": "application/octet-stream", Self.headerLengthField: String(headerCount)],
            body: body, recyclesBody: true)
    }

    /// The scored batch and the request's own members. Returned rather than assigned inside
    /// the `do`, so that the batch is handed on, not copied member by member.
    private func score(_ request: HTTPRequest, headerLength: Int?) throws -> (Scoring.Batch<Prediction>, V2InferRequest) {
        var decoded: V2InferRequest?
        do {
            let batch = try scoring.predict(
                model: request.pathParameters["name"] ?? "", selector: ModelRoutes.selector(request),
                requestID: request.id ?? request.headers[RequestID.headerName]
            ) { serving in
                if let fast = serving.v2Decoder?.decode(request.body, headerLength: headerLength) {
                    decoded = fast.request
                    return fast.listings
                }
                let general = try V2RequestDecoder.decode(request.body, headerLength: headerLength, maxBatchSize: maxBatchSize)
                decoded = general
                return try serving.v2Signature.listings(general)
            }
            return (batch, decoded!)
        } catch where decoded == nil {
            // No version was pinned, or the body was refused: a malformed body's 400 comes first.
            _ = try V2RequestDecoder.decode(request.body, headerLength: headerLength, maxBatchSize: maxBatchSize)
            throw error
        }
    }

    /// JSON, JSON followed by binary tensor data (`application/octet-stream`), or no type at
    /// all (tritonclient sends none); anything else is 415.
    static func requireBodyType(_ request: HTTPRequest) throws {
        // Checked where the value arrived: no string is made unless it is refused.
        let accepted = request.headers.firstValue("Content-Type") { ModelRoutes.isJSONMediaType(bytes: $0) || isOctetStream($0) }
        guard accepted != false else { throw ContractError.unsupportedMediaType(request.headers["Content-Type"]) }
    }

    /// `application/octet-stream` in any case, spaces and tabs anywhere ignored, optionally
    /// followed by parameters. Compared on bytes without allocating (every infer request).
    static func isOctetStream(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        let expected: StaticString = "application/octet-stream"
        var bytes = value.lazy.filter { $0 != 0x20 && $0 != 0x09 }.makeIterator()
        let matched = expected.withUTF8Buffer { wanted in
            wanted.allSatisfy { byte in
                guard let next = bytes.next() else { return false }
                return (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(next) ? next | 0x20 == byte : next == byte
            }
        }
        guard matched else { return false }
        let after = bytes.next()
        return after == nil || after == UInt8(ascii: ";")
    }
}

extension V2Routes {
    /// Registers `v2`'s routes, each with its OpenAPI operation.
    static func register(_ v2: V2Routes, into routes: inout RouteTable, settings: ServiceSettings) {
        let media = "application/json"
        let problem = ProblemDetails.contentType
        let modelErrors: [(status: Int, description: String, schema: Schema?, mediaType: String)] = [
            (400, "A path parameter that is not a valid name", Schemas.problem, problem),
            (404, "Unknown model or version", Schemas.problem, problem),
        ]
        routes.add(
            Operation(method: "GET", path: "/v2", operationId: "v2ServerMetadata", summary: "Open Inference Protocol: server metadata.",
                      tags: ["v2"], responses: [(200, "Server metadata", Schemas.v2ServerMetadata, media)], errorMember: true),
            v2.serverMetadata)
        routes.add(
            Operation(method: "GET", path: "/v2/health/live", operationId: "v2Live", summary: "Open Inference Protocol: server liveness.",
                      tags: ["health"], responses: [(200, "Live", Schemas.v2Live, media)], errorMember: true),
            v2.live)
        routes.add(
            Operation(method: "GET", path: "/v2/health/ready", operationId: "v2Ready",
                      summary: "Open Inference Protocol: server readiness (as /health/ready).", tags: ["health"],
                      responses: [(200, "Ready", Schemas.v2Ready, media), (503, "Not ready", Schemas.v2Ready, media)], errorMember: true),
            v2.ready)
        for (suffix, what) in [("", "the serving version"), ("/versions/{version}", "one version")] {
            let idSuffix = suffix.isEmpty ? "" : "Version"
            routes.add(
                Operation(method: "GET", path: "/v2/models/{name}\(suffix)", operationId: "v2ModelMetadata\(idSuffix)",
                          summary: "Open Inference Protocol: inputs and outputs of \(what).", tags: ["v2"],
                          responses: [(200, "Model metadata", Schemas.v2ModelMetadata, media)] + modelErrors
                            + [(503, "The model has no serving version yet", Schemas.problem, problem)], errorMember: true),
                v2.modelMetadata)
            routes.add(
                Operation(method: "GET", path: "/v2/models/{name}\(suffix)/ready", operationId: "v2ModelReady\(idSuffix)",
                          summary: "Open Inference Protocol: whether \(what) serves.", tags: ["v2"],
                          responses: [(200, "Ready", Schemas.v2ModelReady, media), (503, "Not loaded yet", Schemas.v2ModelReady, media)]
                            + modelErrors, errorMember: true),
                v2.modelReady)
            routes.add(
                Operation(method: "POST", path: "/v2/models/{name}\(suffix)/infer", operationId: "v2Infer\(idSuffix)",
                          summary: "Open Inference Protocol: score listings given as one input tensor per signature field with \(what).",
                          tags: ["v2"], requestBody: Schemas.v2InferRequest,
                          responses: [(200, "Outputs score, label and id (JSON; binary tensor data when asked)", Schemas.v2InferResponse, media),
                                      (400, "Malformed request; the error names the input", Schemas.problem, problem),
                                      (404, "Unknown model or version", Schemas.problem, problem),
                                      (413, "Body over limits.max_body_bytes", Schemas.problem, problem),
                                      (415, "Neither JSON nor binary tensor data", Schemas.problem, problem),
                                      (503, "The model has no serving version yet", Schemas.problem, problem)],
                          requiresAuth: settings.auth.enabled, requiredRole: .predict, errorMember: true),
                v2.infer)
        }
    }
}
