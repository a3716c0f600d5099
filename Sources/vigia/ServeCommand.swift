import ArgumentParser
import Foundation
import Logging
import Service

/// `vigia serve`: the long-running REST service.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the models in the storage directory over HTTP.",
        discussion: """
            Configuration comes from config/vigia.json (or --config), then VIGIA_* environment
            variables, then these flags. `vigia config-keys` lists every key.
            """)

    @Option(help: "Configuration file (JSON). Default: config/vigia.json when it exists.")
    var config: String?

    @Option(help: "Listen address (server.host).")
    var host: String?

    @Option(help: "TCP port; 0 picks a free one (server.port).")
    var port: Int?

    @Option(help: "Model storage directory (storage.path).")
    var storage: String?

    @Option(name: .customLong("event-loops"), help: "Event-loop threads; 0 = one per core (server.event_loops).")
    var eventLoops: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (logging.level).")
    var logLevel: String?

    func run() throws {
        var overrides: [(path: String, text: String, flag: String)] = []
        if let host { overrides.append(("server.host", host, "--host")) }
        if let port { overrides.append(("server.port", String(port), "--port")) }
        if let storage { overrides.append(("storage.path", storage, "--storage")) }
        if let eventLoops { overrides.append(("server.event_loops", String(eventLoops), "--event-loops")) }
        if let logLevel { overrides.append(("logging.level", logLevel, "--log-level")) }
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.resolve(
                file: config, environment: ProcessInfo.processInfo.environment, overrides: overrides)
        } catch {
            // A bad value is a start-up failure (exit 1), not a usage error (64 + usage text).
            throw Console.fail("configuration: \(error.message)")
        }
        let level = Logger.Level(rawValue: configuration.string("logging.level")) ?? .info
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

/// `vigia config-keys`: every configuration key, its environment variable, type and default.
struct ConfigKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-keys", abstract: "List every configuration key (Markdown table).")

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
