import JSON
/// Every configuration key Vigia reads, with its type, default and meaning. This table is
/// the single source for parsing the file, reading `VIGIA_…` environment variables,
/// applying command-line overrides, and the key reference printed by `vigia config-keys`.
public struct ConfigurationKey: Sendable {
    public enum Kind: Sendable {
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case string
        case boolean
        case stringList
        case choice([String])
        /// A string that may be empty, meaning "not set" (e.g. an optional file path).
        case optionalString
    }

    /// Dotted path in the JSON file, e.g. `server.port`.
    public let path: String
    public let kind: Kind
    public let defaultValue: JSONValue
    public let summary: String
    /// A secret (tokens): read only from its environment variable, never from the
    /// configuration file (a secret key in the file stops start-up), never printed or logged.
    public var isSecret: Bool = false

    /// `server.port` → `VIGIA_SERVER_PORT`.
    public var environmentName: String {
        "VIGIA_" + path.uppercased().replacing(".", with: "_")
    }

    public var typeDescription: String {
        switch kind {
        case .integer(let range): "integer \(range.lowerBound)…\(range.upperBound)"
        case .number(let range): "number \(Schema.format(range.lowerBound))…\(Schema.format(range.upperBound))"
        case .string: "string"
        case .boolean: "boolean"
        case .stringList: "list of strings (env: comma-separated)"
        case .choice(let options): "one of " + options.joined(separator: ", ")
        case .optionalString: "string (empty: not set)"
        }
    }
}

extension ConfigurationKey {
    public static let serverHost = ConfigurationKey(path: "server.host", kind: .string, defaultValue: "127.0.0.1",
        summary: "Address to listen on (0.0.0.0 or :: to listen on every interface).")

    public static let serverPort = ConfigurationKey(path: "server.port", kind: .integer(0...65535), defaultValue: 8080,
        summary: "TCP port; 0 picks a free port (printed at start-up).")

    public static let serverEventLoops = ConfigurationKey(path: "server.event_loops", kind: .integer(0...256), defaultValue: 0,
        summary: "Event-loop threads, each with its own epoll; 0 means one per core.")

    public static let serverBacklog = ConfigurationKey(path: "server.backlog", kind: .integer(1...65535), defaultValue: 1024,
        summary: "listen(2) backlog per listening socket.")

    public static let serverDrainGraceSeconds = ConfigurationKey(path: "server.drain_grace_seconds", kind: .number(0...600), defaultValue: 5,
        summary: "After SIGTERM, how long the server keeps accepting (readiness already 503, every response closing its connection) before it stops; a second SIGTERM ends it.")

    public static let serverDrainTimeoutSeconds = ConfigurationKey(path: "server.drain_timeout_seconds", kind: .number(0...3600), defaultValue: 10,
        summary: "After the grace period, how long requests in progress may take before every connection is closed.")

    public static let serverMaxConnections = ConfigurationKey(path: "server.max_connections", kind: .integer(1...10_000_000), defaultValue: 10000,
        summary: "Open connections above which a new connection gets 503 + Retry-After: 1 and is closed; keep below the fd limit.")

    public static let serverMaxInFlight = ConfigurationKey(path: "server.max_in_flight", kind: .integer(1...1_000_000), defaultValue: 1024,
        summary: "Handlers running at once above which a request gets 503 + Retry-After: 1 without running its handler (handlers run on the event loops, so at most server.event_loops run anyway).")

    public static let limitsMaxRequestLineBytes = ConfigurationKey(path: "limits.max_request_line_bytes", kind: .integer(64...1_048_576), defaultValue: 8192,
        summary: "Longest request line; longer gets 414.")

    public static let limitsMaxHeaderBytes = ConfigurationKey(path: "limits.max_header_bytes", kind: .integer(256...4_194_304), defaultValue: 32768,
        summary: "Largest request head; larger gets 431.")

    public static let limitsMaxHeaderCount = ConfigurationKey(path: "limits.max_header_count", kind: .integer(1...10000), defaultValue: 100,
        summary: "Most header fields; more gets 431.")

    public static let limitsMaxBodyBytes = ConfigurationKey(path: "limits.max_body_bytes", kind: .integer(0...1_073_741_824), defaultValue: 4_194_304,
        summary: "Largest request body; larger gets 413 before the body is read.")

    public static let limitsHeaderTimeoutSeconds = ConfigurationKey(path: "limits.header_timeout_seconds", kind: .number(0.01...3600), defaultValue: 10,
        summary: "Time to send a complete request head; then 408.")

    public static let limitsBodyTimeoutSeconds = ConfigurationKey(path: "limits.body_timeout_seconds", kind: .number(0.01...3600), defaultValue: 30,
        summary: "Time to send the body after the head; then 408.")

    public static let limitsIdleTimeoutSeconds = ConfigurationKey(path: "limits.idle_timeout_seconds", kind: .number(0.01...86400), defaultValue: 60,
        summary: "Idle keep-alive connections are closed after this long.")

    public static let storagePath = ConfigurationKey(path: "storage.path", kind: .string, defaultValue: "models",
        summary: "Model storage directory: <path>/<model>/<version>/model.json.")

    public static let storageRescanIntervalSeconds = ConfigurationKey(path: "storage.rescan_interval_seconds", kind: .number(0.1...3600), defaultValue: 5,
        summary: "Periodic rescan of the storage directory, on top of inotify.")

    public static let modelsRequired = ConfigurationKey(path: "models.required", kind: .stringList, defaultValue: ["prohibited-items"],
        summary: "Models that must serve before /health/ready answers 200.")

    public static let modelsDefault = ConfigurationKey(path: "models.default", kind: .string, defaultValue: "prohibited-items",
        summary: "The model the examples and the OpenAPI document use.")

    public static let predictMaxBatchSize = ConfigurationKey(path: "predict.max_batch_size", kind: .integer(1...100_000), defaultValue: 256,
        summary: "Most instances in one predict or explain request; more gets 422 naming the limit.")

    public static let predictExplainTopFeatures = ConfigurationKey(path: "predict.explain_top_features", kind: .integer(1...1000), defaultValue: 10,
        summary: "Features listed per direction by :explain.")

    public static let loggingLevel = ConfigurationKey(path: "logging.level", kind: .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]),
        defaultValue: "info", summary: "Lowest log level written (JSON lines on stderr).")

    public static let loggingAccessLog = ConfigurationKey(path: "logging.access_log", kind: .boolean, defaultValue: true,
        summary: "One log line per request.")

    public static let loggingAccessLogSampleRate = ConfigurationKey(path: "logging.access_log_sample_rate", kind: .number(0...1), defaultValue: 1,
        summary: "Share of requests that get an access-log line, evenly spread (0.1: every tenth); 5xx answers are always logged.")

    public static let metricsEnabled = ConfigurationKey(path: "metrics.enabled", kind: .boolean, defaultValue: true,
        summary: "Serve GET /metrics and update request and prediction metrics; false removes the route and all per-request metric work.")

    public static let rolloutQueueCapacity = ConfigurationKey(path: "rollout.queue_capacity", kind: .integer(1...10_000_000), defaultValue: 10000,
        summary: "Listings waiting for the monitor's worker (shadow scoring, comparisons, input skew, payload sampling); a request whose listings do not fit is skipped and counted, never delayed.")

    public static let monitoringInputSkew = ConfigurationKey(path: "monitoring.input_skew", kind: .boolean, defaultValue: true,
        summary: "Compare live inputs with the serving version's training profile (versions without a profile are not compared).")

    public static let monitoringSkewWindow = ConfigurationKey(path: "monitoring.skew_window", kind: .integer(10...1_000_000), defaultValue: 1000,
        summary: "Values per field in the sliding window the input-skew PSI is computed over.")

    public static let payloadLogPath = ConfigurationKey(path: "payload_log.path", kind: .optionalString, defaultValue: "",
        summary: "JSON-lines file sampled listings and their scores are written to; empty: off.")

    public static let payloadLogSampleRate = ConfigurationKey(path: "payload_log.sample_rate", kind: .number(0...1), defaultValue: 0.01,
        summary: "Share of scored listings written to payload_log.path, evenly spread.")

    public static let payloadLogMaxBytes = ConfigurationKey(path: "payload_log.max_bytes", kind: .integer(4096...1_099_511_627_776), defaultValue: 67_108_864,
        summary: "The payload log is rotated (path.1, path.2, …) before a line would take it past this size.")

    public static let payloadLogMaxFiles = ConfigurationKey(path: "payload_log.max_files", kind: .integer(1...1000), defaultValue: 5,
        summary: "Payload log files kept, the current one included.")

    public static let payloadLogQueueCapacity = ConfigurationKey(path: "payload_log.queue_capacity", kind: .integer(1...10_000_000), defaultValue: 1024,
        summary: "Lines waiting for the payload writer; lines beyond it are dropped and counted (vigia_payload_log_lines_total{outcome=\"dropped\"}).")

    /// Every key, in the order `vigia config-keys` lists them.
    public static let all: [ConfigurationKey] = [
        serverHost,
        serverPort,
        serverEventLoops,
        serverBacklog,
        serverDrainGraceSeconds,
        serverDrainTimeoutSeconds,
        serverMaxConnections,
        serverMaxInFlight,
        limitsMaxRequestLineBytes,
        limitsMaxHeaderBytes,
        limitsMaxHeaderCount,
        limitsMaxBodyBytes,
        limitsHeaderTimeoutSeconds,
        limitsBodyTimeoutSeconds,
        limitsIdleTimeoutSeconds,
        storagePath,
        storageRescanIntervalSeconds,
        modelsRequired,
        modelsDefault,
        predictMaxBatchSize,
        predictExplainTopFeatures,
        loggingLevel,
        loggingAccessLog,
        loggingAccessLogSampleRate,
        metricsEnabled,
        rolloutQueueCapacity,
        monitoringInputSkew,
        monitoringSkewWindow,
        payloadLogPath,
        payloadLogSampleRate,
        payloadLogMaxBytes,
        payloadLogMaxFiles,
        payloadLogQueueCapacity,
    ] + securityKeys

    public static func named(_ path: String) -> ConfigurationKey? {
        all.first { $0.path == path }
    }
}
