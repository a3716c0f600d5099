import FoundationEssentials
import Testing
@testable import Service

@Suite struct ConfigurationTests {
    private func writeTemp(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appending(path: "vigia-config-\(UInt64.random(in: 0...UInt64.max)).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
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

    @Test func environmentOverridesFileAndFlagsOverrideEnvironment() throws {
        let file = try writeTemp(#"{"server": {"port": 9000, "host": "0.0.0.0"}}"#)
        let config = try ServiceConfiguration.resolve(
            file: file, environment: ["VIGIA_SERVER_PORT": "9100", "VIGIA_MODELS_REQUIRED": "a, b"],
            overrides: [(path: "server.port", text: "9200", flag: "--port")])
        #expect(config.integer("server.port") == 9200)
        #expect(config.sources["server.port"] == "--port")
        #expect(config.string("server.host") == "0.0.0.0")
        #expect(config.strings("models.required") == ["a", "b"])
    }

    @Test func unknownFileKeyNamesTheKey() throws {
        let file = try writeTemp(#"{"server": {"prot": 1}}"#)
        #expect(throws: ConfigurationError(message: "\(file): unknown key 'server.prot'")) {
            try ServiceConfiguration.resolve(file: file, environment: [:])
        }
    }

    @Test func outOfRangeValueNamesKeyAndSource() throws {
        #expect(throws: ConfigurationError(message: "server.port (from environment variable VIGIA_SERVER_PORT): 70000 is outside 0…65535")) {
            try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_SERVER_PORT": "70000"])
        }
    }

    @Test func wrongTypesAreRejected() throws {
        let file = try writeTemp(#"{"logging": {"access_log": "yes"}}"#)
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.resolve(file: file, environment: [:]) }
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_LOGGING_LEVEL": "loud"])
        }
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_SERVER_EVENT_LOOPS": "1.5"])
        }
    }

    @Test func unknownVigiaVariableIsAnError() {
        #expect(throws: ConfigurationError.self) {
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
