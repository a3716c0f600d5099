import Foundation
import Glibc
import HTTPTestClient
import Inference
import JSON
import Logging
import Synchronization
import Testing
@testable import Service

/// The repository root, found from this file's path so tests run from any directory.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The newest committed version of the default model.
func defaultModelDirectory() throws -> URL {
    let base = repositoryRoot.appending(path: "models/prohibited-items")
    let versions = try FileManager.default.contentsOfDirectory(atPath: base.path).compactMap(Int.init)
    let newest = try #require(versions.max(), "no committed default model under \(base.path)")
    return base.appending(path: String(newest))
}

/// The newest default model, loaded and verified once for the suites that only read it.
let defaultModel = Result { try LoadedModel.load(directory: try defaultModelDirectory().path) }

/// A storage directory in /tmp that tests publish versions into, as operators do.
struct TestStorage {
    let root: URL
    let model = "prohibited-items"

    init() throws {
        root = FileManager.default.temporaryDirectory.appending(path: "vigia-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appending(path: model), withIntermediateDirectories: true)
    }

    var modelDirectory: URL { root.appending(path: model) }

    /// Copies the default model into a dot-directory with its manifest renumbered, then
    /// renames it into place: an atomic publication. `corrupt` flips a byte of the weights
    /// (a checksum failure); `renameIntoPlace: false` leaves a half-copied dot-directory.
    @discardableResult
    func publish(
        version: Int, corrupt: Bool = false, renameIntoPlace: Bool = true, edit: (inout JSONObject) -> Void = { _ in }
    ) throws -> URL {
        let source = try defaultModelDirectory()
        let staging = modelDirectory.appending(path: ".incoming-\(version)")
        try FileManager.default.copyItem(at: source, to: staging)
        let manifestURL = staging.appending(path: "model.json")
        guard case .object(var manifest) = try JSONParser.parse(Array(try Data(contentsOf: manifestURL))) else {
            throw ClientError(description: "manifest is not an object")
        }
        manifest["version"] = .number(Double(version))
        edit(&manifest)
        try Data(JSONWriter.encode(.object(manifest))).write(to: manifestURL)
        if corrupt {
            let weightsURL = staging.appending(path: "weights.bin")
            var weights = try Data(contentsOf: weightsURL)
            weights[weights.count / 2] ^= 0xFF
            try weights.write(to: weightsURL)
        }
        // copyItem keeps the source's timestamps; a publication is new, as `cp -r` makes it
        // (the registry reports the directory's mtime as the publication time).
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: staging.path)
        let final = modelDirectory.appending(path: String(version))
        if renameIntoPlace { try FileManager.default.moveItem(at: staging, to: final) }
        return renameIntoPlace ? final : staging
    }

    func remove(version: Int) throws {
        try FileManager.default.removeItem(at: modelDirectory.appending(path: String(version)))
    }

    func destroy() { try? FileManager.default.removeItem(at: root) }
}

/// Writes `<storage>/<model>/<name>` as operators are told to: a dot-file renamed into place.
func publishFile(_ storage: TestStorage, _ name: String, _ text: String) throws {
    let staging = storage.modelDirectory.appending(path: ".\(name)")
    try Data(text.utf8).write(to: staging)
    #expect(Glibc.rename(staging.path, storage.modelDirectory.appending(path: name).path) == 0)
}

/// Runs a real VigiaService on 127.0.0.1 port 0 over `storage`.
func withService(
    storage: TestStorage, environment: [String: String] = [:], logLevel: Logger.Level = .error,
    logSink: LogSink = LogSink { _ in }, hooks: VigiaService.TestHooks = .init(), _ body: (VigiaService, Int) throws -> Void
) throws {
    var env = ["VIGIA_SERVER_PORT": "0", "VIGIA_SERVER_EVENT_LOOPS": "2", "VIGIA_LOGGING_ACCESS_LOG": "false",
               "VIGIA_STORAGE_PATH": storage.root.path, "VIGIA_STORAGE_RESCAN_INTERVAL_SECONDS": "3600"]
    env.merge(environment) { _, new in new }
    let configuration = try ServiceConfiguration.resolve(file: repositoryRoot.appending(path: "config/vigia.json").path, environment: env)
    let logger = Logger(label: "vigia.test") { label in
        JSONLogHandler(label: label, level: logLevel, sink: logSink)
    }
    let service = VigiaService(configuration: configuration, logger: logger, logSink: logSink, testsOnly: hooks)
    let port = try service.start()
    defer { service.shutdown() }
    service.registry.testsOnly_pollNow()
    try body(service, port)
}

let listingJSON = #"{"id":"L1","site_id":"MLB","title":"Pistola 9mm glock com carregador extra","category_id":"MLB1234","price_usd":850,"seller_age_days":3,"seller_sales":0,"seller_reputation":"new"}"#
let benignJSON = #"{"id":"L2","site_id":"MLA","title":"Pistola de silicona caliente 40w para manualidades","category_id":"MLA1234","price_usd":12.5,"seller_age_days":900,"seller_sales":340,"seller_reputation":"gold"}"#
let predictPath = "/v1/models/prohibited-items:predict"

func json(_ response: ClientResponse) throws -> JSONValue {
    try JSONParser.parse(response.body)
}

/// Clients that POST predictions in a loop on keep-alive connections until stopped,
/// recording every answer, so tests can prove that swaps never fail a request.
final class PredictionLoad: Sendable {
    struct Tally: Sendable {
        var ok = 0
        var failures: [String] = []
        var versionsSeen: Set<Int> = []
    }

    private let tally = Mutex(Tally())
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Int>(0)
    private let clients: Int

    init(port: Int, clients: Int = 2) {
        self.clients = clients
        for _ in 0..<clients {
            let thread = Thread { [self] in
                defer { finished.add(1, ordering: .releasing) }
                do {
                    let client = try TestClient(port: port)
                    while !stopping.load(ordering: .acquiring) {
                        let response = try client.postJSON(predictPath, #"{"instances":[\#(listingJSON),\#(benignJSON)]}"#)
                        let body = try? JSONParser.parse(response.body)
                        tally.withLock { tally in
                            if response.status == 200, let version = body?["model_version"]?.numberValue {
                                tally.ok += 1
                                tally.versionsSeen.insert(Int(version))
                            } else {
                                tally.failures.append("\(response.status): \(response.text)")
                            }
                        }
                    }
                } catch {
                    tally.withLock { $0.failures.append("client error: \(error)") }
                }
            }
            thread.start()
        }
    }

    var snapshot: Tally { tally.withLock { $0 } }

    /// Waits (with a deadline) until `more` further requests have been answered.
    func waitForRequests(_ more: Int) {
        let target = snapshot.ok + snapshot.failures.count + more
        _ = eventually(within: 60) { snapshot.ok + snapshot.failures.count >= target }
    }

    func stop() -> Tally {
        stopping.store(true, ordering: .releasing)
        _ = eventually(within: 60) { finished.load(ordering: .acquiring) >= clients }
        return snapshot
    }
}

/// Every log line the service wrote.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])
    var sink: LogSink { LogSink { bytes in self.lines.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) } } }
    var all: [String] { lines.withLock { $0 } }
    var text: String { all.joined() }
}
