import FoundationEssentials
import Posix
import Synchronization

/// How the registry finds, loads and retries model versions.
public struct RegistryConfiguration: Sendable {
    /// The storage directory: `<storagePath>/<model>/<version>/`.
    public var storagePath: String
    /// Models that must serve before the process is ready. Empty (the default): ready as
    /// soon as any model serves.
    public var requiredModels: [String]
    /// Full rescan period, for filesystems that do not deliver inotify events
    /// (Kubernetes volumes, NFS). Default 5 s.
    public var rescanInterval: Duration
    /// Quiet time after an inotify event before rescanning, so a burst of events (a copy,
    /// a rename) becomes one pass. Default 100 ms.
    public var debounce: Duration
    /// Delay before the first retry of a failed load; doubles per failure. Default 1 s.
    public var retryBackoffBase: Duration
    /// Longest delay between retries. Default 5 min.
    public var retryBackoffMax: Duration

    public init(
        storagePath: String, requiredModels: [String] = [], rescanInterval: Duration = .seconds(5),
        debounce: Duration = .milliseconds(100), retryBackoffBase: Duration = .seconds(1),
        retryBackoffMax: Duration = .seconds(300)
    ) {
        self.storagePath = storagePath
        self.requiredModels = requiredModels
        self.rescanInterval = rescanInterval
        self.debounce = debounce
        self.retryBackoffBase = retryBackoffBase
        self.retryBackoffMax = retryBackoffMax
    }

    /// The delay before retry number `failures` (1-based): base · 2^(failures−1), capped.
    public func retryDelay(afterFailures failures: Int) -> Duration {
        var delay = retryBackoffBase
        for _ in 1..<max(failures, 1) {
            if delay >= retryBackoffMax { break }
            delay = delay * 2
        }
        return min(delay, retryBackoffMax)
    }
}

/// The model registry: watches the storage directory, loads and validates versions off
/// the request path, applies the version policy, and publishes one immutable snapshot per
/// model that request handlers read through `handle(model:selector:)`.
///
/// Threads: one watcher thread (after `start()`) scans, loads and publishes; request
/// threads only read published snapshots; admin calls change labels and pins from any
/// thread. Call `shutdown()` before dropping the registry: the watcher thread holds it.
public final class ModelRegistry<Loader: ServableLoader>: Sendable {
    public typealias Servable = Loader.Servable

    public let configuration: RegistryConfiguration
    private let loader: Loader
    private let onEvent: @Sendable (RegistryEvent) -> Void
    private let now: @Sendable () -> Date
    private let requiredModels: Set<String>

    /// What request handlers read. Guarded by its own lock, held only to copy one reference,
    /// so taking a handle never waits for a load, a scan or an admin call. Visible to the
    /// inlinable request path, so that callers specialize it for their servable: unspecialized,
    /// each dictionary and optional of `Servable` is a runtime metadata lookup per request.
    @usableFromInline let published = Mutex<[String: ModelSnapshot<Servable>]>([:])

    /// Everything decisions are made from (per-model state, storage error). Held for
    /// bookkeeping only, never across a load or a directory read. Lock order: `control`
    /// then `published`.
    private let control = Mutex<ControlState>(ControlState())

    /// Serializes passes (watcher thread, `testsOnly_pollNow`); held across loads.
    private let passLock = Mutex<Void>(())

    /// Serializes writing and removing `rollout-abort.json` files (the monitor's thread writes,
    /// a pass removes stale ones); held for those file operations only.
    private let abortFiles = Mutex<Void>(())

    /// The running watcher, if started. Guarded by its Mutex.
    private let watcher = Mutex<(watcher: Watcher, thread: JoinableThread)?>(nil)

    private struct ControlState {
        var models: [String: ModelState<Servable>] = [:]
        var storageError: String?
        /// The clock reading of the last policy decision in a pass: retries due after it
        /// have not been considered yet, even if they are overdue by now.
        var lastDecisionAt: Date = .distantPast
    }

    /// - Parameters:
    ///   - onEvent: called for every load, failure, unload, serving change and storage
    ///     problem (see `RegistryEvent`); keep it quick.
    ///   - now: the clock for load times and retry backoff (tests inject one).
    public init(
        configuration: RegistryConfiguration, loader: Loader,
        onEvent: @escaping @Sendable (RegistryEvent) -> Void = { _ in },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.loader = loader
        self.onEvent = onEvent
        self.now = now
        self.requiredModels = Set(configuration.requiredModels)
    }

    // MARK: Lifecycle

    /// Starts the watcher thread, which runs a first pass at once. Readiness stays false
    /// until the required models serve.
    public func start() throws(SystemError) {
        try watcher.withLock { (running) throws(SystemError) in
            guard running == nil else { return }
            let newWatcher = try Watcher()
            let hooks = Watcher.Hooks(
                runPass: { [self] in runPass() },
                directoriesToWatch: { [self] in directoriesToWatch() },
                untilNextRetry: { [self] in untilNextRetry() },
                reportProblem: { [self] in onEvent(.storageError(model: nil, reason: $0)) })
            let interval = configuration.rescanInterval
            let debounce = configuration.debounce
            do throws(SystemError) {
                let thread = try JoinableThread.spawn {
                    newWatcher.run(rescanInterval: interval, debounce: debounce, hooks: hooks)
                }
                running = (newWatcher, thread)
            } catch {
                newWatcher.wakeup.close()
                throw error
            }
        }
    }

    /// Stops and joins the watcher thread (waits for a load in progress). Idempotent.
    public func shutdown() {
        guard let running = watcher.withLock({ running in
            defer { running = nil }
            return running
        }) else { return }
        running.watcher.stop()
        running.thread.join()
        running.watcher.wakeup.close()
    }

    // MARK: Request path

    /// Pins one loaded version for a request: keep the handle until the response is
    /// written. Never blocks on loading; takes one short lock.
    @inlinable
    public func handle(
        model: String, selector: VersionSelector = .serving
    ) throws(RegistryError) -> ServableHandle<Servable> {
        guard let snapshot = published.withLock({ $0[model] }) else { throw .unknownModel(model) }
        return try snapshot.handle(selector)
    }

    /// The published snapshot of one model (nil: unknown model).
    @inlinable
    public func snapshot(model: String) -> ModelSnapshot<Servable>? {
        published.withLock { $0[model] }
    }

    /// Ready when every required model has a serving version; with no required models,
    /// when at least one model serves. Never ready with zero models.
    public var isReady: Bool {
        published.withLock { snapshots in
            if requiredModels.isEmpty {
                return snapshots.values.contains { $0.servingVersion != nil }
            }
            return requiredModels.allSatisfy { snapshots[$0]?.servingVersion != nil }
        }
    }

    // MARK: Status

    /// Every known model (in storage, required, or still serving from memory), by name.
    public func status() -> [ModelStatus] {
        let time = now()
        return control.withLock { state in
            state.models.keys.sorted().map { name in
                state.models[name]!.status(
                    model: name, required: requiredModels.contains(name), now: time)
            }
        }
    }

    /// One model's status; nil for an unknown model.
    public func status(model: String) -> ModelStatus? {
        let time = now()
        return control.withLock { state in
            state.models[model]?.status(model: model, required: requiredModels.contains(model), now: time)
        }
    }

    /// Why the storage directory itself could not be read at the last scan (nil: fine).
    public var storageError: String? {
        control.withLock { $0.storageError }
    }

    // MARK: Admin

    /// Rescans now and retries failed versions at once (resets their backoff). Returns
    /// immediately when the watcher runs (see `status()` for the outcome); without a
    /// watcher the pass runs on the caller's thread.
    public func reloadNow() {
        control.withLock { state in
            for (name, model) in state.models {
                for (version, record) in model.versions {
                    if case .failed = record.state { state.models[name]?.versions[version]?.nextRetry = nil }
                }
            }
        }
        if let running = watcher.withLock({ $0 }) {
            running.watcher.requestPass()
        } else {
            runPass()
        }
    }

    /// Points `label` at an available version (creating or moving the label).
    public func setLabel(model: String, label: String, version: Int) throws(RegistryAdminError) {
        guard StorageSource.isValidModelName(label) else { throw .invalidLabelName(label) }
        try adminChange(model: model) { (state) throws(RegistryAdminError) in
            guard state.versions[version]?.loaded != nil else {
                throw .versionNotAvailable(model: model, version: version)
            }
            state.labels[label] = version
            state.pendingLabels[label] = nil
        }
    }

    /// Removes a label; the version it pointed at may then be unloaded by the policy.
    public func removeLabel(model: String, label: String) throws(RegistryAdminError) {
        try adminChange(model: model) { (state) throws(RegistryAdminError) in
            let wasPending = state.pendingLabels.removeValue(forKey: label) != nil
            guard state.labels.removeValue(forKey: label) != nil || wasPending else {
                throw .unknownLabel(model: model, label: label)
            }
        }
    }

    /// Serves `version` (which must be available) until `unpin`, whatever is newer.
    public func pin(model: String, version: Int) throws(RegistryAdminError) {
        try adminChange(model: model) { (state) throws(RegistryAdminError) in
            guard state.versions[version]?.loaded != nil else {
                throw .versionNotAvailable(model: model, version: version)
            }
            state.pinned = version
        }
    }

    /// Back to the default: serve the newest available version.
    public func unpin(model: String) throws(RegistryAdminError) {
        try adminChange(model: model) { state in state.pinned = nil }
    }

    /// Pins the previous serving version (still loaded, so the switch is instant).
    /// Returns the version now serving. `unpin` undoes it.
    @discardableResult
    public func rollback(model: String) throws(RegistryAdminError) -> Int {
        var target = 0
        try adminChange(model: model) { (state) throws(RegistryAdminError) in
            guard let previous = state.previous, state.versions[previous]?.loaded != nil else {
                throw .noPreviousVersion(model: model)
            }
            state.pinned = previous
            target = previous
        }
        return target
    }

    // MARK: Rollout

    /// Puts `spec` in force on this replica, over `rollout.json`, until `clearRollout` or a
    /// restart; a stopped canary answers again. The versions it names are loaded by the next pass.
    public func setRollout(model: String, spec: RolloutSpec) throws(RegistryAdminError) {
        try adminChange(model: model) { state in
            state.rolloutOverride = spec
            state.rolloutAbort = nil
        }
        reloadNow()
    }

    /// Back to `rollout.json` (or no rollout without one); a stopped canary answers again.
    public func clearRollout(model: String) throws(RegistryAdminError) {
        try adminChange(model: model) { state in
            state.rolloutOverride = nil
            state.rolloutAbort = nil
        }
        reloadNow()
    }

    /// The canary becomes the serving version on this replica (pinned, as `pin`) and the
    /// rollout ends here (as if the admin rollout were empty). Returns the version now serving.
    @discardableResult
    public func promote(model: String) throws(RegistryAdminError) -> Int {
        var target = 0
        try adminChange(model: model) { (state) throws(RegistryAdminError) in
            guard let canary = state.rollout?.canary else { throw .noCanary(model: model) }
            guard state.versions[canary.version]?.loaded != nil else {
                throw .versionNotAvailable(model: model, version: canary.version)
            }
            state.pinned = canary.version
            state.rolloutOverride = RolloutSpec()
            state.rolloutAbort = nil
            target = canary.version
        }
        return target
    }

    /// Stops the canary on this replica (weight 0; the shadow keeps scoring) until a new
    /// rollout. With `canaryVersion`, only if that is still the canary (a guard judging an old
    /// rollout must not stop a new one). Returns the abort, or nil when it was already stopped.
    ///
    /// An automatic abort (a guard fired) of `rollout.json`'s rollout is also written to
    /// `<storage>/<model>/rollout-abort.json`, so it holds after a restart and on every replica
    /// reading the storage, until `rollout.json` changes. When that write fails the abort holds
    /// in memory, and `recordError` says why. An admin abort, or one of an admin rollout, is
    /// this replica's alone.
    @discardableResult
    public func abortCanary(
        model: String, reason: String, automatic: Bool, canaryVersion: Int? = nil
    ) throws(RegistryAdminError) -> RolloutAbort? {
        var made: RolloutAbort?
        var record: RecordedAbort?
        let time = now()
        try adminChange(model: model) { (state) throws(RegistryAdminError) in
            guard let spec = state.rollout, let canary = spec.canary, canaryVersion == nil || canaryVersion == canary.version else {
                throw .noCanary(model: model)
            }
            guard state.abort == nil else { return }
            let abort = RolloutAbort(reason: reason, automatic: automatic, at: time)
            state.rolloutAbort = abort
            made = abort
            if automatic, state.rolloutOverride == nil { record = RecordedAbort(rollout: spec, reason: reason, at: time) }
        }
        guard let record, var abort = made else { return made }
        let directory = "\(configuration.storagePath)/\(model)"
        do throws(SystemError) {
            try abortFiles.withLock { _ throws(SystemError) in try StorageSource.writeRolloutAbortFile(record, directory: directory) }
        } catch {
            abort.recordError = "cannot write \(directory)/\(RecordedAbort.fileName): \(error)"
            control.withLock { state in
                if state.models[model]?.rolloutAbort?.at == time { state.models[model]?.rolloutAbort = abort }
            }
        }
        return abort
    }

    // MARK: Tests

    /// Runs one full pass (scan, load, publish) on the caller's thread; everything is
    /// published when it returns. Tests use it instead of waiting for the watcher.
    public func testsOnly_pollNow() {
        runPass()
    }

    // MARK: The pass

    /// Scan storage, then alternate "decide + publish" and "load" until nothing is left
    /// to load (a failed load may make the policy try an older version in the same pass).
    private func runPass() {
        passLock.withLock { _ in
            let scan = StorageSource.scan(
                storage: configuration.storagePath, requiredModels: requiredModels)
            let (events, stale) = control.withLock { state in
                (absorb(scan, into: &state), state.models.compactMap { name, model in model.staleRecordedAbort.map { (name, $0) } })
            }
            emit(events)
            // A guard abort recorded for a rollout rollout.json no longer names is done with.
            for (name, recorded) in stale {
                abortFiles.withLock { _ in
                    StorageSource.removeRolloutAbortFile(recorded, directory: "\(configuration.storagePath)/\(name)")
                }
            }

            // Bounded: every round either loads a version that was not loading before or stops.
            for _ in 0..<64 {
                let (jobs, events) = control.withLock { state in
                    let time = now()
                    state.lastDecisionAt = time
                    return decideAndPublish(&state, now: time, startLoads: true)
                }
                emit(events)
                if jobs.isEmpty { break }
                for job in jobs { emit(load(job)) }
            }
        }
    }

    private struct LoadJob {
        var model: String
        var version: Int
    }

    private func load(_ job: LoadJob) -> [RegistryEvent] {
        let directory = "\(configuration.storagePath)/\(job.model)/\(job.version)"
        let clock = ContinuousClock()
        let started = clock.now
        let result: Result<Servable, any Error>
        do {
            result = .success(try loader.load(name: job.model, version: job.version, directory: directory))
        } catch {
            result = .failure(error)
        }
        let duration = clock.now - started
        let time = now()
        return control.withLock { state in
            guard var record = state.models[job.model]?.versions[job.version] else { return [] }
            record.attempts += 1
            let event: RegistryEvent
            switch result {
            case .success(let servable):
                record.state = .ready(LoadedVersion(
                    model: job.model, version: job.version, servable: servable, loadedAt: time))
                record.consecutiveFailures = 0
                record.lastError = nil
                record.nextRetry = nil
                event = .loaded(model: job.model, version: job.version, duration: duration)
            case .failure(let error):
                record.state = .failed
                record.consecutiveFailures += 1
                record.lastError = String(describing: error)
                let delay = configuration.retryDelay(afterFailures: record.consecutiveFailures)
                let retry = time.addingTimeInterval(delay.seconds)
                record.nextRetry = retry
                event = .loadFailed(
                    model: job.model, version: job.version, reason: String(describing: error),
                    attempts: record.attempts, nextRetry: retry)
            }
            state.models[job.model]?.versions[job.version] = record
            // Publish in the same locked step, so the status never says "available" for a
            // version a request cannot have yet. Loads it would start are the pass's next round.
            return [event] + decideAndPublish(&state, now: time, startLoads: false).events
        }
    }

    /// Folds one scan into the state. A scan error never removes a version: what was
    /// discovered before stays discovered until a successful read says otherwise.
    private func absorb(_ scan: StorageScan, into state: inout ControlState) -> [RegistryEvent] {
        var events: [RegistryEvent] = []
        if state.storageError != scan.storageError {
            if let error = scan.storageError {
                events.append(.storageError(model: nil, reason: error))
            } else {
                events.append(.storageRecovered(model: nil))
            }
            state.storageError = scan.storageError
        }
        if let error = scan.storageError {
            for name in state.models.keys { state.models[name]?.scanError = error }
            for name in requiredModels where state.models[name] == nil {
                state.models[name] = ModelState(scanError: error)
            }
            return events
        }
        for name in state.models.keys where scan.models[name] == nil {
            state.models[name]?.scanError =
                "model directory \(configuration.storagePath)/\(name) does not exist"
            state.models[name]?.directoryMissing = true
        }
        for (name, modelScan) in scan.models {
            var model = state.models[name] ?? ModelState()
            model.directoryMissing = false
            switch modelScan {
            case .unreadable(let reason):
                model.scanError = reason
            case .versions(let found, let labelsFile, let pinFile, let rolloutFile, let abortFile):
                model.scanError = nil
                model.absorbLabelsFile(labelsFile)
                model.absorbPinFile(pinFile)
                model.absorbRolloutFile(rolloutFile)
                model.absorbRolloutAbortFile(abortFile)
                events += reportControlFiles(of: &model, name: name)
                for version in model.versions.keys {
                    model.versions[version]?.inStorage = found[version] != nil
                }
                for (version, discovered) in found {
                    guard var record = model.versions[version] else {
                        model.versions[version] = VersionRecord(
                            inStorage: true, publishedAt: discovered.publishedAt)
                        continue
                    }
                    if record.publishedAt != discovered.publishedAt {
                        // Republished (new directory): a failed version deserves a fresh try.
                        if case .failed = record.state {
                            record.nextRetry = nil
                            record.consecutiveFailures = 0
                        }
                        record.publishedAt = discovered.publishedAt
                    }
                    model.versions[version] = record
                }
            }
            state.models[name] = model
        }
        return events
    }

    /// Events for control-file problems that are new or changed, and for ones that went away.
    private func reportControlFiles(of model: inout ModelState<Servable>, name: String) -> [RegistryEvent] {
        let problems = model.controlFileProblems
        var events: [RegistryEvent] = []
        for file in Set(problems.keys).union(model.reportedFileProblems.keys).sorted()
        where problems[file] != model.reportedFileProblems[file] {
            let path = "\(configuration.storagePath)/\(name)/\(file)"
            if let reason = problems[file] {
                events.append(.controlFileProblem(model: name, path: path, reason: reason))
            } else {
                events.append(.controlFileRecovered(model: name, path: path))
            }
        }
        model.reportedFileProblems = problems
        return events
    }

    /// Runs the policy for every model, applies it, publishes every snapshot.
    private func decideAndPublish(
        _ state: inout ControlState, now: Date, startLoads: Bool
    ) -> (jobs: [LoadJob], events: [RegistryEvent]) {
        var jobs: [LoadJob] = []
        var events: [RegistryEvent] = []
        for name in state.models.keys.sorted() {
            guard var model = state.models[name] else { continue }
            let decision = VersionPolicy.decide(model.policyInput(now: now))
            let (loads, modelEvents) = model.apply(decision, model: name, startLoads: startLoads)
            events += modelEvents
            jobs += loads.map { LoadJob(model: name, version: $0) }
            let issue = model.storageIssue
            if issue != model.reportedIssue {
                if let issue {
                    events.append(.storageError(model: name, reason: issue))
                } else {
                    events.append(.storageRecovered(model: name))
                }
                model.reportedIssue = issue
            }
            // A model whose directory is gone, not required and holding nothing in memory
            // is forgotten (nothing serves, so nothing can be lost).
            if model.directoryMissing, !requiredModels.contains(name), model.holdsNothingInMemory {
                state.models[name] = nil
            } else {
                state.models[name] = model
            }
        }
        var fresh: [String: ModelSnapshot<Servable>] = [:]
        for (name, model) in state.models { fresh[name] = model.snapshot(model: name) }
        // Swap, and let the previous snapshots go after the lock: freeing an unloaded
        // version's memory must not hold up request threads taking handles.
        published.withLock { swap(&$0, &fresh) }
        // The old snapshots are gone now: unloaded versions nobody holds can be forgotten.
        for name in state.models.keys { state.models[name]?.forgetFinishedVersions() }
        return (jobs, events)
    }

    /// Applies an admin change, then the policy, then publishes; loads it asks for are
    /// left to the watcher (or the next pass).
    private func adminChange(
        model: String, _ change: (inout ModelState<Servable>) throws(RegistryAdminError) -> Void
    ) throws(RegistryAdminError) {
        let time = now()
        let result = control.withLock { state -> Result<[RegistryEvent], RegistryAdminError> in
            guard var modelState = state.models[model] else { return .failure(.unknownModel(model)) }
            do throws(RegistryAdminError) {
                try change(&modelState)
            } catch {
                return .failure(error)
            }
            state.models[model] = modelState
            return .success(decideAndPublish(&state, now: time, startLoads: false).events)
        }
        emit(try result.get())
    }

    private func emit(_ events: [RegistryEvent]) {
        for event in events { onEvent(event) }
    }

    // MARK: Watcher hooks

    private func directoriesToWatch() -> [String] {
        let names = control.withLock { Array($0.models.keys) }
        return [configuration.storagePath] + names.sorted().map { "\(configuration.storagePath)/\($0)" }
    }

    private func untilNextRetry() -> Duration? {
        let time = now()
        let earliest = control.withLock { state -> Date? in
            var earliest: Date?
            for model in state.models.values {
                for record in model.versions.values {
                    // A retry that fell due after the last decision is still owed, even when a
                    // slow pass made it overdue: it must wake the watcher (at once), or it
                    // would wait for the next full rescan.
                    guard case .failed = record.state, let retry = record.nextRetry, retry > state.lastDecisionAt
                    else { continue }
                    earliest = min(earliest ?? retry, retry)
                }
            }
            return earliest
        }
        return earliest.map { .milliseconds(max(0, Int64(($0.timeIntervalSince(time) * 1000).rounded(.up)))) }
    }
}

extension Duration {
    /// Seconds as a Double, for Date arithmetic.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
