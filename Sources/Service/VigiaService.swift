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
        HealthRoutes.register(into: &routes, registry: registryRef, isDraining: { drainingFlag.isSet })
        ModelRoutes.register(models, into: &routes, settings: settings)
        AdminRoutes.register(into: &routes, registry: registryRef)
        RolloutRoutes.register(into: &routes, registry: registryRef)
        let v2 = V2Routes(
            scoring: scoring, maxBatchSize: settings.maxBatchSize,
            readinessProblems: { HealthRoutes.readinessProblems(registry: registryRef, isDraining: { drainingFlag.isSet }) })
        V2Routes.register(v2, into: &routes, settings: settings)
        if let metrics {
            OperatorRoutes.registerMetrics(into: &routes, metrics: metrics, counters: counters, registry: registryRef, monitor: monitor)
        }
        OperatorRoutes.registerConsole(into: &routes, metrics: metrics, counters: counters, registry: registryRef, monitor: monitor,
                                       requiresAuth: settings.auth.enabled)
        OpenAPIRoute.register(into: &routes, registry: registryRef, settings: settings)
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

    /// For cost-bench, whose monitor worker is not started: counts what requests handed the
    /// monitor as finished, unprocessed, as a worker that keeps up would.
    public func benchOnly_finishMonitorJobs() { monitor.finishQueuedUnprocessed() }

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
