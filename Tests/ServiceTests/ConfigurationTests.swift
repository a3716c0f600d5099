import FoundationEssentials
import Testing
@testable import Service

@Suite(.timeLimit(.minutes(10))) struct ConfigurationTests {
    /// Runs `body` with `text` in a temporary configuration file, removed afterwards.
    private func withTempFile<T>(_ text: String, _ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appending(path: "vigia-config-\(UInt64.random(in: 0...UInt64.max)).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    @Test func defaultsWorkWithoutAFile() throws {
        let config = try ServiceConfiguration.resolve(file: nil, environment: [:])
        let settings = ServiceSettings(config)
        #expect(settings.server.port == 8080)
        #expect(settings.registry.requiredModels == ["prohibited-items"])
    }

    @Test func theShippedFileHoldsOnlyKnownKeysWithTheirDefaults() throws {
        let config = try ServiceConfiguration.resolve(file: repositoryRoot.appending(path: "config/vigia.json").path, environment: [:])
        for key in ConfigurationKey.all {
            #expect(config.values[key.path] == key.defaultValue, "config/vigia.json disagrees with the default of \(key.path)")
        }
    }

    @Test func environmentOverridesTheFile() throws {
        try withTempFile(#"{"server": {"port": 9000, "host": "0.0.0.0"}}"#) { file in
            let config = try ServiceConfiguration.resolve(file: file, environment: ["VIGIA_SERVER_PORT": "9100", "VIGIA_MODELS_REQUIRED": "a, b"])
            let settings = ServiceSettings(config)
            #expect(settings.server.port == 9100)
            #expect(config.sources["server.port"] == "environment variable VIGIA_SERVER_PORT")
            #expect(settings.server.host == "0.0.0.0", "a key the environment does not set keeps the file's value")
            #expect(settings.registry.requiredModels == ["a", "b"])
        }
    }

    @Test func aFlagOverridesTheEnvironment() throws {
        let config = try ServiceConfiguration.resolve(
            file: nil, environment: ["VIGIA_SERVER_PORT": "9100", "VIGIA_SERVER_HOST": "0.0.0.0"],
            overrides: [(path: "server.port", text: "9200", flag: "--port")])
        #expect(ServiceSettings(config).server.port == 9200)
        #expect(config.sources["server.port"] == "--port")
        #expect(ServiceSettings(config).server.host == "0.0.0.0", "a key no flag sets keeps the environment's value")
    }

    @Test func aFlagOverridesTheFile() throws {
        try withTempFile(#"{"server": {"port": 9000}}"#) { file in
            let config = try ServiceConfiguration.resolve(
                file: file, environment: [:], overrides: [(path: "server.port", text: "9200", flag: "--port")])
            #expect(ServiceSettings(config).server.port == 9200)
            #expect(config.sources["server.port"] == "--port")
        }
    }

    @Test func unknownFileKeyNamesTheKey() throws {
        try withTempFile(#"{"server": {"prot": 1}}"#) { file in
            #expect(throws: ConfigurationError(message: "\(file): unknown key 'server.prot'")) {
                try ServiceConfiguration.resolve(file: file, environment: [:])
            }
        }
    }

    @Test func outOfRangeValueNamesKeyAndSource() throws {
        #expect(throws: ConfigurationError(message: "server.port (from environment variable VIGIA_SERVER_PORT): 70000 is outside 0…65535")) {
            try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_SERVER_PORT": "70000"])
        }
    }

    @Test func wrongTypesAreRejected() throws {
        try withTempFile(#"{"logging": {"access_log": "yes"}}"#) { file in
            #expect(throws: ConfigurationError(message: "logging.access_log (from \(file)): expected true or false")) { try ServiceConfiguration.resolve(file: file, environment: [:]) }
        }
        #expect(throws: ConfigurationError(message: "logging.level (from environment variable VIGIA_LOGGING_LEVEL): expected one of trace, debug, info, notice, warning, error, critical")) {
            try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_LOGGING_LEVEL": "loud"])
        }
        #expect(throws: ConfigurationError(message: "server.event_loops (from environment variable VIGIA_SERVER_EVENT_LOOPS): expected an integer")) {
            try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_SERVER_EVENT_LOOPS": "1.5"])
        }
    }

    @Test func unknownVigiaVariableIsAnError() {
        #expect(throws: ConfigurationError(message: "unknown environment variable VIGIA_SERVR_PORT; known: see `vigia config-keys`")) {
            try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_SERVR_PORT": "1"])
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ConfigurationError(message: "cannot read configuration file /nonexistent/vigia.json")) {
            try ServiceConfiguration.resolve(file: "/nonexistent/vigia.json", environment: [:])
        }
    }

    @Test func limitsComeFromTheirKeys() throws {
        let config = try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_LIMITS_MAX_BODY_BYTES": "1024"])
        #expect(ServiceSettings(config).server.limits.maxBodyBytes == 1024)
    }

    /// Decoding the defaults runs every read, so a read through an accessor of the wrong kind
    /// stops here; and every key of the table is read, so none is documented but ignored.
    @Test func settingsReadEveryKeyButTheTokens() throws {
        let (_, read) = ServiceSettings.decode(try ServiceConfiguration.resolve(file: nil, environment: [:]))
        let tokens = Set(AuthRole.allCases.map { ConfigurationKey.tokens(for: $0).path })
        #expect(tokens == ["auth.admin_tokens", "auth.predict_tokens", "auth.metrics_tokens"])
        #expect(read == Set(ConfigurationKey.all.map(\.path)).subtracting(tokens))
    }

    @Test func settingsDecodeIntoTypedValues() throws {
        let defaults = ServiceSettings(try ServiceConfiguration.resolve(file: nil, environment: [:]))
        #expect(defaults.server.tls == nil, "TLS is off by default")
        #expect(!defaults.plainHTTPOnlyForHealthAndMetrics)
        #expect(defaults.payloadLog == nil, "an empty payload_log.path means no payload log")
        #expect(defaults.auth.tokensFile == nil)
        #expect(defaults.registry.rescanInterval == .seconds(5))
        #expect(defaults.server.eventLoopCount >= 1, "0 event loops means one per core")
        #expect(defaults.logLevel == .info)

        let set = ServiceSettings(try ServiceConfiguration.resolve(file: nil, environment: [
            "VIGIA_TLS_ENABLED": "true", "VIGIA_TLS_PORT": "9443", "VIGIA_TLS_MIN_VERSION": "1.3",
            "VIGIA_TLS_PLAIN_HTTP": "health_and_metrics", "VIGIA_PAYLOAD_LOG_PATH": "/tmp/p.jsonl",
            "VIGIA_PAYLOAD_LOG_SAMPLE_RATE": "0.5", "VIGIA_AUTH_TOKENS_FILE": "/etc/t", "VIGIA_AUTH_RELOAD_INTERVAL_SECONDS": "0.25",
            "VIGIA_SERVER_EVENT_LOOPS": "3", "VIGIA_LOGGING_LEVEL": "warning",
        ]))
        #expect(set.server.tls?.port == 9443)
        #expect(set.server.tls?.minimumVersion == .tls13)
        #expect(set.plainHTTPOnlyForHealthAndMetrics)
        #expect(set.payloadLog?.path == "/tmp/p.jsonl")
        #expect(set.payloadLog?.sampleRate == 0.5)
        #expect(set.auth.tokensFile == "/etc/t")
        #expect(set.auth.reloadInterval == .milliseconds(250))
        #expect(set.server.eventLoopCount == 3)
        #expect(set.logLevel == .warning)
    }
}
