import FoundationEssentials
import Glibc
import Posix

/// One version directory found in storage.
struct DiscoveredVersion: Sendable, Equatable {
    var version: Int
    /// The directory's modification time: when it was published (renamed into place).
    var publishedAt: Date?
}

/// What one poll of one model directory found: the full set, or why it could not be read.
enum ModelScan: Sendable, Equatable {
    case versions([Int: DiscoveredVersion], labels: LabelsFile, pin: PinFile, rollout: RolloutFile = .absent,
                  rolloutAbort: RolloutAbortFile = .absent)
    case unreadable(String)
}

/// The optional `<model>/labels.json`: `{"stable": 3, "canary": 4}`.
enum LabelsFile: Sendable, Equatable {
    case absent
    case labels([String: Int])
    /// Present but unusable; the labels in memory stay as they are.
    case invalid(String)
}

/// The optional `<model>/pin.json`: `{"version": 3}`, the version every replica reading this
/// storage serves once it is available (a rollback that survives restarts).
enum PinFile: Sendable, Equatable {
    case absent
    case version(Int)
    /// Present but unusable; the pin in memory stays as it is.
    case invalid(String)
}

/// The optional `<model>/rollout.json` (see `RolloutSpec`): the rollout every replica reading
/// this storage follows, unless an admin call overrides it on a replica.
enum RolloutFile: Sendable, Equatable {
    case absent
    case spec(RolloutSpec)
    /// Present but unusable; the rollout in force stays as it is.
    case invalid(String)
}

/// The optional `<model>/rollout-abort.json` (see `RecordedAbort`), written by the registry
/// when a guard stops a canary of `rollout.json`'s rollout.
enum RolloutAbortFile: Sendable, Equatable {
    case absent
    case abort(RecordedAbort)
    /// Present but unusable; ignored (no earlier abort applies).
    case invalid(String)
}

/// One poll of the whole storage directory (declarative: the full desired state).
struct StorageScan: Sendable, Equatable {
    /// Set when the storage directory itself could not be listed; `models` is then empty
    /// and must not be read as "no models".
    var storageError: String?
    var models: [String: ModelScan]
}

/// Reads `<storage>/<model>/<version>/`. Pure apart from reading directories.
///
/// - Entries starting with `.` are ignored at every level, so a version published by
///   renaming `.5.tmp` to `5` appears atomically.
/// - Model names must match `^[a-z0-9][a-z0-9._-]{0,63}$` (so never `..`); versions are
///   positive decimal integers without leading zeros. Anything else is ignored.
/// - A missing or unreadable directory is an error, never "zero versions".
enum StorageSource {
    static func scan(storage: String, requiredModels: Set<String>) -> StorageScan {
        let entries: [String]
        do {
            entries = try listDirectory(storage)
        } catch {
            return StorageScan(storageError: "cannot read storage directory \(storage): \(error)", models: [:])
        }
        var models: [String: ModelScan] = [:]
        for name in entries where isValidModelName(name) {
            let path = storage + "/" + name
            guard isDirectory(path) else { continue }
            models[name] = scanModel(path)
        }
        for name in requiredModels where models[name] == nil {
            models[name] = isValidModelName(name)
                ? .unreadable("model directory \(storage)/\(name) does not exist")
                : .unreadable("'\(name)' is not a valid model name (^[a-z0-9][a-z0-9._-]{0,63}$)")
        }
        return StorageScan(storageError: nil, models: models)
    }

    static func scanModel(_ path: String) -> ModelScan {
        let entries: [String]
        do {
            entries = try listDirectory(path)
        } catch {
            return .unreadable("cannot read model directory \(path): \(error)")
        }
        var versions: [Int: DiscoveredVersion] = [:]
        for entry in entries {
            guard let version = parseVersion(entry) else { continue }
            guard let status = try? statPath(path + "/" + entry), status.isDirectory else { continue }
            versions[version] = DiscoveredVersion(version: version, publishedAt: status.modified)
        }
        return .versions(
            versions, labels: readLabelsFile(path + "/labels.json"), pin: readPinFile(path + "/pin.json"),
            rollout: readRolloutFile(path + "/rollout.json"),
            rolloutAbort: readRolloutAbortFile(path + "/" + RecordedAbort.fileName))
    }

    /// Largest control file (`labels.json`, `pin.json`, `rollout.json`) read; a bigger one is invalid.
    static let controlFileLimit = 64 * 1024

    /// A model-level control file's bytes: nil when absent, else the bytes or why not.
    static func readControlBytes(_ path: String) -> Result<Data, ControlFileError>? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(ControlFileError(reason: "cannot read \(path)"))
        }
        guard data.count <= controlFileLimit else {
            return .failure(ControlFileError(reason: "\(path) is larger than \(controlFileLimit) bytes"))
        }
        return .success(data)
    }

    /// A model-level control file decoded as `T`: nil when absent, else the value or why not.
    static func readControlFile<T: Decodable>(
        _ path: String, as _: T.Type, expected: String
    ) -> Result<T, ControlFileError>? {
        let data: Data
        switch readControlBytes(path) {
        case nil: return nil
        case .failure(let error): return .failure(error)
        case .success(let bytes): data = bytes
        }
        do {
            return .success(try JSONDecoder().decode(T.self, from: data))
        } catch {
            return .failure(ControlFileError(reason: "\(path) is not \(expected): \(error)"))
        }
    }

    struct ControlFileError: Error {
        var reason: String
    }

    static func readLabelsFile(_ path: String) -> LabelsFile {
        switch readControlFile(path, as: [String: Int].self, expected: "a JSON object of label → version") {
        case nil: return .absent
        case .failure(let error): return .invalid(error.reason)
        case .success(let labels):
            for (label, version) in labels.sorted(by: { $0.key < $1.key }) {
                guard isValidModelName(label) else { return .invalid("\(path): invalid label name '\(label)'") }
                guard version > 0 else { return .invalid("\(path): label '\(label)' has version \(version)") }
            }
            return .labels(labels)
        }
    }

    static func readPinFile(_ path: String) -> PinFile {
        struct Pin: Decodable { var version: Int }
        switch readControlFile(path, as: Pin.self, expected: #"a JSON object {"version": N}"#) {
        case nil: return .absent
        case .failure(let error): return .invalid(error.reason)
        case .success(let pin):
            guard pin.version > 0 else { return .invalid("\(path): version \(pin.version) is not a positive integer") }
            return .version(pin.version)
        }
    }

    /// A rollout control file parsed by `parse`: nil when absent, else the value or why not
    /// (prefixed with the path).
    static func readRolloutDocument<T>(
        _ path: String, _ parse: ([UInt8]) throws(RolloutSpecError) -> T
    ) -> Result<T, ControlFileError>? {
        switch readControlBytes(path) {
        case nil: return nil
        case .failure(let error): return .failure(error)
        case .success(let data):
            do throws(RolloutSpecError) {
                return .success(try parse(Array(data)))
            } catch {
                return .failure(ControlFileError(reason: "\(path): \(error)"))
            }
        }
    }

    static func readRolloutFile(_ path: String) -> RolloutFile {
        switch readRolloutDocument(path, RolloutSpec.parse) {
        case nil: .absent
        case .success(let spec): .spec(spec)
        case .failure(let error): .invalid(error.reason)
        }
    }

    static func readRolloutAbortFile(_ path: String) -> RolloutAbortFile {
        switch readRolloutDocument(path, RecordedAbort.parse) {
        case nil: .absent
        case .success(let abort): .abort(abort)
        case .failure(let error): .invalid(error.reason)
        }
    }

    /// Writes `rollout-abort.json` in `directory` as operators write control files: a dot-file,
    /// flushed, renamed into place. Throws why not (a read-only volume, a full disk, …).
    static func writeRolloutAbortFile(_ abort: RecordedAbort, directory: String) throws(SystemError) {
        let staging = "\(directory)/.\(RecordedAbort.fileName)"
        let bytes = abort.encoded()
        let fd = try syscallBlocking("open(\(staging))") { Glibc.open(staging, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        do throws(SystemError) {
            var written = 0
            while written < bytes.count {
                written += try syscallBlocking("write(\(staging))") {
                    bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + written, raw.count - written) }
                }
            }
            _ = try syscallBlocking("fsync(\(staging))") { fsync(fd) }
        } catch {
            closeDescriptor(fd)
            _ = Glibc.unlink(staging)
            throw error
        }
        closeDescriptor(fd)
        do throws(SystemError) {
            _ = try syscallBlocking("rename(\(staging))") { Glibc.rename(staging, "\(directory)/\(RecordedAbort.fileName)") }
        } catch {
            _ = Glibc.unlink(staging)
            throw error
        }
    }

    /// Removes `rollout-abort.json` from `directory` if it still records `abort` (a file written
    /// meanwhile for another rollout stays). Best effort: a read-only volume keeps a stale file,
    /// which is harmless (it applies to its own rollout only).
    static func removeRolloutAbortFile(_ abort: RecordedAbort, directory: String) {
        let path = "\(directory)/\(RecordedAbort.fileName)"
        guard case .abort(abort) = readRolloutAbortFile(path) else { return }
        _ = Glibc.unlink(path)
    }

    /// `^[a-z0-9][a-z0-9._-]{0,63}$` and no `..`: safe as a path component and in URLs.
    static func isValidModelName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isLowerAlnum(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard isLowerAlnum(bytes[0]) else { return false }
        for byte in bytes.dropFirst() {
            guard isLowerAlnum(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
            else { return false }
        }
        return !name.contains("..")
    }

    /// A positive decimal integer without sign or leading zeros (so `7` and `007` never
    /// both name version 7), at most 18 digits.
    static func parseVersion(_ name: String) -> Int? {
        let bytes = Array(name.utf8)
        guard (1...18).contains(bytes.count), bytes[0] != UInt8(ascii: "0"),
            bytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return Int(name)
    }

    /// Names in a directory, without `.`-prefixed ones (hidden, or being published).
    static func listDirectory(_ path: String) throws -> [String] {
        // A path that exists but is not a directory must be an error, not an empty list.
        let status = try statPath(path)
        guard status.isDirectory else { throw NotADirectory(path: path) }
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { !$0.hasPrefix(".") }
    }

    struct NotADirectory: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(path) is not a directory" }
    }

    struct PathStatus {
        var isDirectory: Bool
        var modified: Date
    }

    /// stat(2), following symlinks (a version may be a link to a directory).
    static func statPath(_ path: String) throws(SystemError) -> PathStatus {
        var status = stat()
        _ = try syscallBlocking("stat(\(path))") { stat(path, &status) }
        let modified = Date(
            timeIntervalSince1970: Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9)
        return PathStatus(isDirectory: (status.st_mode & S_IFMT) == S_IFDIR, modified: modified)
    }

    static func isDirectory(_ path: String) -> Bool {
        (try? statPath(path))?.isDirectory ?? false
    }
}
