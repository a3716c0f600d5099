import CSystem
import Glibc

/// Thin wrappers over inotify(7): watch directories for changes without polling them.
///
/// The registry uses this to notice a model version renamed into the storage directory.
/// Events are only hints (the kernel can overflow its queue, network filesystems deliver
/// none), so callers must treat them as "something changed, rescan", never as the truth.
public enum Inotify {
    /// Which changes a watch reports (and which an event describes), named after the
    /// `IN_*` bits; the translation to kernel bits lives only here.
    public struct Mask: OptionSet, Sendable, Hashable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// A file or directory was created in the watched directory (`IN_CREATE`).
        public static let create = Mask(rawValue: UInt32(IN_CREATE))
        /// An entry was deleted from the watched directory (`IN_DELETE`).
        public static let delete = Mask(rawValue: UInt32(IN_DELETE))
        /// An entry was renamed into the watched directory (`IN_MOVED_TO`): atomic publication.
        public static let movedTo = Mask(rawValue: UInt32(IN_MOVED_TO))
        /// An entry was renamed out of the watched directory (`IN_MOVED_FROM`).
        public static let movedFrom = Mask(rawValue: UInt32(IN_MOVED_FROM))
        /// The watched directory itself was deleted (`IN_DELETE_SELF`); the watch is gone.
        public static let deleteSelf = Mask(rawValue: UInt32(IN_DELETE_SELF))
        /// The watched directory itself was renamed (`IN_MOVE_SELF`).
        public static let moveSelf = Mask(rawValue: UInt32(IN_MOVE_SELF))
        /// A file opened for writing was closed (`IN_CLOSE_WRITE`): its content is complete.
        public static let closeWrite = Mask(rawValue: UInt32(IN_CLOSE_WRITE))
        /// Metadata (permissions, timestamps) changed (`IN_ATTRIB`).
        public static let attributes = Mask(rawValue: UInt32(IN_ATTRIB))
        /// Output only: the watch was removed, explicitly or because its target went away.
        public static let ignored = Mask(rawValue: UInt32(IN_IGNORED))
        /// Output only: the kernel queue overflowed and events were lost (`IN_Q_OVERFLOW`).
        public static let queueOverflow = Mask(rawValue: UInt32(IN_Q_OVERFLOW))
        /// Output only: the event's subject is a directory (`IN_ISDIR`).
        public static let isDirectory = Mask(rawValue: UInt32(IN_ISDIR))
    }

    /// One decoded event. `name` is empty when the event is about the watched path itself.
    public struct Event: Sendable, Equatable {
        public var watch: Int32
        public var mask: Mask
        public var cookie: UInt32
        public var name: String

        public init(watch: Int32, mask: Mask, cookie: UInt32, name: String) {
            self.watch = watch
            self.mask = mask
            self.cookie = cookie
            self.name = name
        }
    }

    /// inotify_init1(2) with `IN_CLOEXEC`, and `IN_NONBLOCK` unless told otherwise
    /// (default non-blocking: the caller waits with poll and then drains).
    public static func initialize(nonBlocking: Bool = true) throws(SystemError) -> Int32 {
        var flags = Int32(IN_CLOEXEC)
        if nonBlocking { flags |= Int32(IN_NONBLOCK) }
        return try syscallBlocking("inotify_init1") { inotify_init1(flags) }
    }

    /// inotify_add_watch(2). Watching a path already watched returns the same descriptor
    /// and replaces its mask, so calling it again after every rescan is harmless.
    public static func addWatch(
        _ fd: Int32, path: String, mask: Mask
    ) throws(SystemError) -> Int32 {
        try syscallBlocking("inotify_add_watch(\(path))") {
            inotify_add_watch(fd, path, mask.rawValue)
        }
    }

    /// inotify_rm_watch(2).
    public static func removeWatch(_ fd: Int32, watch: Int32) throws(SystemError) {
        _ = try syscallBlocking("inotify_rm_watch") { inotify_rm_watch(fd, watch) }
    }

    /// Bytes that always hold at least one event with the longest possible name.
    public static let readBufferSize = 64 * 1024

    /// Reads the pending events from a non-blocking inotify descriptor:
    /// `.wouldBlock` when none are queued.
    public static func readEvents(_ fd: Int32) throws(SystemError) -> IOResult<[Event]> {
        var buffer = [UInt8](repeating: 0, count: readBufferSize)
        let result = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) in
                try syscall("read(inotify)") { Glibc.read(fd, raw.baseAddress, raw.count) }
            }
        }
        switch try result.get() {
        case .wouldBlock: return .wouldBlock
        case .done(let count):
            return .done(buffer.withUnsafeBytes { parseEvents(UnsafeRawBufferPointer(rebasing: $0[..<count])) })
        }
    }

    /// Decodes a buffer of `struct inotify_event` records (fixed 16-byte head, then `len`
    /// bytes of NUL-padded name). A truncated trailing record is dropped, never read past.
    public static func parseEvents(_ bytes: UnsafeRawBufferPointer) -> [Event] {
        let headSize = 16  // int wd; uint32 mask, cookie, len
        var events: [Event] = []
        var offset = 0
        while offset + headSize <= bytes.count {
            let watch = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + headSize
            guard nameStart + length <= bytes.count else { break }
            let nameBytes = bytes[nameStart..<(nameStart + length)].prefix { $0 != 0 }
            events.append(Event(
                watch: watch, mask: Mask(rawValue: mask), cookie: cookie,
                name: String(decoding: nameBytes, as: UTF8.self)))
            offset = nameStart + length
        }
        return events
    }
}
