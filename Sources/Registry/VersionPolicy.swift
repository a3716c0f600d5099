/// What the version policy knows about one version of a model (the loader's view,
/// reduced to what a decision needs).
public enum PolicyVersionState: Sendable, Hashable {
    /// Never tried, or unloaded earlier: a candidate to load.
    case notLoaded
    /// A load is in progress: neither start another nor give up on it.
    case loading
    /// Loaded and validated: may serve.
    case available
    /// The last load failed; `retryDue` once its backoff has elapsed.
    case failed(retryDue: Bool)
}

/// Everything the policy decides from, for one model. A value: tests build it by hand.
public struct PolicyInput: Sendable, Equatable {
    /// Versions whose directory is in storage now (the source's full desired set).
    public var discovered: Set<Int>
    /// Loader state per version; a version missing here is `.notLoaded`.
    public var states: [Int: PolicyVersionState]
    /// Label → version, as set by admin calls.
    public var labels: [String: Int]
    /// The version an admin pinned (a rollback is a pin), if any.
    public var pinned: Int?
    /// The version `pin.json` in storage asks every replica to serve, if any.
    public var storagePin: Int?
    /// The version serving now, if any.
    public var serving: Int?
    /// The version that served before `serving`, kept loaded for instant rollback.
    public var previous: Int?
    /// Labels requested by `labels.json` whose version is not available yet: the policy
    /// loads that version, and moves the label once it is available.
    public var pendingLabels: [String: Int]
    /// Versions the rollout in force names (shadow, canary): loaded whatever their age and
    /// kept loaded, but never served for being the newest — only a pin serves them.
    public var rollout: Set<Int>

    public init(
        discovered: Set<Int>, states: [Int: PolicyVersionState] = [:],
        labels: [String: Int] = [:], pinned: Int? = nil, storagePin: Int? = nil, serving: Int? = nil,
        previous: Int? = nil, pendingLabels: [String: Int] = [:], rollout: Set<Int> = []
    ) {
        self.rollout = rollout
        self.discovered = discovered
        self.states = states
        self.labels = labels
        self.pinned = pinned
        self.storagePin = storagePin
        self.serving = serving
        self.previous = previous
        self.pendingLabels = pendingLabels
    }
}

/// What to do next for one model.
public struct PolicyDecision: Sendable, Equatable {
    /// Versions to load now, newest first.
    public var load: [Int]
    /// Loaded versions to drop (after `serving` is published), ascending.
    public var unload: [Int]
    /// The version that serves once this decision is applied (always an available one).
    public var serving: Int?
    /// The version kept loaded for rollback.
    public var previous: Int?
    /// The pin, cleared when its version went away from storage and another can serve.
    public var pinned: Int?
    /// Labels, minus those whose version is being unloaded, plus pending labels whose
    /// version became available.
    public var labels: [String: Int]
    /// Pending labels still waiting for their version.
    public var pendingLabels: [String: Int]

    public init(
        load: [Int] = [], unload: [Int] = [], serving: Int? = nil, previous: Int? = nil,
        pinned: Int? = nil, labels: [String: Int] = [:], pendingLabels: [String: Int] = [:]
    ) {
        self.load = load
        self.unload = unload
        self.serving = serving
        self.previous = previous
        self.pinned = pinned
        self.labels = labels
        self.pendingLabels = pendingLabels
    }
}

/// The version policy: a pure function from what is known to what to do
/// (tensorflow/serving's availability-preserving policy, plus pins and labels).
///
/// - Serve the version an admin pinned, else the version `pin.json` asks for once it is
///   available, else the newest available version that is in storage. Only an available
///   version ever serves, so a new version is loaded before the old one is unloaded.
/// - `pin.json`'s version is loaded whatever its age while its directory is in storage;
///   until it is available (or if it fails) the default choice keeps serving.
/// - If the serving version's directory is deleted and no other version is available,
///   it keeps serving from memory (a transient storage problem must not cause an outage).
/// - Load the newest version in storage that has not failed; failed versions newer than
///   it are retried when their backoff is due. Older versions are never loaded on spec.
/// - Keep loaded: the serving version, the previous serving version (rollback), pinned
///   and labelled versions, and the newest candidate (even while pinned, so that a
///   canary label or an unpin switches instantly). Everything else is unloaded; versions
///   deleted from storage are unloaded unless they are still serving.
/// - A pending label (from `labels.json`) loads its version, whatever its age, and moves
///   only once that version is available; until then the label keeps its old target.
/// - Versions the rollout names (shadow, canary) are loaded whatever their age and kept
///   loaded, and are left out of the default choice: they serve only when pinned, or when no
///   other version in storage can ever serve.
public enum VersionPolicy {
    public static func decide(_ input: PolicyInput) -> PolicyDecision {
        func state(_ version: Int) -> PolicyVersionState { input.states[version] ?? .notLoaded }
        func isAvailable(_ version: Int) -> Bool { state(version) == .available }
        let availableInStorage = input.discovered.filter(isAvailable)
        // The default choice leaves out versions under rollout, unless nothing else in storage
        // can ever serve (every other version failed, or there is none).
        let othersCanServe = input.discovered.subtracting(input.rollout).contains { version in
            if case .failed = state(version) { return false }
            return true
        }
        let defaultChoices = othersCanServe ? availableInStorage.subtracting(input.rollout) : availableInStorage

        // Serving: pin, else newest available in storage, else keep what serves from memory.
        var pinned = input.pinned.flatMap { isAvailable($0) ? $0 : nil }
        if let pin = pinned, !input.discovered.contains(pin), !availableInStorage.isEmpty {
            pinned = nil
        }
        let storagePin = input.storagePin.flatMap { input.discovered.contains($0) ? $0 : nil }
        let serving: Int?
        if let pin = pinned {
            serving = pin
        } else if let pin = storagePin, isAvailable(pin) {
            serving = pin
        } else if let newest = defaultChoices.max() {
            serving = newest
        } else if let current = input.serving, isAvailable(current), othersCanServe || !input.rollout.contains(current) {
            serving = current
        } else {
            serving = nil
        }

        // Previous: the version that served before, if it can still serve again.
        var previousCandidates: [Int] = []
        if let current = input.serving, current != serving { previousCandidates.append(current) }
        if let previous = input.previous { previousCandidates.append(previous) }
        let previous = previousCandidates.first {
            $0 != serving && isAvailable($0) && input.discovered.contains($0)
        }

        // Candidates: walk down from the newest version in storage.
        var load: [Int] = []
        var candidates: Set<Int> = []
        walk: for version in input.discovered.sorted(by: >) {
            // Versions under rollout are loaded below, as versions asked for by name.
            if input.rollout.contains(version) && othersCanServe { continue walk }
            switch state(version) {
            case .available:
                candidates.insert(version)
                break walk
            case .failed(retryDue: false):
                continue walk
            case .failed(retryDue: true):
                load.append(version)
                candidates.insert(version)
            case .notLoaded:
                load.append(version)
                candidates.insert(version)
                break walk
            case .loading:
                candidates.insert(version)
                break walk
            }
        }

        // Versions asked for by name (pending labels, pin.json): loaded whatever their age
        // while in storage, and kept loaded.
        func want(_ version: Int) {
            switch state(version) {
            case .available, .loading:
                candidates.insert(version)
            case .notLoaded where input.discovered.contains(version),
                .failed(retryDue: true) where input.discovered.contains(version):
                if !load.contains(version) { load.append(version) }
                candidates.insert(version)
            case .notLoaded, .failed:
                break
            }
        }
        var pendingLabels: [String: Int] = [:]
        var promoted: [String: Int] = [:]
        for (label, version) in input.pendingLabels {
            want(version)
            if isAvailable(version) { promoted[label] = version } else { pendingLabels[label] = version }
        }
        if let pin = storagePin { want(pin) }
        for version in input.rollout { want(version) }
        load.sort(by: >)

        // Labels survive while their version stays loaded and in storage (or serving).
        var labels = input.labels.filter { _, version in
            isAvailable(version) && (input.discovered.contains(version) || version == serving)
        }
        labels.merge(promoted) { _, new in new }

        var keep = candidates.union(labels.values)
        for version in [serving, previous, pinned].compactMap({ $0 }) { keep.insert(version) }
        let unload = input.states
            .filter { version, state in
                state == .available && !keep.contains(version)
            }
            .map(\.key)
            .sorted()

        return PolicyDecision(
            load: load, unload: unload, serving: serving, previous: previous,
            pinned: pinned, labels: labels, pendingLabels: pendingLabels)
    }
}
