import FoundationEssentials

/// The loader's internal state for one version (users see `VersionState`).
enum LoaderState<Servable: Sendable> {
    /// Discovered, not loaded (never, or unloaded and already freed).
    case idle
    /// A load is running on the watcher thread.
    case loading
    /// Loaded and validated; in the published snapshot.
    case ready(LoadedVersion<Servable>)
    /// The last load threw.
    case failed
    /// Removed from the snapshot; alive only while request handles hold it.
    case released(WeakLoaded<Servable>)
}

/// A weak reference, so status can tell "unloading" (handles still out) from "gone".
struct WeakLoaded<Servable: Sendable> {
    weak var value: LoadedVersion<Servable>?
}

/// Everything known about one version of one model.
struct VersionRecord<Servable: Sendable> {
    var state: LoaderState<Servable> = .idle
    var inStorage: Bool
    var publishedAt: Date?
    /// Load attempts since discovery (shown to users).
    var attempts = 0
    /// Failures since the last success (drives the backoff).
    var consecutiveFailures = 0
    var lastError: String?
    /// When a failed load becomes due again; nil means due now.
    var nextRetry: Date?

    var loaded: LoadedVersion<Servable>? {
        if case .ready(let loaded) = state { return loaded }
        return nil
    }
}

/// Everything known about one model. Lives inside the registry's control Mutex.
struct ModelState<Servable: Sendable> {
    var versions: [Int: VersionRecord<Servable>] = [:]
    var labels: [String: Int] = [:]
    /// Labels `labels.json` asks for whose version is not available yet.
    var pendingLabels: [String: Int] = [:]
    /// The `labels.json` content last applied (nil: no file), so it is applied on change only.
    var fileLabels: [String: Int]?
    /// Why `labels.json` could not be used (nil: fine or absent).
    var labelsFileError: String?
    /// The admin pin (a rollback is one); this replica only, until unpinned or restarted.
    var pinned: Int?
    /// What `pin.json` asks for (nil: no file); kept when the file becomes unreadable.
    var storagePin: Int?
    /// Why `pin.json` could not be used (nil: fine or absent).
    var pinFileError: String?
    /// What `rollout.json` asks for (nil: no file); kept when the file becomes unreadable.
    var fileRollout: RolloutSpec?
    /// Why `rollout.json` could not be used (nil: fine or absent).
    var rolloutFileError: String?
    /// The admin rollout on this replica (an empty spec: none), overriding the file until cleared.
    var rolloutOverride: RolloutSpec?
    /// The canary stopped on this replica (a guard fired, or `:abort`); cleared by a new rollout.
    var rolloutAbort: RolloutAbort?
    /// What `rollout-abort.json` records (nil: no file, or unusable): a guard abort of an
    /// earlier process or another replica, applying while `rollout.json` names its rollout.
    var recordedAbort: RecordedAbort?
    /// Why `rollout-abort.json` could not be used (nil: fine or absent).
    var rolloutAbortFileError: String?
    /// Control file name → the problem last reported for it, so each is logged once.
    var reportedFileProblems: [String: String] = [:]
    var serving: Int?
    var previous: Int?
    /// Why the last scan could not read this model's directory (nil: it could).
    var scanError: String?
    /// The last successful storage listing did not contain this model's directory.
    var directoryMissing = false
    /// The storage issue last reported by an event, so events fire on change only.
    var reportedIssue: String?

    /// The storage problem users should see: the scan error, or a serving version whose
    /// directory is gone (it keeps serving from memory because nothing else can).
    var storageIssue: String? {
        if let scanError { return scanError }
        if let serving, versions[serving]?.inStorage == false {
            return "serving version \(serving) was removed from storage and no other version is available"
        }
        return nil
    }

    /// No version is loading, loaded, or still held by a request.
    var holdsNothingInMemory: Bool {
        versions.values.allSatisfy { record in
            switch record.state {
            case .idle, .failed: true
            case .loading, .ready: false
            case .released(let weak): weak.value == nil
            }
        }
    }

    func policyInput(now: Date) -> PolicyInput {
        var states: [Int: PolicyVersionState] = [:]
        for (version, record) in versions {
            switch record.state {
            case .idle, .released: break
            case .loading: states[version] = .loading
            case .ready: states[version] = .available
            case .failed: states[version] = .failed(retryDue: (record.nextRetry ?? now) <= now)
            }
        }
        return PolicyInput(
            discovered: Set(versions.filter { $0.value.inStorage }.keys), states: states,
            labels: labels, pinned: pinned, storagePin: storagePin, serving: serving, previous: previous,
            pendingLabels: pendingLabels, rollout: rollout?.versions ?? [])
    }

    /// The rollout in force: the admin one, else the file's; nil when there is none.
    var rollout: RolloutSpec? {
        let spec = rolloutOverride ?? fileRollout
        return spec?.isEmpty == false ? spec : nil
    }

    /// Applies a new `rollout.json`. An unusable file keeps the rollout as it was; a changed
    /// file starts a new rollout (a stopped canary answers again) unless an admin one overrides it.
    mutating func absorbRolloutFile(_ file: RolloutFile) {
        switch file {
        case .invalid(let reason):
            rolloutFileError = reason
        case .absent, .spec:
            rolloutFileError = nil
            let spec: RolloutSpec? = if case .spec(let spec) = file { spec } else { nil }
            guard spec != fileRollout else { return }
            fileRollout = spec
            if rolloutOverride == nil { rolloutAbort = nil }
        }
    }

    /// Applies `rollout-abort.json`. An unusable file is reported and ignored.
    mutating func absorbRolloutAbortFile(_ file: RolloutAbortFile) {
        switch file {
        case .absent:
            recordedAbort = nil
            rolloutAbortFileError = nil
        case .abort(let abort):
            recordedAbort = abort
            rolloutAbortFileError = nil
        case .invalid(let reason):
            recordedAbort = nil
            rolloutAbortFileError = reason
        }
    }

    /// Why the canary is stopped: on this replica, or by a guard abort `rollout-abort.json`
    /// records for the rollout `rollout.json` names (unless an admin rollout overrides the file).
    var abort: RolloutAbort? {
        if let rolloutAbort { return rolloutAbort }
        guard rolloutOverride == nil, let recorded = recordedAbort, let file = fileRollout, file.canary != nil,
              recorded.rollout == file else { return nil }
        return RolloutAbort(reason: recorded.reason, automatic: true, at: recorded.at, earlier: true)
    }

    /// A `rollout-abort.json` for a rollout `rollout.json` no longer names (the file changed or
    /// went): to be removed. Nil while `rollout.json` is unusable (what it names is not known).
    var staleRecordedAbort: RecordedAbort? {
        guard let recorded = recordedAbort, rolloutFileError == nil, recorded.rollout != fileRollout else { return nil }
        return recorded
    }

    /// The control files' problems now (file name → why), for logging on change.
    var controlFileProblems: [String: String] {
        var problems: [String: String] = [:]
        problems["labels.json"] = labelsFileError
        problems["pin.json"] = pinFileError
        problems["rollout.json"] = rolloutFileError
        problems[RecordedAbort.fileName] = rolloutAbortFileError
        return problems
    }

    /// What request handlers may use of the rollout now: loaded versions other than the serving one.
    var rolloutRouting: RolloutRouting? {
        guard let spec = rollout else { return nil }
        func usable(_ version: Int) -> Bool { version != serving && versions[version]?.loaded != nil }
        let shadow = spec.shadow.flatMap { usable($0) ? $0 : nil }
        let canary = spec.canary.flatMap { canary in
            usable(canary.version) && canary.weight > 0 && abort == nil ? canary : nil
        }
        let routing = RolloutRouting(shadow: shadow, canary: canary, guards: spec.guards)
        return routing.isActive ? routing : nil
    }

    func rolloutStatus() -> RolloutStatus? {
        let spec = rollout
        let abort = abort
        guard spec != nil || rolloutFileError != nil || abort != nil || rolloutAbortFileError != nil else { return nil }
        var issues: [String] = []
        if let rolloutAbortFileError { issues.append("\(rolloutAbortFileError) (ignored)") }
        if let spec {
            let named = [spec.shadow.map { ("shadow", $0) }, spec.canary.map { ("canary", $0.version) }].compactMap { $0 }
            for (role, version) in named {
                guard let record = versions[version], record.inStorage || record.loaded != nil else {
                    issues.append("\(role) version \(version) is not in storage")
                    continue
                }
                if version == serving {
                    issues.append("\(role) version \(version) is the serving version")
                    continue
                }
                switch record.state {
                case .ready: break
                case .failed: issues.append("\(role) version \(version) failed to load")
                case .loading, .idle, .released: issues.append("\(role) version \(version) is loading")
                }
            }
        }
        return RolloutStatus(spec: spec, source: spec == nil ? nil : (rolloutOverride != nil ? .admin : .file),
                             abort: abort, fileError: rolloutFileError, issues: issues)
    }

    /// Applies a new `labels.json`: labels the previous file set and this one drops are
    /// removed; the others become pending and move when their version is available (so a
    /// label never points at nothing while its new version loads).
    mutating func absorbLabelsFile(_ file: LabelsFile) {
        switch file {
        case .absent:
            // Deleting the file keeps the labels (now ordinary runtime labels).
            labelsFileError = nil
            fileLabels = nil
        case .invalid(let reason):
            labelsFileError = reason
        case .labels(let requested):
            labelsFileError = nil
            guard requested != fileLabels else { return }
            for label in (fileLabels ?? [:]).keys where requested[label] == nil {
                labels[label] = nil
                pendingLabels[label] = nil
            }
            for (label, version) in requested {
                pendingLabels[label] = labels[label] == version ? nil : version
            }
            fileLabels = requested
        }
    }

    /// Applies a new `pin.json`. An unusable file keeps the pin as it was: a half-written or
    /// broken file must not switch every replica's version.
    mutating func absorbPinFile(_ file: PinFile) {
        switch file {
        case .absent:
            pinFileError = nil
            storagePin = nil
        case .invalid(let reason):
            pinFileError = reason
        case .version(let version):
            pinFileError = nil
            storagePin = version
        }
    }

    /// Why the `pin.json` version does not serve although no admin pin overrides it.
    var storagePinIssue: String? {
        if let pinFileError { return pinFileError }
        guard let pin = storagePin, pinned == nil, serving != pin else { return nil }
        guard let record = versions[pin], record.inStorage else {
            return "pin.json asks for version \(pin), which is not in storage"
        }
        if case .failed = record.state { return "pin.json asks for version \(pin), which failed to load" }
        return "pin.json asks for version \(pin), which is loading"
    }

    /// Applies a policy decision: unloads, labels, pin, serving. Returns the versions to
    /// load (now marked loading) and the events to emit once the lock is released.
    mutating func apply(
        _ decision: PolicyDecision, model: String, startLoads: Bool
    ) -> (loads: [Int], events: [RegistryEvent]) {
        var events: [RegistryEvent] = []
        labels = decision.labels
        pendingLabels = decision.pendingLabels
        pinned = decision.pinned
        previous = decision.previous
        if serving != decision.serving {
            events.append(.servingChanged(model: model, from: serving, to: decision.serving))
            serving = decision.serving
        }
        for version in decision.unload {
            guard let loaded = versions[version]?.loaded else { continue }
            versions[version]?.state = .released(WeakLoaded(value: loaded))
            events.append(.unloaded(model: model, version: version))
        }
        var loads: [Int] = []
        if startLoads {
            for version in decision.load where versions[version] != nil {
                versions[version]?.state = .loading
                loads.append(version)
            }
        }
        forgetFinishedVersions()
        return (loads, events)
    }

    /// Drops what nobody can see any more: released versions whose last handle is gone
    /// become idle, and idle or failed versions no longer in storage are forgotten.
    mutating func forgetFinishedVersions() {
        for (version, record) in versions {
            if case .released(let weak) = record.state, weak.value == nil {
                versions[version]?.state = .idle
            }
        }
        versions = versions.filter { _, record in
            switch record.state {
            case .idle, .failed: record.inStorage
            case .loading, .ready, .released: true
            }
        }
    }

    /// The immutable view request handlers read.
    func snapshot(model: String) -> ModelSnapshot<Servable> {
        var loaded: [Int: LoadedVersion<Servable>] = [:]
        for (version, record) in versions {
            if let version_ = record.loaded { loaded[version] = version_ }
        }
        return ModelSnapshot(model: model, servingVersion: serving, versions: loaded, labels: labels, rollout: rolloutRouting)
    }

    func status(model: String, required: Bool, now: Date) -> ModelStatus {
        var labelsByVersion: [Int: [String]] = [:]
        for (label, version) in labels { labelsByVersion[version, default: []].append(label) }
        let visible = versions.filter { _, record in
            // Freed since the last pass and no longer in storage: already gone for users.
            if case .released(let weak) = record.state, weak.value == nil { return record.inStorage }
            return true
        }
        let versionStatuses = visible.keys.sorted(by: >).map { version in
            let record = versions[version]!
            let state: VersionState
            switch record.state {
            case .idle: state = .notLoaded
            case .loading: state = .loading
            case .ready: state = .available
            case .failed: state = .failed(reason: record.lastError ?? "load failed")
            case .released(let weak): state = weak.value == nil ? .notLoaded : .unloading
            }
            var nextRetry: Date?
            if case .failed = record.state { nextRetry = record.nextRetry ?? now }
            return VersionStatus(
                version: version, state: state, labels: (labelsByVersion[version] ?? []).sorted(),
                inStorage: record.inStorage, publishedAt: record.publishedAt,
                loadedAt: record.loaded?.loadedAt, error: record.lastError, attempts: record.attempts,
                nextRetryAt: nextRetry)
        }
        return ModelStatus(
            model: model, servingVersion: serving, pinned: pinned != nil, storagePin: storagePin,
            storagePinIssue: storagePinIssue, previousVersion: previous,
            labels: labels, pendingLabels: pendingLabels, versions: versionStatuses,
            storageError: storageIssue, labelsFileError: labelsFileError, required: required, rollout: rolloutStatus())
    }
}
