import FoundationEssentials
import HTTPServer
import Logging
import CoreMetrics
import Posix
import Prometheus
import Registry
import Synchronization

/// The assembled service: registry + routes + HTTP server, from a resolved configuration.
///
/// Threads: the HTTP event loops run handlers; the registry's watcher thread loads models.
/// Shared state is the registry (its own locks), `draining` (atomic), the metrics (their
/// own locks) and the authenticator's token set (its own lock).
public final class VigiaService: Sendable {
    /// The resolved configuration without its secrets (what `config check` shows).
    public let configuration: ServiceConfiguration
    /// What the service runs with, decoded once from `configuration`.
    public let settings: ServiceSettings
    public let registry: ModelRegistry<ServingModelLoader>
    public let server: HTTPServer
    public let operations: [Operation]
    /// Every route, as the server dispatches them.
    public let router: Router
    /// Bearer tokens and roles; loaded in `start`.
    public let authenticator: Authenticator
    /// Prometheus metrics behind `GET /metrics`; nil when `metrics.enabled` is false.
    public let metrics: ServiceMetrics?
    /// Shadow scoring, comparisons, guards, input skew and payload sampling (its own thread).
    let monitor: LiveMonitor
    private let logger: Logger
    /// Set when SIGTERM arrives: readiness answers 503 from then on.
    private let draining = Flag()
    /// Re-reads the tokens file off the request path; set by `start` when there is one.
    private let tokensWatcher = Mutex<FileWatcher?>(nil)

    /// - Parameter logSink: where the access log writes (the same sink as the logger's).
    public convenience init(configuration: ServiceConfiguration, logger: Logger, logSink: LogSink = .standardError) {
        self.init(configuration: configuration, logger: logger, logSink: logSink, testsOnly: TestHooks())
    }

    /// Places where tests hold background threads to prove that nothing waits for them.
    struct TestHooks: Sendable {
        /// Runs on the monitor's worker before each request it takes.
        var monitorBeforeJob: (@Sendable () -> Void)? = nil
        /// Runs on the payload writer before each line it writes (a slow disk).
        var payloadBeforeWrite: (@Sendable () -> Void)? = nil
    }

    init(configuration: ServiceConfiguration, logger: Logger, logSink: LogSink, testsOnly hooks: TestHooks) {
        // Tokens live hashed in `authenticator`; nothing else keeps the plaintext.
        let redacted = configuration.redactingSecrets()
        self.configuration = redacted
        let settings = ServiceSettings(configuration)
        self.settings = settings
        self.logger = logger
        let eventLogger = logger
        let metrics = settings.metricsEnabled ? ServiceMetrics() : nil
        self.metrics = metrics
        let skipCounters = MonitorSkipCounters()
        registry = ModelRegistry(
            configuration: settings.registry,
            loader: ServingModelLoader(maxBatchSize: settings.maxBatchSize, metrics: metrics,
                                       skipCounters: skipCounters),
            onEvent: { event in
                VigiaService.log(event, to: eventLogger)
                if case .unloaded(let model, let version) = event { metrics?.versionUnloaded(model: model, version: version) }
            })

        let accessLog = AccessLog(
            enabled: settings.accessLog, level: settings.logLevel, label: logger.label, sink: logSink)
        var routes = RouteTable(logger: logger, accessLog: accessLog)
        authenticator = Authenticator(settings: settings.auth, configuration: configuration, logger: logger)
        routes.authenticator = authenticator
        routes.plainHTTPOnlyForHealthAndMetrics = settings.plainHTTPOnlyForHealthAndMetrics
        routes.accessLogSampleRate = settings.accessLogSampleRate
        routes.metrics = metrics
        let counters = ServerCounters()
        let payload = settings.payloadLog.map { payloadLog in PayloadLog(
            configuration: payloadLog,
            onProblem: { problem in eventLogger.error("payload log", metadata: ["error": .string(problem)]) },
            testsOnly_beforeWrite: hooks.payloadBeforeWrite) }
        let monitor = LiveMonitor(
            configuration: settings.monitor,
            registry: registry, payload: payload, skipCounters: skipCounters, logger: logger,
            testsOnly_beforeJob: hooks.monitorBeforeJob)
        self.monitor = monitor
        var scoring = Scoring(registry: registry, explainTopFeatures: settings.explainTopFeatures)
        scoring.monitor = monitor
        let models = ModelRoutes(scoring: scoring)
        let registryRef = registry
        let drainingFlag = draining
        Self.addHealthRoutes(&routes, registry: registryRef, isDraining: { drainingFlag.isSet })
        Self.addModelRoutes(&routes, models: models, settings: settings)
        Self.addAdminRoutes(&routes, registry: registryRef)
        Self.addRolloutRoutes(&routes, registry: registryRef)
        Self.addV2Routes(&routes, v2: V2Routes(
            scoring: scoring, maxBatchSize: settings.maxBatchSize,
            readinessProblems: { VigiaService.readinessProblems(registry: registryRef, isDraining: { drainingFlag.isSet }) }),
            settings: settings)
        if let metrics { Self.addMetricsRoute(&routes, metrics: metrics, counters: counters, registry: registryRef, monitor: monitor) }
        Self.addConsoleRoute(&routes, metrics: metrics, counters: counters, registry: registryRef, monitor: monitor,
                             requiresAuth: settings.auth.enabled)
        let openAPIOperation = Operation(
            method: "GET", path: "/openapi.json", operationId: "openapi", summary: "This document.", tags: ["meta"],
            responses: [(200, "OpenAPI 3.1", nil, "application/json")])
        let documented = routes.operations + [openAPIOperation]
        routes.add(openAPIOperation) { _ in
            ModelRoutes.json(JSONWriter.encode(Self.openAPI(operations: documented, registry: registryRef, settings: settings)))
        }
        operations = routes.operations
        router = routes.router

        let serverLogger = logger
        self.server = HTTPServer(configuration: settings.server, router: routes.router, counters: counters) { message in
            serverLogger.notice("http server", metadata: ["detail": .string(message)])
        }
    }

    /// Starts model discovery, then the listeners. Returns the bound port.
    public func start() throws -> Int {
        try authenticator.load()
        if authenticator.tokensFile != nil {
            let eventLogger = logger
            let watcher = try FileWatcher { problem in
                eventLogger.warning("tokens file watcher", metadata: ["error": .string(problem)])
            }
            authenticator.watch(with: watcher)
            try watcher.start()
            tokensWatcher.withLock { $0 = watcher }
        }
        let port: Int
        do {
            try monitor.start()
            try registry.start()
            port = try server.start()
        } catch {
            stopBackgroundWork()
            throw error
        }
        logger.info("listening", metadata: [
            "http.host": .string(settings.server.host), "http.port": .stringConvertible(port),
            "storage.path": .string(settings.registry.storagePath),
            "https.port": .string(server.tlsPort.map(String.init) ?? "off"),
        ])
        return port
    }

    /// Stops at once, without a grace (tests, and start-up failures after the listeners
    /// opened): readiness turns 503, the server stops accepting, requests in progress finish,
    /// the registry stops.
    public func shutdown() {
        draining.set()
        logger.info("draining")
        server.stop()
        server.waitUntilStopped()
        stopBackgroundWork()
        logger.info("stopped")
    }

    /// The registry's watcher and the tokens file watcher, after the server has stopped.
    private func stopBackgroundWork() {
        monitor.stop()
        registry.shutdown()
        tokensWatcher.withLock { watcher in
            watcher?.stop()
            watcher = nil
        }
    }

    /// Drain, step one: every response from now on closes its connection (before readiness
    /// turns 503, so a client that has seen the 503 gets `Connection: close` on every response).
    public func beginDrain() {
        server.beginDrain()
        draining.set()
    }

    /// Serves until SIGTERM or SIGINT, then drains the Kubernetes way and returns (the caller
    /// exits 0).
    public func runUntilSignalled() {
        run(until: ProcessSignals())
    }

    /// The drain sequence, on the first request from `termination`:
    /// 1. readiness turns 503 and every response closes its connection, so pooled clients
    ///    reconnect (to other replicas once the endpoints update); new connections are still
    ///    accepted for `server.drain_grace_seconds`. A second request cuts the grace short.
    /// 2. The server stops accepting without resetting a connection already made, answers
    ///    every request a client has begun, closes connections idle for the whole grace, and
    ///    returns within `server.drain_timeout_seconds` more; then the registry stops.
    public func run(until termination: some TerminationSource) {
        let reason = termination.next(timeout: nil) ?? "termination requested"
        let grace = settings.drainGrace
        beginDrain()
        logger.notice("draining", metadata: [
            "drain.reason": .string(reason),
            "drain.grace_seconds": .stringConvertible(grace),
            "drain.timeout_seconds": .stringConvertible(settings.server.drainTimeout),
        ])
        if grace > 0, let second = termination.next(timeout: .milliseconds(Int(grace * 1000))) {
            logger.notice("grace cut short", metadata: ["drain.reason": .string(second)])
        }
        server.stop()
        server.waitUntilStopped()
        logger.info("stopped accepting; requests in progress finished")
        stopBackgroundWork()
        logger.info("stopped")
    }

    /// Routes swift-metrics users (libraries) to this service's Prometheus registry, so their
    /// metrics appear on `/metrics` too. Once per process (`vigia serve` calls it).
    public func bootstrapMetricsSystem() {
        guard let metrics else { return }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
    }

    /// Whether readiness answers 503 because a drain began.
    public var isDraining: Bool { draining.isSet }

    // MARK: Routes

    private static func addHealthRoutes(_ routes: inout RouteTable, registry: ModelRegistry<ServingModelLoader>, isDraining: @escaping @Sendable () -> Bool) {
        routes.add(
            Operation(method: "GET", path: "/health/live", operationId: "live", summary: "Liveness: 200 while the event loops answer.",
                      tags: ["health"], responses: [(200, "Alive", Schemas.health, "application/json")])
        ) { _ in
            ModelRoutes.json(Array(#"{"status":"alive"}"#.utf8))
        }
        routes.add(
            Operation(method: "GET", path: "/", operationId: "root", summary: "Liveness where KServe's V1 clients look for it (is_server_live).",
                      tags: ["health"], responses: [(200, "Alive", Schemas.health, "application/json")])
        ) { _ in
            ModelRoutes.json(Array(#"{"status":"alive"}"#.utf8))
        }
        routes.add(
            Operation(method: "GET", path: "/health/ready", operationId: "ready",
                      summary: "Readiness: 200 when every required model serves; 503 while starting or draining.",
                      tags: ["health"],
                      responses: [(200, "Ready", Schemas.health, "application/json"), (503, "Not ready", Schemas.health, "application/json")])
        ) { _ in
            let reasons = readinessProblems(registry: registry, isDraining: isDraining)
            let ready = reasons.isEmpty
            let body: JSONValue =
                ready ? ["status": "ready"]
                : ["status": isDraining() ? "draining" : "not_ready", "reasons": .array(reasons.map { .string($0) })]
            return ModelRoutes.json(JSONWriter.encode(body), status: ready ? .ok : .serviceUnavailable)
        }
    }

    /// Why the service is not ready; empty when every required model serves and no drain began.
    static func readinessProblems(registry: ModelRegistry<ServingModelLoader>, isDraining: () -> Bool) -> [String] {
        var reasons: [String] = []
        if isDraining() { reasons.append("the server is draining") }
        let statuses = registry.status()
        for status in statuses where status.required && status.servingVersion == nil {
            let failures = status.versions.compactMap { v -> String? in
                if case .failed(let reason) = v.state { return "version \(v.version): \(reason)" }
                return nil
            }
            let why = status.storageError ?? (failures.isEmpty ? "no version loaded yet" : failures.joined(separator: "; "))
            reasons.append("model '\(status.model)' has no serving version (\(why))")
        }
        for required in registry.configuration.requiredModels where !statuses.contains(where: { $0.model == required }) {
            reasons.append("model '\(required)' is not in storage")
        }
        if reasons.isEmpty, !registry.isReady { reasons.append("no model serves") }
        return reasons
    }

    private static func addMetricsRoute(
        _ routes: inout RouteTable, metrics: ServiceMetrics, counters: ServerCounters, registry: ModelRegistry<ServingModelLoader>,
        monitor: LiveMonitor
    ) {
        routes.add(
            Operation(method: "GET", path: "/metrics", operationId: "metrics",
                      summary: "Prometheus text exposition: HTTP, model and process metrics.", tags: ["meta"],
                      responses: [(200, "Metrics", nil, ServiceMetrics.contentType)])
        ) { _ in
            HTTPResponse(headers: ["Content-Type": ServiceMetrics.contentType],
                         body: metrics.exposition(server: counters, models: registry.status(), monitor: monitor))
        }
    }

    /// GET /console: the operator's page, from the registry's status and this process's own
    /// metrics (without `metrics.enabled`, only models and versions). Needs a metrics (or
    /// admin) token when `auth.enabled`.
    private static func addConsoleRoute(
        _ routes: inout RouteTable, metrics: ServiceMetrics?, counters: ServerCounters, registry: ModelRegistry<ServingModelLoader>,
        monitor: LiveMonitor, requiresAuth: Bool
    ) {
        let history = ConsoleHistory()
        let clock = ContinuousClock()
        let origin = clock.now
        routes.add(
            Operation(method: "GET", path: "/console", operationId: "console",
                      summary: "Operator console: one self-contained HTML page (inline SVG, no script) that reloads every 5 s: models, versions with states and load errors, labels and pins, the rollout comparison, input skew, score histograms per version, request rate, 5xx share and p99 latency from this replica's metrics.",
                      tags: ["meta"], responses: [(200, "The console", Schema.string(), ConsolePage.contentType)],
                      requiresAuth: requiresAuth, requiredRole: .metrics)
        ) { _ in
            let statuses = registry.status()
            var samples: [MetricSample] = []
            var points: [ConsolePoint] = []
            if let metrics {
                samples = MetricsText.parse(String(decoding: metrics.exposition(server: counters, models: statuses, monitor: monitor), as: UTF8.self))
                let elapsed = (clock.now - origin).components
                points = history.record(ConsolePoint(
                    time: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18, samples: samples))
            }
            let page = ConsolePage(statuses: statuses, samples: samples, history: points, now: Date())
            return HTTPResponse(headers: ["Content-Type": ConsolePage.contentType, "Cache-Control": "no-store"],
                                body: Array(page.render().utf8))
        }
    }

    private static func addModelRoutes(_ routes: inout RouteTable, models: ModelRoutes, settings: ServiceSettings) {
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

    private static func addV2Routes(_ routes: inout RouteTable, v2: V2Routes, settings: ServiceSettings) {
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

    private static func addAdminRoutes(_ routes: inout RouteTable, registry: ModelRegistry<ServingModelLoader>) {
        let problems: [(status: Int, description: String, schema: Schema?, mediaType: String)] = [
            (400, "Malformed JSON, or a path parameter that is not a valid name", Schemas.problem, ProblemDetails.contentType),
            (404, "Unknown model or label", Schemas.problem, ProblemDetails.contentType),
            (415, "Not application/json (routes with a body)", Schemas.problem, ProblemDetails.contentType),
            (409, "The version is not available", Schemas.problem, ProblemDetails.contentType),
            (422, "Body breaks the schema", Schemas.problem, ProblemDetails.contentType),
        ]
        @Sendable func versionBody(_ request: HTTPRequest, _ schema: Schema) throws -> Int {
            try ModelRoutes.requireJSON(request)
            let body = try JSONParser.parse(request.body)
            guard schema.conforms(body) else { throw ContractError.schemaViolation(schema.validate(body)) }
            // The schema bounds the number to a positive integer below 2^53, so it converts exactly.
            guard let version = body["version"]?.numberValue.flatMap({ Int(exactly: $0) }) else {
                throw ContractError.schemaViolation([FieldProblem(pointer: "/version", problem: "expected a positive integer")])
            }
            return version
        }
        /// Applies `change` to the model the path names and answers what serves now (AdminResult).
        @Sendable func changed(_ request: HTTPRequest, _ change: (String) throws -> Void) throws -> HTTPResponse {
            let name = request.pathParameters["name"] ?? ""
            try change(name)
            let status = registry.status(model: name)
            let body: JSONValue = [
                "name": .string(name),
                "serving_version": status?.servingVersion.map { .number(Double($0)) } ?? .null,
                "pinned": .bool(status?.pinned ?? false),
                "labels": ModelRoutes.versionMap(status?.labels ?? [:]),
            ]
            return ModelRoutes.json(JSONWriter.encode(body))
        }
        routes.add(
            Operation(method: "POST", path: "/v1/admin/reload", operationId: "reload",
                      summary: "Rescan storage now and retry failed versions.", tags: ["admin"],
                      responses: [(202, "Rescan requested", nil, "application/json")], requiresAuth: true)
        ) { _ in
            registry.reloadNow()
            return ModelRoutes.json(Array(#"{"status":"reload requested"}"#.utf8), status: 202)
        }
        routes.add(
            Operation(method: "PUT", path: "/v1/models/{name}/labels/{label}", operationId: "setLabel",
                      summary: "Point a label (e.g. stable, canary) at an available version.", tags: ["admin"],
                      requestBody: Schemas.labelRequest, responses: [(200, "Labels now", Schemas.adminResult, "application/json")] + problems,
                      requiresAuth: true)
        ) { request in
            try changed(request) { name in
                try registry.setLabel(model: name, label: request.pathParameters["label"] ?? "",
                                      version: try versionBody(request, Schemas.labelRequest))
            }
        }
        routes.add(
            Operation(method: "DELETE", path: "/v1/models/{name}/labels/{label}", operationId: "removeLabel",
                      summary: "Remove a label.", tags: ["admin"], responses: [(200, "Labels now", Schemas.adminResult, "application/json")] + problems,
                      requiresAuth: true)
        ) { request in
            try changed(request) { try registry.removeLabel(model: $0, label: request.pathParameters["label"] ?? "") }
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:pin", operationId: "pin",
                      summary: "Serve this version until unpinned.", tags: ["admin"], requestBody: Schemas.pinRequest,
                      responses: [(200, "Serving now", Schemas.adminResult, "application/json")] + problems, requiresAuth: true)
        ) { request in
            try changed(request) { try registry.pin(model: $0, version: try versionBody(request, Schemas.pinRequest)) }
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:unpin", operationId: "unpin",
                      summary: "Serve the newest available version again.", tags: ["admin"],
                      responses: [(200, "Serving now", Schemas.adminResult, "application/json")] + problems, requiresAuth: true)
        ) { request in
            try changed(request) { try registry.unpin(model: $0) }
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:rollback", operationId: "rollback",
                      summary: "Pin the previous serving version (kept loaded for this).", tags: ["admin"],
                      responses: [(200, "Serving now", Schemas.adminResult, "application/json")] + problems, requiresAuth: true)
        ) { request in
            try changed(request) { _ = try registry.rollback(model: $0) }
        }
    }

    /// Rollout control on this replica: set (over rollout.json), back to the file, promote, abort.
    private static func addRolloutRoutes(_ routes: inout RouteTable, registry: ModelRegistry<ServingModelLoader>) {
        let problems: [(status: Int, description: String, schema: Schema?, mediaType: String)] = [
            (400, "Malformed JSON, or a path parameter that is not a valid name", Schemas.problem, ProblemDetails.contentType),
            (404, "Unknown model", Schemas.problem, ProblemDetails.contentType),
            (409, "No rollout with a canary, or the canary version is not available", Schemas.problem, ProblemDetails.contentType),
        ]
        @Sendable func answer(_ name: String) -> HTTPResponse {
            let status = registry.status(model: name)
            let body: JSONValue = [
                "name": .string(name),
                "serving_version": status?.servingVersion.map { .number(Double($0)) } ?? .null,
                "pinned": .bool(status?.pinned ?? false),
                "rollout": ModelRoutes.rolloutJSON(status?.rollout, report: nil),
            ]
            return ModelRoutes.json(JSONWriter.encode(body))
        }
        let result = Schema.object(
            "What serves and the rollout in force after a rollout call.",
            properties: [("name", .string()), ("serving_version", .integer(minimum: 1, nullable: true)), ("pinned", .boolean()),
                         ("rollout", Schemas.rolloutStatus)],
            required: ["name", "serving_version", "pinned", "rollout"], componentName: "RolloutResult")
        routes.add(
            Operation(method: "PUT", path: "/v1/models/{name}/rollout", operationId: "setRollout",
                      summary: "Put a rollout (shadow, canary, guards) in force on this replica, over rollout.json, until DELETE or a restart.",
                      tags: ["admin"], requestBody: Schemas.rolloutRequest,
                      responses: [(200, "The rollout in force", result, "application/json")] + problems
                        + [(415, "Not application/json", Schemas.problem, ProblemDetails.contentType),
                           (422, "Body breaks the schema", Schemas.problem, ProblemDetails.contentType)],
                      requiresAuth: true)
        ) { request in
            try ModelRoutes.requireJSON(request)
            let body = try JSONParser.parse(request.body)
            let schema = Schemas.rolloutRequest
            guard schema.conforms(body) else { throw ContractError.schemaViolation(schema.validate(body)) }
            let spec: RolloutSpec
            do throws(RolloutSpecError) {
                spec = try RolloutSpec.parse(request.body)
            } catch {
                throw ContractError.schemaViolation([FieldProblem(pointer: error.pointer, problem: error.problem)])
            }
            let name = request.pathParameters["name"] ?? ""
            try registry.setRollout(model: name, spec: spec)
            return answer(name)
        }
        routes.add(
            Operation(method: "DELETE", path: "/v1/models/{name}/rollout", operationId: "clearRollout",
                      summary: "Back to rollout.json (or no rollout without one) on this replica.", tags: ["admin"],
                      responses: [(200, "The rollout in force", result, "application/json")] + problems, requiresAuth: true)
        ) { request in
            let name = request.pathParameters["name"] ?? ""
            try registry.clearRollout(model: name)
            return answer(name)
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:promote", operationId: "promote",
                      summary: "The canary becomes the serving version on this replica (pinned, as :pin) and the rollout ends here.",
                      tags: ["admin"], responses: [(200, "Serving now", result, "application/json")] + problems, requiresAuth: true)
        ) { request in
            let name = request.pathParameters["name"] ?? ""
            try registry.promote(model: name)
            return answer(name)
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:abort", operationId: "abort",
                      summary: "Stop the canary on this replica (weight 0; the shadow keeps scoring) until a new rollout.",
                      tags: ["admin"], responses: [(200, "The rollout in force", result, "application/json")] + problems, requiresAuth: true)
        ) { request in
            let name = request.pathParameters["name"] ?? ""
            try registry.abortCanary(model: name, reason: "aborted by an admin", automatic: false)
            return answer(name)
        }
    }

    /// The OpenAPI document; the Listing component is the default model's serving signature.
    static func openAPI(operations: [Operation], registry: ModelRegistry<ServingModelLoader>, settings: ServiceSettings) -> JSONValue {
        var document = OpenAPIDocument.build(title: "Vigia", version: VigiaVersion.current, operations: operations)
        let model = settings.defaultModel
        if case .object(var root) = document, case .object(var components) = root["components"] ?? .null,
           case .object(var schemas) = components["schemas"] ?? .null,
           let serving = try? registry.handle(model: model)
        {
            let listing = serving.servable.listingSchema
            schemas["Listing"] = listing.jsonSchema(isDefinition: true)
            schemas["ListingColumns"] = Schemas.listingColumns(
                listing: listing, maxBatchSize: settings.maxBatchSize).jsonSchema(isDefinition: true)
            components["schemas"] = .object(schemas)
            root["components"] = .object(components)
            document = .object(root)
        }
        return document
    }

    // MARK: Registry events → log

    static func log(_ event: RegistryEvent, to logger: Logger) {
        switch event {
        case .loaded(let model, let version, let duration):
            logger.info("model version loaded", metadata: [
                "model.name": .string(model), "model.version": .stringConvertible(version),
                "duration_ms": .stringConvertible(duration.milliseconds),
            ])
        case .loadFailed(let model, let version, let reason, let attempts, let nextRetry):
            logger.error("model version failed to load", metadata: [
                "model.name": .string(model), "model.version": .stringConvertible(version), "error": .string(reason),
                "attempts": .stringConvertible(attempts), "next_retry": .string(nextRetry.formatted(.iso8601)),
            ])
        case .unloaded(let model, let version):
            logger.info("model version unloaded", metadata: ["model.name": .string(model), "model.version": .stringConvertible(version)])
        case .servingChanged(let model, let from, let to):
            logger.notice("serving version changed", metadata: [
                "model.name": .string(model), "model.from": .string(from.map(String.init) ?? "none"),
                "model.version": .string(to.map(String.init) ?? "none"),
            ])
        case .storageError(let model, let reason):
            logger.error("storage problem", metadata: ["model.name": .string(model ?? "*"), "error": .string(reason)])
        case .storageRecovered(let model):
            logger.notice("storage recovered", metadata: ["model.name": .string(model ?? "*")])
        case .controlFileProblem(let model, let path, let reason):
            logger.error("control file unusable; what it set is unchanged", metadata: [
                "model.name": .string(model), "file": .string(path), "error": .string(reason),
            ])
        case .controlFileRecovered(let model, let path):
            logger.notice("control file usable again", metadata: ["model.name": .string(model), "file": .string(path)])
        }
    }
}

/// A one-way flag shared between threads (an atomic in a class, so closures can hold it).
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// The version string reported by `vigia --version`, OpenAPI and build info.
public enum VigiaVersion {
    public static let current = "0.1.0"
}
