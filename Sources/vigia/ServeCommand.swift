import ArgumentParser
import FoundationEssentials
import JSON
import Logging
import Service

/// The configuration flags `vigia serve` and `vigia config check` share, and how they
/// resolve with the file and the environment.
struct ConfigurationOptions: ParsableArguments {
    /// The values `--log-level` takes (offered by shell completion), from the key's own choice list.
    static let logLevels: [String] = {
        if case .choice(let options) = ConfigurationKey.named("logging.level")?.kind { return options }
        return []
    }()

    @Option(help: ArgumentHelp("Configuration file (JSON). Default: config/vigia.json when it exists.", valueName: "file"),
            completion: .file(extensions: ["json"]))
    var config: String?

    @Option(help: "Listen address (server.host).")
    var host: String?

    @Option(help: "TCP port; 0 picks a free one (server.port).")
    var port: String?

    @Option(help: ArgumentHelp("Model storage directory (storage.path).", valueName: "directory"), completion: .directory)
    var storage: String?

    @Option(name: .customLong("event-loops"), help: "Event-loop threads; 0 = one per core (server.event_loops).")
    var eventLoops: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(
        "One of \(Self.logLevels.joined(separator: ", ")) (logging.level).", valueName: "level"),
            completion: .list(Self.logLevels))
    var logLevel: String?

    /// Defaults, then the file, then `VIGIA_*`, then these flags. A bad value is a start-up
    /// failure (exit 1 with the message), not a usage error (64 + usage text).
    func resolve() throws -> ServiceConfiguration {
        var overrides: [(path: String, text: String, flag: String)] = []
        if let host { overrides.append(("server.host", host, "--host")) }
        // Numbers are checked by the configuration (naming key and flag), not as usage errors.
        if let port { overrides.append(("server.port", port, "--port")) }
        if let storage { overrides.append(("storage.path", storage, "--storage")) }
        if let eventLoops { overrides.append(("server.event_loops", eventLoops, "--event-loops")) }
        if let logLevel { overrides.append(("logging.level", logLevel, "--log-level")) }
        do {
            return try ServiceConfiguration.resolve(
                file: config, environment: ProcessInfo.processInfo.environment, overrides: overrides)
        } catch {
            throw Console.fail("configuration: \(error.message)")
        }
    }
}

/// `vigia serve`: the long-running REST service.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the models in the storage directory over HTTP.",
        discussion: """
            Configuration comes from config/vigia.json (or --config), then VIGIA_* environment
            variables, then these flags. `vigia config-keys` lists every key; `vigia config check`
            prints the effective configuration and where each value came from.
            """)

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let configuration = try options.resolve()
        let level = ServiceSettings(configuration).logLevel
        let sink = LogSink.bufferedStandardError()
        defer { sink.flush() }
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level, sink: sink) }
        let logger = Logger(label: "vigia")
        let service = VigiaService(configuration: configuration, logger: logger, logSink: sink)
        service.bootstrapMetricsSystem()
        do {
            _ = try service.start()
        } catch {
            logger.critical("start-up failed", metadata: ["error": .string(String(describing: error))])
            sink.flush()
            throw ExitCode(1)
        }
        service.runUntilSignalled()
    }
}

/// `vigia config`: the configuration, checked and explained.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the configuration or list its keys.",
        subcommands: [ConfigCheck.self, ConfigKeys.self])
}

/// `vigia config check`: resolves the configuration exactly as `vigia serve` would and prints
/// every effective value with where it came from; exits 1 with the message when it is invalid.
struct ConfigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Print the effective configuration and where each value came from (file, environment, flag, default).",
        discussion: "Takes the same flags as `vigia serve`; secrets are never printed, only how many are set.")

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let configuration = try options.resolve()
        print("| key | value | from |")
        print("|---|---|---|")
        for key in ConfigurationKey.all {
            let value = configuration.values[key.path] ?? key.defaultValue
            let shown: String
            if key.isSecret {
                let count = value.arrayValue?.count ?? 0
                shown = count == 0 ? "(none set)" : "(secret: \(count) set)"
            } else {
                shown = "`" + String(decoding: JSONWriter.encode(value), as: UTF8.self).replacing("|", with: "\\|") + "`"
            }
            print("| `\(key.path)` | \(shown) | \(Self.origin(configuration.sources[key.path] ?? "default")) |")
        }
        print("configuration ok")
    }

    /// "default", "file config/vigia.json", "environment VIGIA_SERVER_PORT" or "flag --port".
    static func origin(_ source: String) -> String {
        if source == "default" { return "default" }
        if source.hasPrefix("environment variable ") { return "environment " + source.dropFirst("environment variable ".count) }
        if source.hasPrefix("--") { return "flag " + source }
        return "file " + source
    }
}

/// `vigia config-keys`: every configuration key, its environment variable, type and default.
struct ConfigKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-keys", abstract: "List every configuration key (Markdown table); also `vigia config keys`.",
        aliases: ["keys"])

    func run() {
        print("| key | environment variable | type | default | meaning |")
        print("|---|---|---|---|---|")
        for key in ConfigurationKey.all {
            let value = String(decoding: JSONWriter.encode(key.defaultValue), as: UTF8.self)
            // A `|` inside a cell (choice types) would split it: escape it for Markdown.
            let type = key.typeDescription.replacing("|", with: "\\|")
            print("| `\(key.path)` | `\(key.environmentName)` | \(type) | `\(value)` | \(key.summary) |")
        }
    }
}
