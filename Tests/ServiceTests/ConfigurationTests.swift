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
        #expect(config.integer("server.port") == 8080)
        #expect(config.strings("models.required") == ["prohibited-items"])
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
            #expect(config.integer("server.port") == 9100)
            #expect(config.sources["server.port"] == "environment variable VIGIA_SERVER_PORT")
            #expect(config.string("server.host") == "0.0.0.0", "a key the environment does not set keeps the file's value")
            #expect(config.strings("models.required") == ["a", "b"])
        }
    }

    @Test func aFlagOverridesTheEnvironment() throws {
        let config = try ServiceConfiguration.resolve(
            file: nil, environment: ["VIGIA_SERVER_PORT": "9100", "VIGIA_SERVER_HOST": "0.0.0.0"],
            overrides: [(path: "server.port", text: "9200", flag: "--port")])
        #expect(config.integer("server.port") == 9200)
        #expect(config.sources["server.port"] == "--port")
        #expect(config.string("server.host") == "0.0.0.0", "a key no flag sets keeps the environment's value")
    }

    @Test func aFlagOverridesTheFile() throws {
        try withTempFile(#"{"server": {"port": 9000}}"#) { file in
            let config = try ServiceConfiguration.resolve(
                file: file, environment: [:], overrides: [(path: "server.port", text: "9200", flag: "--port")])
            #expect(config.integer("server.port") == 9200)
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
        #expect(config.limits.maxBodyBytes == 1024)
    }
}
