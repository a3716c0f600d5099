import HTTPServer
import JSON
import Logging
import Registry

/// The resolved configuration, decoded once into the typed values the service runs with.
///
/// Keys are read here and nowhere else, each through its `ConfigurationKey` constant: a
/// misspelt key does not compile, and an accessor that does not match the key's kind stops
/// the decoding (the tests decode the defaults, so every read runs). The token keys are the
/// one exception: `TokenSource` reads them, hashes them and keeps no plaintext here.
public struct ServiceSettings: Sendable {
    /// Listener, loops, limits, drain timeout and TLS, as `HTTPServer` takes them.
    public var server: ServerConfiguration
    /// After SIGTERM, how long the server keeps accepting before it stops (seconds).
    public var drainGrace: Double
    public var registry: RegistryConfiguration
    /// The model the examples and the OpenAPI document use.
    public var defaultModel: String
    /// Most instances in one predict, explain or infer request.
    public var maxBatchSize: Int
    public var explainTopFeatures: Int
    public var logLevel: Logger.Level
    /// One access-log line per request (of `accessLogSampleRate` of them; 5xx always).
    public var accessLog: Bool
    public var accessLogSampleRate: Double
    /// `GET /metrics` and every per-request metric update; off removes both.
    public var metricsEnabled: Bool
    public var monitor: MonitorConfiguration
    /// nil: no payload log.
    public var payloadLog: PayloadLogConfiguration?
    /// With TLS on, plain HTTP serves only health and metrics routes.
    public var plainHTTPOnlyForHealthAndMetrics: Bool
    public var auth: Auth

    /// `auth.*` but the tokens.
    public struct Auth: Sendable {
        /// Predict and explain need a predict (or admin) token.
        public var enabled: Bool
        public var protectMetrics: Bool
        /// nil: no tokens file.
        public var tokensFile: String?
        public var reloadInterval: Duration
    }

    public init(_ configuration: ServiceConfiguration) {
        var keys = KeyReader(configuration)
        self.init(&keys)
    }

    /// Decodes, and says which keys it read (the tests check that this is every key but the
    /// tokens, so a key in the table that nothing reads cannot go unnoticed).
    static func decode(_ configuration: ServiceConfiguration) -> (ServiceSettings, read: Set<String>) {
        var keys = KeyReader(configuration)
        let settings = ServiceSettings(&keys)
        return (settings, keys.read)
    }

    private init(_ keys: inout KeyReader) {
        var limits = HTTPLimits()
        limits.maxRequestLineBytes = keys.integer(.limitsMaxRequestLineBytes)
        limits.maxHeaderBytes = keys.integer(.limitsMaxHeaderBytes)
        limits.maxHeaderCount = keys.integer(.limitsMaxHeaderCount)
        limits.maxBodyBytes = keys.integer(.limitsMaxBodyBytes)
        limits.headerTimeout = keys.number(.limitsHeaderTimeoutSeconds)
        limits.bodyTimeout = keys.number(.limitsBodyTimeoutSeconds)
        limits.idleTimeout = keys.number(.limitsIdleTimeoutSeconds)

        var server = ServerConfiguration()
        server.host = keys.string(.serverHost)
        server.port = keys.integer(.serverPort)
        let loops = keys.integer(.serverEventLoops)
        server.eventLoopCount = loops > 0 ? loops : ServerConfiguration.onlineCPUCount
        server.backlog = keys.integer(.serverBacklog)
        server.drainTimeout = keys.number(.serverDrainTimeoutSeconds)
        server.maxConnections = keys.integer(.serverMaxConnections)
        server.maxInFlightRequests = keys.integer(.serverMaxInFlight)
        server.limits = limits

        var tls = TLSConfiguration(
            certificateFile: keys.string(.tlsCertificateFile), keyFile: keys.string(.tlsKeyFile), port: keys.integer(.tlsPort))
        tls.minimumVersion = TLSConfiguration.MinimumVersion(rawValue: keys.choice(.tlsMinVersion)) ?? .tls12
        tls.cipherList = keys.string(.tlsCiphers)
        tls.handshakeTimeout = keys.number(.tlsHandshakeTimeoutSeconds)
        tls.reloadInterval = keys.number(.tlsReloadIntervalSeconds)
        let tlsEnabled = keys.boolean(.tlsEnabled)
        server.tls = tlsEnabled ? tls : nil
        self.server = server
        let plainHTTP = keys.choice(.tlsPlainHttp)
        plainHTTPOnlyForHealthAndMetrics = tlsEnabled && plainHTTP == "health_and_metrics"
        drainGrace = keys.number(.serverDrainGraceSeconds)

        registry = RegistryConfiguration(
            storagePath: keys.string(.storagePath), requiredModels: keys.strings(.modelsRequired),
            rescanInterval: Self.duration(seconds: keys.number(.storageRescanIntervalSeconds)))
        defaultModel = keys.string(.modelsDefault)
        maxBatchSize = keys.integer(.predictMaxBatchSize)
        explainTopFeatures = keys.integer(.predictExplainTopFeatures)

        logLevel = Logger.Level(rawValue: keys.choice(.loggingLevel)) ?? .info
        accessLog = keys.boolean(.loggingAccessLog)
        accessLogSampleRate = keys.number(.loggingAccessLogSampleRate)
        metricsEnabled = keys.boolean(.metricsEnabled)

        monitor = MonitorConfiguration(
            queueCapacity: keys.integer(.rolloutQueueCapacity), inputSkew: keys.boolean(.monitoringInputSkew),
            skewWindow: keys.integer(.monitoringSkewWindow))
        let payloadPath = keys.optionalString(.payloadLogPath)
        let payload = PayloadLogConfiguration(
            path: payloadPath ?? "", sampleRate: keys.number(.payloadLogSampleRate), maxBytes: keys.integer(.payloadLogMaxBytes),
            maxFiles: keys.integer(.payloadLogMaxFiles), queueCapacity: keys.integer(.payloadLogQueueCapacity))
        payloadLog = payloadPath == nil ? nil : payload

        auth = Auth(
            enabled: keys.boolean(.authEnabled), protectMetrics: keys.boolean(.authProtectMetrics),
            tokensFile: keys.optionalString(.authTokensFile),
            reloadInterval: Self.duration(seconds: keys.number(.authReloadIntervalSeconds)))
    }

    private static func duration(seconds: Double) -> Duration { .milliseconds(Int((seconds * 1000).rounded())) }
}

/// Reads resolved values by key, checking that the accessor matches the key's kind, and
/// remembers which keys were read.
struct KeyReader {
    private let configuration: ServiceConfiguration
    private(set) var read: Set<String> = []

    init(_ configuration: ServiceConfiguration) { self.configuration = configuration }

    mutating func string(_ key: ConfigurationKey) -> String {
        value(key, kindIs: { if case .string = $0 { true } else { false } })?.stringValue ?? ""
    }

    /// nil when empty (the key's way of saying "not set").
    mutating func optionalString(_ key: ConfigurationKey) -> String? {
        let text = value(key, kindIs: { if case .optionalString = $0 { true } else { false } })?.stringValue ?? ""
        return text.isEmpty ? nil : text
    }

    mutating func choice(_ key: ConfigurationKey) -> String {
        value(key, kindIs: { if case .choice = $0 { true } else { false } })?.stringValue ?? ""
    }

    mutating func integer(_ key: ConfigurationKey) -> Int {
        Int(value(key, kindIs: { if case .integer = $0 { true } else { false } })?.numberValue ?? 0)
    }

    mutating func number(_ key: ConfigurationKey) -> Double {
        value(key, kindIs: { if case .number = $0 { true } else { false } })?.numberValue ?? 0
    }

    mutating func boolean(_ key: ConfigurationKey) -> Bool {
        value(key, kindIs: { if case .boolean = $0 { true } else { false } }) == .bool(true)
    }

    mutating func strings(_ key: ConfigurationKey) -> [String] {
        value(key, kindIs: { if case .stringList = $0 { true } else { false } })?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    private mutating func value(_ key: ConfigurationKey, kindIs matches: (ConfigurationKey.Kind) -> Bool) -> JSONValue? {
        precondition(matches(key.kind), "\(key.path) is read with an accessor for another kind than \(key.typeDescription)")
        read.insert(key.path)
        return configuration.value(of: key)
    }
}
