import Glibc

/// stat(2) reduced to what change detection needs. Used to notice that a file was replaced
/// (cert-manager swaps a Kubernetes secret's `..data` symlink; an operator renames a new
/// token file into place) without inotify, which misses changes behind symlinks and on
/// network filesystems.
public enum FileStatus {
    /// What identifies one version of a file: a replaced file has a new inode (rename or
    /// symlink swap) or a new size, mtime or ctime (rewritten in place).
    public struct Identity: Sendable, Equatable, Hashable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64
        public var modifiedNanoseconds: Int64
        public var changedNanoseconds: Int64
    }

    /// The identity of the file `path` names, following symlinks. ENOENT, EACCES and the like
    /// are thrown with the path in the call name.
    public static func identity(ofPath path: String) throws(SystemError) -> Identity {
        var status = stat()
        _ = try syscallBlocking("stat(\(path))") { stat(path, &status) }
        return Identity(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modifiedNanoseconds: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec),
            changedNanoseconds: Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec))
    }
}
