import FoundationEssentials
import Glibc
import Registry
import Synchronization
import Testing

/// Counts live `ScoreModel`s, so tests can see memory freed when the last handle goes.
final class LiveCounter: Sendable {
    private let count = Atomic<Int>(0)
    var live: Int { count.load(ordering: .acquiring) }
    func increment() { count.add(1, ordering: .acquiringAndReleasing) }
    func decrement() { count.subtract(1, ordering: .acquiringAndReleasing) }
}

/// The servable of the test loader: a constant score, read from `model.json`.
final class ScoreModel: Sendable {
    let version: Int
    let score: Double
    private let counter: LiveCounter

    init(version: Int, score: Double, counter: LiveCounter) {
        self.version = version
        self.score = score
        self.counter = counter
        counter.increment()
    }

    deinit { counter.decrement() }
}

/// A real file-based loader for a tiny format: `<dir>/model.json` = `{"score": 0.7}`
/// with 0 ≤ score ≤ 1. Anything else is a descriptive error.
struct ScoreLoader: ServableLoader {
    let counter = LiveCounter()

    struct Manifest: Decodable {
        var score: Double
    }

    struct InvalidModel: Error, CustomStringConvertible {
        var description: String
    }

    func load(name: String, version: Int, directory: String) throws -> ScoreModel {
        let path = directory + "/model.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidModel(description: "cannot read \(path)")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw InvalidModel(description: "model.json is not a valid manifest: \(error)")
        }
        guard (0...1).contains(manifest.score) else {
            throw InvalidModel(description: "score \(manifest.score) is outside 0...1")
        }
        return ScoreModel(version: version, score: manifest.score, counter: counter)
    }
}

/// A clock tests move by hand (for retry backoff).
final class ManualClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(seconds: Double) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Collects events in order.
final class EventLog: Sendable {
    private let events = Mutex<[RegistryEvent]>([])
    var all: [RegistryEvent] { events.withLock { $0 } }
    func record(_ event: RegistryEvent) { events.withLock { $0.append(event) } }
    func clear() { events.withLock { $0.removeAll() } }
}

/// A real temporary storage directory, removed on deinit.
final class TempStorage {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/vigia-registry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func modelPath(_ model: String) -> String { "\(path)/\(model)" }
    func versionPath(_ model: String, _ version: Int) -> String { "\(path)/\(model)/\(version)" }

    /// Publishes the way the docs tell users to: write under a dot name, then rename.
    func publish(_ model: String, version: Int, manifest: String) throws {
        let staging = try stage(model, name: ".\(version).tmp", manifest: manifest)
        try rename(staging, to: versionPath(model, version))
    }

    func publish(_ model: String, version: Int, score: Double) throws {
        try publish(model, version: version, manifest: #"{"score": \#(score)}"#)
    }

    /// Writes a version directory under `name` (e.g. a dot name) without publishing it.
    @discardableResult
    func stage(_ model: String, name: String, manifest: String) throws -> String {
        let directory = "\(modelPath(model))/\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeManifest(directory, manifest)
        return directory
    }

    func writeManifest(_ directory: String, _ manifest: String) throws {
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: directory + "/model.json"))
    }

    func rename(_ from: String, to: String) throws {
        try FileManager.default.moveItem(atPath: from, toPath: to)
    }

    func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: path)
    }
}

typealias TestRegistry = ModelRegistry<ScoreLoader>

func makeRegistry(
    _ storage: TempStorage, required: [String] = [], clock: ManualClock = ManualClock(),
    events: EventLog = EventLog(), loader: ScoreLoader = ScoreLoader()
) -> TestRegistry {
    ModelRegistry(
        configuration: RegistryConfiguration(
            storagePath: storage.path, requiredModels: required,
            retryBackoffBase: .seconds(1), retryBackoffMax: .seconds(8)),
        loader: loader, onEvent: { events.record($0) }, now: { clock.now })
}

extension ModelStatus {
    func version(_ number: Int) -> VersionStatus? { versions.first { $0.version == number } }
}
