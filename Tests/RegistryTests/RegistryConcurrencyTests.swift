import Dispatch
import FoundationEssentials
import Synchronization
import Testing
@testable import Registry

@Suite(.timeLimit(.minutes(10))) struct RegistryConcurrencyTests {
    @Test func readersTakingHandlesWhileVersionsSwapNeverSeeAMissingVersion() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        try storage.publish("fraud", version: 1, score: 0.01)
        registry.testsOnly_pollNow()

        let writerDone = Atomic<Bool>(false)
        let failures = Atomic<Int>(0)
        let handlesTaken = Atomic<Int>(0)
        let readers = try (0..<8).map { _ in
            try JoinableThread.spawn {
                var lastSeen = 0
                // Bounded: stops when the writer is done or after a fixed number of handles.
                for _ in 0..<2_000_000 {
                    if writerDone.load(ordering: .acquiring) { break }
                    do {
                        let handle = try registry.handle(model: "fraud")
                        if handle.servable.version != handle.version || handle.version < lastSeen {
                            failures.add(1, ordering: .relaxed)
                        }
                        lastSeen = handle.version
                        handlesTaken.add(1, ordering: .relaxed)
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }

        // The writer publishes 40 versions and deletes old ones, so every swap also unloads.
        for version in 2...40 {
            try storage.publish("fraud", version: version, score: Double(version) / 100)
            registry.testsOnly_pollNow()
            if version > 2 { try storage.remove(storage.versionPath("fraud", version - 2)) }
            registry.testsOnly_pollNow()
        }
        writerDone.store(true, ordering: .releasing)
        for reader in readers { reader.join() }

        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(handlesTaken.load(ordering: .relaxed) > 0)
        #expect(try registry.handle(model: "fraud").version == 40)
        let loaded = registry.status(model: "fraud")?.versions.filter { $0.state == .available }.map(\.version)
        #expect(loaded == [40, 39])
    }
}

/// The watcher thread: inotify and the stop eventfd, with a condition wait (deadline) on
/// the registry's own events instead of sleeping.
@Suite(.timeLimit(.minutes(10))) struct RegistryWatcherTests {
    /// A started registry over `configuration` whose events arrive on the returned stream.
    func startedRegistry(_ configuration: RegistryConfiguration) throws -> (TestRegistry, AsyncStream<RegistryEvent>) {
        let (stream, continuation) = AsyncStream<RegistryEvent>.makeStream()
        let registry = ModelRegistry(configuration: configuration, loader: ScoreLoader(), onEvent: { continuation.yield($0) })
        try registry.start()
        return (registry, stream)
    }

    /// Waits until an event matches or the deadline passes.
    func waitForEvent(
        _ stream: AsyncStream<RegistryEvent>, within deadline: Duration,
        _ matches: @escaping @Sendable (RegistryEvent) -> Bool
    ) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await event in stream where matches(event) { return true }
                return false
            }
            group.addTask {
                // The deadline is a timer that ends the wait (or is cancelled when the event
                // arrives), not a pause before checking state.
                let (seconds, attoseconds) = deadline.components
                let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
                let timer = DeadlineTimer()
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                        timer.arm(waiter)
                        if Task.isCancelled { timer.fire() }
                        DispatchQueue.global().asyncAfter(deadline: DispatchTime.now() + .nanoseconds(nanoseconds)) { timer.fire() }
                    }
                } onCancel: {
                    timer.fire()
                }
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    @Test func watcherPicksUpAVersionRenamedIntoPlace() async throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 1, score: 0.1)
        // A rescan interval of an hour: only inotify can make the second version appear.
        let (registry, stream) = try startedRegistry(RegistryConfiguration(
            storagePath: storage.path, rescanInterval: .seconds(3600), debounce: .milliseconds(10)))
        defer { registry.shutdown() }

        #expect(await waitForEvent(stream, within: .seconds(20)) {
            $0 == .servingChanged(model: "fraud", from: nil, to: 1)
        })
        #expect(registry.isReady)

        try storage.publish("fraud", version: 2, score: 0.2)
        #expect(await waitForEvent(stream, within: .seconds(20)) {
            $0 == .servingChanged(model: "fraud", from: 1, to: 2)
        })
        #expect(try registry.handle(model: "fraud").version == 2)
    }

    @Test func watcherPicksUpANewModelDirectory() async throws {
        let storage = try TempStorage()
        let (registry, stream) = try startedRegistry(RegistryConfiguration(
            storagePath: storage.path, rescanInterval: .seconds(3600), debounce: .milliseconds(10)))
        defer { registry.shutdown() }
        try storage.publish("weapons", version: 3, score: 0.3)
        #expect(await waitForEvent(stream, within: .seconds(20)) {
            $0 == .servingChanged(model: "weapons", from: nil, to: 3)
        })
    }

    @Test func periodicRescanFindsChangesWithoutEvents() async throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 1, score: 0.1)
        // A debounce of an hour: inotify events never trigger a pass, only the rescan does.
        let (registry, stream) = try startedRegistry(RegistryConfiguration(
            storagePath: storage.path, rescanInterval: .milliseconds(50), debounce: .seconds(3600)))
        defer { registry.shutdown() }
        #expect(await waitForEvent(stream, within: .seconds(20)) {
            $0 == .servingChanged(model: "fraud", from: nil, to: 1)
        })
        try storage.publish("fraud", version: 2, score: 0.2)
        #expect(await waitForEvent(stream, within: .seconds(20)) {
            $0 == .servingChanged(model: "fraud", from: 1, to: 2)
        })
    }

    @Test func shutdownStopsTheWatcherAndIsIdempotent() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        try registry.start()
        try registry.start()
        registry.shutdown()
        registry.shutdown()
        // After shutdown, reloadNow runs on the caller's thread.
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.reloadNow()
        #expect(try registry.handle(model: "fraud").version == 1)
    }
}

extension RegistryWatcherTests {
    @Test func watcherRetriesAFailedVersionWhenItsBackoffIsDue() async throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 1, manifest: "broken")
        // Neither rescans nor inotify events can trigger the pass: only the retry timer can.
        let (registry, stream) = try startedRegistry(RegistryConfiguration(
            storagePath: storage.path, rescanInterval: .seconds(3600), debounce: .seconds(3600),
            retryBackoffBase: .milliseconds(20), retryBackoffMax: .milliseconds(20)))
        defer { registry.shutdown() }
        #expect(await waitForEvent(stream, within: .seconds(20)) {
            if case .loadFailed(model: "fraud", version: 1, _, _, _) = $0 { return true }
            return false
        })
        try storage.writeManifest(storage.versionPath("fraud", 1), #"{"score": 0.5}"#)
        #expect(await waitForEvent(stream, within: .seconds(20)) {
            $0 == .servingChanged(model: "fraud", from: nil, to: 1)
        })
        #expect(try registry.handle(model: "fraud").servable.score == 0.5)
    }
}

/// Resumes one waiter exactly once, from the timer or from cancellation, whichever is first.
final class DeadlineTimer: Sendable {
    private let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let fired = Mutex(false)

    func arm(_ continuation: CheckedContinuation<Void, Never>) {
        let early = fired.withLock { $0 }
        if early { continuation.resume() } else { waiter.withLock { $0 = continuation } }
        if fired.withLock({ $0 }) { waiter.withLock { $0.take() }?.resume() }
    }

    func fire() {
        fired.withLock { $0 = true }
        waiter.withLock { $0.take() }?.resume()
    }
}

extension RegistryWatcherTests {
    /// Deleting a watched directory makes the kernel drop its watch (IN_IGNORED): the watcher
    /// must watch the directory again once it is back, or versions published into it later
    /// would wait for the hourly rescan. Both for a model directory and for the storage root.
    @Test(arguments: ["model directory", "storage root"])
    func aDirectoryDeletedAndRecreatedIsWatchedAgain(_ which: String) async throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 1, score: 0.1)
        let (registry, stream) = try startedRegistry(RegistryConfiguration(
            storagePath: storage.path, rescanInterval: .seconds(3600), debounce: .milliseconds(10)))
        defer { registry.shutdown() }
        #expect(await waitForEvent(stream, within: .seconds(20)) { $0 == .servingChanged(model: "fraud", from: nil, to: 1) })

        try storage.remove(which == "storage root" ? storage.path : storage.modelPath("fraud"))
        #expect(await waitForEvent(stream, within: .seconds(20)) {
            if case .storageError = $0 { return true }
            return false
        })
        #expect(try registry.handle(model: "fraud").version == 1, "the loaded copy keeps serving")

        try FileManager.default.createDirectory(atPath: storage.path, withIntermediateDirectories: true)
        try storage.publish("fraud", version: 2, score: 0.2)
        #expect(await waitForEvent(stream, within: .seconds(20)) { $0 == .servingChanged(model: "fraud", from: 1, to: 2) })
        // And the new directory's watch works for the next version too.
        try storage.publish("fraud", version: 3, score: 0.3)
        #expect(await waitForEvent(stream, within: .seconds(20)) { $0 == .servingChanged(model: "fraud", from: 2, to: 3) })
    }
}

/// Blocks the load of one version until released. The watcher thread both loads and reads
/// the inotify queue, so while it waits here events pile up in the kernel.
struct BlockingLoader: ServableLoader {
    let inner = ScoreLoader()
    let blockedVersion: Int
    let entered = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)

    func load(name: String, version: Int, directory: String) throws -> ScoreModel {
        if version == blockedVersion {
            entered.signal()
            release.wait()
        }
        return try inner.load(name: name, version: version, directory: directory)
    }
}

extension RegistryWatcherTests {
    /// More events than the kernel queues (fs.inotify.max_queued_events) arrive while the
    /// watcher is busy: the queue overflows, and the watcher still sees the next version
    /// through inotify alone (the rescan is an hour away).
    @Test func aVersionPublishedAfterTheEventQueueOverflowedIsStillPickedUp() async throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 1, score: 0.1)
        let loader = BlockingLoader(blockedVersion: 2)
        let (stream, continuation) = AsyncStream<RegistryEvent>.makeStream()
        let registry = ModelRegistry(
            configuration: RegistryConfiguration(storagePath: storage.path, rescanInterval: .seconds(3600), debounce: .milliseconds(10)),
            loader: loader, onEvent: { continuation.yield($0) })
        try registry.start()
        defer {
            loader.release.signal()
            registry.shutdown()
        }
        #expect(await waitForEvent(stream, within: .seconds(20)) { $0 == .servingChanged(model: "fraud", from: nil, to: 1) })

        try storage.publish("fraud", version: 2, score: 0.2)
        #expect(loader.entered.wait(timeout: .now() + 20) == .success, "the watcher is loading version 2")
        let queueLimit = Int((try String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))
            .filter(\.isNumber)) ?? 16384
        // Each file is a create and a close-after-write event on the watched storage root;
        // dot-names are ignored by scans.
        for index in 0..<(queueLimit / 2 + 1000) {
            #expect(FileManager.default.createFile(atPath: "\(storage.path)/.burst-\(index)", contents: Data([1])))
        }
        loader.release.signal()
        #expect(await waitForEvent(stream, within: .seconds(20)) { $0 == .servingChanged(model: "fraud", from: 1, to: 2) })

        try storage.publish("fraud", version: 3, score: 0.3)
        #expect(await waitForEvent(stream, within: .seconds(20)) { $0 == .servingChanged(model: "fraud", from: 2, to: 3) })
    }
}
