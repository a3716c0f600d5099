import FoundationEssentials

/// Turns one version directory into something that can serve. The registry is generic
/// over it so that it can be tested with a small real loader while the real model
/// format lives in Inference (`LoadedModel.load(directory:)`).
public protocol ServableLoader: Sendable {
    associatedtype Servable: Sendable
    /// Loads and validates one version directory; throws a descriptive error if it cannot serve.
    /// Called on the registry's watcher thread, never on a request path.
    func load(name: String, version: Int, directory: String) throws -> Servable
}

/// One loaded version. Immutable; shared by the published snapshots and by every handle
/// taken on it, so its memory goes when the last of those references is released.
public final class LoadedVersion<Servable: Sendable>: Sendable {
    public let model: String
    public let version: Int
    public let servable: Servable
    /// When the load finished (the registry's clock).
    public let loadedAt: Date

    init(model: String, version: Int, servable: Servable, loadedAt: Date) {
        self.model = model
        self.version = version
        self.servable = servable
        self.loadedAt = loadedAt
    }
}

/// Which version a request wants.
public enum VersionSelector: Sendable, Hashable {
    /// Versions are positive integers below 2^53, so a JSON number names one exactly; every
    /// body or file that names a version (requests, `pin.json`, `rollout.json`) takes up to this.
    public static let largestVersion: Double = 9_007_199_254_740_991

    /// The version the policy serves (newest available, or the pinned one).
    case serving
    /// An exact version number (`/versions/{v}`).
    case version(Int)
    /// The version a label points at (`/labels/{l}`, e.g. `stable`, `canary`).
    case label(String)
}

/// Why a request cannot get a handle. The HTTP layer maps `notReady` to 503 and the
/// others to 404.
public enum RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No such model in storage or configuration.
    case unknownModel(String)
    /// The model exists but that version is not loaded (absent, loading, failed or unloaded).
    case unknownVersion(model: String, version: Int)
    /// The model exists but has no such label.
    case unknownLabel(model: String, label: String)
    /// The model is known but no version serves yet (starting, or every version failed).
    case notReady(model: String)

    public var description: String {
        switch self {
        case .unknownModel(let model): "unknown model '\(model)'"
        case .unknownVersion(let model, let version):
            "model '\(model)' has no available version \(version)"
        case .unknownLabel(let model, let label): "model '\(model)' has no label '\(label)'"
        case .notReady(let model): "model '\(model)' has no serving version yet"
        }
    }
}

/// Why an admin call was refused. Suggested statuses: 404 for unknown model/label,
/// 409 for a version that is not available or a rollback with nothing to roll back to,
/// 400 for a malformed label name.
public enum RegistryAdminError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownModel(String)
    /// Labels and pins may only point at a loaded, validated version.
    case versionNotAvailable(model: String, version: Int)
    case unknownLabel(model: String, label: String)
    /// Label names follow the model-name rule: `^[a-z0-9][a-z0-9._-]{0,63}$`.
    case invalidLabelName(String)
    /// Rollback needs a previous serving version that is still loaded.
    case noPreviousVersion(model: String)
    /// `:promote` and `:abort` need a rollout with a canary.
    case noCanary(model: String)

    public var description: String {
        switch self {
        case .unknownModel(let model): "unknown model '\(model)'"
        case .versionNotAvailable(let model, let version):
            "version \(version) of model '\(model)' is not available (not loaded or failed)"
        case .unknownLabel(let model, let label): "model '\(model)' has no label '\(label)'"
        case .invalidLabelName(let label):
            "invalid label name '\(label)': use lowercase letters, digits, '.', '_', '-' (at most 64)"
        case .noPreviousVersion(let model):
            "model '\(model)' has no previous version loaded to roll back to"
        case .noCanary(let model):
            "model '\(model)' has no rollout with a canary"
        }
    }
}

/// A request's hold on one loaded version: take it once, use it for the whole request.
/// While any handle exists the version stays in memory, even if it is unloaded or a
/// newer version starts serving meanwhile.
public struct ServableHandle<Servable: Sendable>: Sendable {
    /// The loaded version this handle keeps alive.
    public let loaded: LoadedVersion<Servable>

    @usableFromInline
    init(loaded: LoadedVersion<Servable>) { self.loaded = loaded }

    public var model: String { loaded.model }
    public var version: Int { loaded.version }
    public var servable: Servable { loaded.servable }
}

/// The immutable view of one model that request handlers read: swapped as a whole.
public final class ModelSnapshot<Servable: Sendable>: Sendable {
    public let model: String
    /// The version `.serving` resolves to; nil while nothing can serve.
    public let servingVersion: Int?
    /// Every loaded (available) version.
    public let versions: [Int: LoadedVersion<Servable>]
    /// Label → version; every target is in `versions`.
    public let labels: [String: Int]
    /// The shadow and canary that may take part now (every version it names is in `versions`).
    public let rollout: RolloutRouting?

    init(model: String, servingVersion: Int?, versions: [Int: LoadedVersion<Servable>], labels: [String: Int],
         rollout: RolloutRouting? = nil) {
        self.rollout = rollout
        self.model = model
        self.servingVersion = servingVersion
        self.versions = versions
        self.labels = labels
    }

    /// A handle on the version `selector` names in this snapshot.
    @inlinable
    public func handle(_ selector: VersionSelector) throws(RegistryError) -> ServableHandle<Servable> {
        ServableHandle(loaded: try resolve(selector))
    }

    /// A handle on a loaded version of this snapshot (nil: not loaded).
    @inlinable
    public func handle(version: Int) -> ServableHandle<Servable>? {
        versions[version].map { ServableHandle(loaded: $0) }
    }

    /// Resolves a selector against this snapshot.
    @inlinable
    func resolve(_ selector: VersionSelector) throws(RegistryError) -> LoadedVersion<Servable> {
        switch selector {
        case .serving:
            guard let version = servingVersion, let loaded = versions[version] else {
                throw .notReady(model: model)
            }
            return loaded
        case .version(let version):
            guard let loaded = versions[version] else {
                throw .unknownVersion(model: model, version: version)
            }
            return loaded
        case .label(let label):
            guard let version = labels[label], let loaded = versions[version] else {
                throw .unknownLabel(model: model, label: label)
            }
            return loaded
        }
    }
}

/// What happened, for logs and metrics. Delivered on the thread that did it (the watcher
/// thread, or an admin caller), outside every registry lock, in order per model.
public enum RegistryEvent: Sendable, Hashable {
    /// A version loaded and validated; it may serve now.
    case loaded(model: String, version: Int, duration: Duration)
    /// A load failed; it is retried at `nextRetry` if still wanted.
    case loadFailed(model: String, version: Int, reason: String, attempts: Int, nextRetry: Date)
    /// A version left the published snapshot; its memory goes with the last handle.
    case unloaded(model: String, version: Int)
    /// `.serving` now resolves to `to` (nil: nothing serves).
    case servingChanged(model: String, from: Int?, to: Int?)
    /// Storage could not be read (model nil: the storage directory itself), or the
    /// serving version's directory is gone. What serves keeps serving.
    case storageError(model: String?, reason: String)
    /// A storage error reported earlier is resolved.
    case storageRecovered(model: String?)
    /// A model's control file (`labels.json`, `pin.json`, `rollout.json`, `rollout-abort.json`
    /// at `path`) cannot be used; what it set stays as it was. Once per distinct problem.
    case controlFileProblem(model: String, path: String, reason: String)
    /// A control file reported earlier is usable again (or gone).
    case controlFileRecovered(model: String, path: String)
}
