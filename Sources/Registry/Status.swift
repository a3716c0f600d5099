import FoundationEssentials

/// The few states users see for a version (`GET /v1/models`). The loader's internal
/// states (`LoaderState`) are richer; `VersionStatus.state` is derived from them.
public enum VersionState: Sendable, Hashable {
    /// In storage, but the policy does not want it loaded (older than what serves).
    case notLoaded
    /// Being loaded and validated.
    case loading
    /// Loaded and validated: can serve, or serves.
    case available
    /// The last load failed; see `VersionStatus.error`, `attempts`, `nextRetryAt`.
    case failed(reason: String)
    /// Unloaded from the registry, still in memory while requests hold handles on it.
    case unloading

    /// Lowercase name for JSON (`"available"`).
    public var name: String {
        switch self {
        case .notLoaded: "not_loaded"
        case .loading: "loading"
        case .available: "available"
        case .failed: "failed"
        case .unloading: "unloading"
        }
    }
}

/// One version in a model's status.
public struct VersionStatus: Sendable, Hashable {
    public var version: Int
    public var state: VersionState
    /// Labels pointing at this version, sorted.
    public var labels: [String]
    /// Whether its directory is in storage now (false: deleted, maybe still serving).
    public var inStorage: Bool
    /// When its directory was published (directory mtime), if known.
    public var publishedAt: Date?
    /// When its load finished, if loaded.
    public var loadedAt: Date?
    /// The last load error, if the last load failed.
    public var error: String?
    /// Load attempts made since the version was discovered.
    public var attempts: Int
    /// When a failed load is retried next (if the policy still wants it).
    public var nextRetryAt: Date?
}

/// One model's status, for `GET /v1/models` and `GET /v1/models/{name}`.
public struct ModelStatus: Sendable, Hashable {
    public var model: String
    /// The version `.serving` resolves to; nil while not ready.
    public var servingVersion: Int?
    /// Whether an admin pinned the serving version (a rollback is a pin).
    public var pinned: Bool
    /// The version `<storage>/<model>/pin.json` asks for, if the file exists.
    public var storagePin: Int?
    /// Why that version does not serve (not in storage, loading, failed, or the file is
    /// unusable); nil when it serves, when an admin pin overrides it, or with no file.
    public var storagePinIssue: String?
    /// The previous serving version, kept loaded for rollback.
    public var previousVersion: Int?
    /// Label → version.
    public var labels: [String: Int]
    /// Labels `labels.json` asks for whose version is not available yet (the label keeps
    /// its old target, if any, until then).
    public var pendingLabels: [String: Int]
    /// Versions known in storage or memory, newest first.
    public var versions: [VersionStatus]
    /// Why the model's storage could not be read, or that the serving version's directory
    /// is gone; nil when storage is fine. What serves keeps serving either way.
    public var storageError: String?
    /// Why `labels.json` could not be used; the labels in memory are unchanged.
    public var labelsFileError: String?
    /// Whether the model must serve for the process to be ready.
    public var required: Bool
    /// The rollout in force, a stopped canary, or an unusable `rollout.json` (nil: none).
    public var rollout: RolloutStatus?
}
