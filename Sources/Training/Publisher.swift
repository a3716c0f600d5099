import FoundationEssentials

/// Publishes model versions into `<storage>/<name>/<version>` atomically: the artifact is
/// written into `<storage>/<name>/.tmp-<version>-<pid>` (a dot-directory, which the registry
/// ignores) and then renamed into place, so a half-written version is never visible.
/// Leftover dot-directories of dead processes (a crash before the rename) are removed on the
/// next run. Concurrent trainers for the same name are not coordinated beyond that: the
/// rename fails rather than overwrite a version someone else published.
public struct Publisher: Sendable {
    public var storage: URL
    public var name: String
    /// Test hook: stop after writing, before the rename, as a crash would (no cleanup).
    public var testsOnly_crashBeforeRename = false

    public init(storage: URL, name: String) {
        self.storage = storage
        self.name = name
    }

    public var modelDirectory: URL { storage.appending(path: name, directoryHint: .isDirectory) }

    /// Published versions (positive integer directory names), ascending. Dot-directories and
    /// other names are ignored. A missing model directory means no versions.
    public func publishedVersions() throws(TrainingError) -> [Int] {
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: modelDirectory.path) else { return [] }
        let entries: [String]
        do {
            entries = try fileManager.contentsOfDirectory(atPath: modelDirectory.path)
        } catch {
            throw .storage("cannot list \(modelDirectory.path): \(error)")
        }
        return entries.compactMap { entry in
            guard !entry.hasPrefix("."), entry.allSatisfy(\.isASCII), let version = Int(entry), version > 0 else { return nil }
            return version
        }.sorted()
    }

    public func directory(of version: Int) -> URL {
        modelDirectory.appending(path: String(version), directoryHint: .isDirectory)
    }

    /// Removes `.tmp-<version>-<pid>` directories left by processes that are gone (or by this
    /// process earlier). Returns the names removed. A live process's directory is kept.
    @discardableResult
    public func removeStaleTemporaryDirectories() throws(TrainingError) -> [String] {
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: modelDirectory.path) else { return [] }
        let ownPID = Int(ProcessInfo.processInfo.processIdentifier)
        var removed: [String] = []
        let entries = (try? fileManager.contentsOfDirectory(atPath: modelDirectory.path)) ?? []
        for entry in entries.sorted() where entry.hasPrefix(".tmp-") {
            let pid = entry.split(separator: "-").last.flatMap { Int($0) }
            if let pid, pid != ownPID, fileManager.fileExists(atPath: "/proc/\(pid)") { continue }
            do {
                try fileManager.removeItem(at: modelDirectory.appending(path: entry))
                removed.append(entry)
            } catch {
                throw .storage("cannot remove stale \(entry): \(error)")
            }
        }
        return removed
    }

    /// Writes the next version (highest published + 1) with `write(directory, version)` into a
    /// temporary dot-directory and renames it into place. Returns the version and its directory.
    public func publish(
        _ write: (_ directory: URL, _ version: Int) throws -> Void
    ) throws(TrainingError) -> (version: Int, directory: URL) {
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: modelDirectory, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create \(modelDirectory.path): \(error)")
        }
        try removeStaleTemporaryDirectories()
        let version = (try publishedVersions().last ?? 0) + 1
        let pid = ProcessInfo.processInfo.processIdentifier
        let temporary = modelDirectory.appending(path: ".tmp-\(version)-\(pid)", directoryHint: .isDirectory)
        let final = directory(of: version)
        do {
            try fileManager.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw .storage("cannot create \(temporary.path): \(error)")
        }
        do {
            try write(temporary, version)
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw .artifact("writing version \(version) failed: \(error)")
        }
        if testsOnly_crashBeforeRename { throw .storage("testsOnly_crashBeforeRename: stopped before the rename") }
        do {
            // rename(2) on the same filesystem: the version appears whole or not at all.
            try fileManager.moveItem(at: temporary, to: final)
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw .storage("cannot rename \(temporary.lastPathComponent) to \(version): \(error)")
        }
        return (version, final)
    }
}
