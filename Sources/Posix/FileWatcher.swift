import Glibc
import Synchronization

/// One background thread that notices replaced files (TLS certificates, token files) and
/// calls their owners back there, never on a request thread. Each registration names its
/// files, the `FileStatus` identities its owner loaded, and an interval. The files are
/// stat-ed after an inotify event in one of their directories (a Kubernetes secret swaps a
/// `..data` symlink there; an operator renames a file into place), at least every interval
/// (network filesystems and some volume types deliver no events), and once as soon as the
/// watches exist. When any identity differs from the last one seen (a new inode, size,
/// mtime or ctime, or a file gone or back), `changed` runs: the owner reloads and publishes a
/// new immutable snapshot, or keeps the old one if the new files are bad (they are not
/// tried again until they change again). Readers only load the current snapshot.
///
/// Thread safety: `watch`, `start` and `stop` may be called from any thread; callbacks run on
/// the watcher's thread, one at a time.
public final class FileWatcher: Sendable {
    private struct Registration: Sendable {
        var files: [String]
        var directories: Set<String>
        /// The identities last seen (loaded by the owner, then as the watcher finds them).
        var identities: [FileStatus.Identity?]
        var interval: Duration
        var changed: @Sendable () -> Void
    }

    private struct State: Sendable {
        var registrations: [Registration] = []
        var thread: pthread_t?
        /// Registrations added since the thread last set up its watches.
        var changed = false
    }

    private let wakeup: Poll.Wakeup
    private let stopRequested = Atomic<Bool>(false)
    private let state = Mutex(State())
    private let reportProblem: @Sendable (String) -> Void

    /// - Parameter reportProblem: told when inotify is unavailable (checks then run on their
    ///   intervals only) or a wait fails.
    public init(reportProblem: @escaping @Sendable (String) -> Void) throws(SystemError) {
        wakeup = try Poll.Wakeup()
        self.reportProblem = reportProblem
    }

    deinit { wakeup.close() }

    /// Runs `changed` on the watcher thread when the identity of one of `files` differs from
    /// `loaded` (what the owner saw before it read them; nil for a file that was missing).
    public func watch(
        files: [String], loaded: [FileStatus.Identity?], interval: Duration, changed: @escaping @Sendable () -> Void
    ) {
        let registration = Registration(
            files: files, directories: Set(files.map(Self.directory(of:))), identities: loaded, interval: interval,
            changed: changed)
        state.withLock {
            $0.registrations.append(registration)
            $0.changed = true
        }
        try? wakeup.signal()
    }

    /// The current identities of `files`, nil for one that cannot be stat-ed.
    public static func identities(of files: [String]) -> [FileStatus.Identity?] {
        files.map { try? FileStatus.identity(ofPath: $0) }
    }

    /// Starts the thread (once; later calls do nothing).
    public func start() throws(SystemError) {
        try state.withLock { (state) throws(SystemError) in
            guard state.thread == nil else { return }
            state.thread = try PosixThread.spawn { [self] in run() }
        }
    }

    /// Stops the thread and waits for it (a check in progress finishes first).
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        try? wakeup.signal()
        let thread = state.withLock { state in
            defer { state.thread = nil }
            return state.thread
        }
        if let thread { PosixThread.join(thread) }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private func run() {
        let clock = ContinuousClock()
        var inotify: Int32?
        do {
            inotify = try Inotify.initialize()
        } catch {
            reportProblem("inotify unavailable; files are checked on their intervals only: \(error)")
        }
        defer { if let inotify { closeDescriptor(inotify) } }
        let mask: Inotify.Mask = [.create, .delete, .movedTo, .movedFrom, .closeWrite, .attributes, .deleteSelf, .moveSelf]
        /// Watch descriptor → directory, and directory → the registrations that care.
        var watchedDirectories: [Int32: String] = [:]
        var registrations: [Registration] = []
        var nextCheck: [ContinuousClock.Instant] = []

        while !stopRequested.load(ordering: .acquiring) {
            let added = state.withLock { state -> [Registration]? in
                guard state.changed else { return nil }
                state.changed = false
                return state.registrations
            }
            if let added {
                // Registrations are only appended: keep what this thread has seen of the old ones.
                registrations += added.dropFirst(registrations.count)
                if let inotify {
                    watchedDirectories = Self.addWatches(inotify, for: registrations, mask: mask)
                }
                // Checked once the watches exist: a change made before them has no event.
                nextCheck = registrations.map { _ in clock.now }
            }
            var due = Set<Int>()
            let now = clock.now
            for index in registrations.indices where nextCheck[index] <= now { due.insert(index) }
            for index in due.sorted() {
                let current = Self.identities(of: registrations[index].files)
                if current != registrations[index].identities {
                    registrations[index].identities = current
                    registrations[index].changed()
                }
                nextCheck[index] = clock.now + registrations[index].interval
            }
            let deadline = nextCheck.min() ?? (clock.now + .seconds(3600))
            var descriptors = [Poll.Descriptor(fd: wakeup.fd, interest: .readable)]
            if let inotify { descriptors.append(Poll.Descriptor(fd: inotify, interest: .readable)) }
            do {
                try Poll.wait(&descriptors, timeout: deadline - clock.now)
            } catch {
                reportProblem("poll failed: \(error)")
                _ = usleep(100_000)  // a persistent failure must not spin
                continue
            }
            if descriptors[0].ready.contains(.readable) { _ = try? wakeup.drain() }
            guard let inotify, descriptors.count > 1, !descriptors[1].ready.isEmpty else { continue }
            var touched = Set<String>()
            var lostTrack = false
            while case .done(let events)? = try? Inotify.readEvents(inotify), !events.isEmpty {
                for event in events {
                    if event.mask.contains(.queueOverflow) || event.mask.contains(.ignored) { lostTrack = true }
                    if let directory = watchedDirectories[event.watch] { touched.insert(directory) }
                }
            }
            if lostTrack {
                // Events were lost, or a directory went away: check everything now and watch again.
                watchedDirectories = Self.addWatches(inotify, for: registrations, mask: mask)
                for index in registrations.indices { nextCheck[index] = clock.now }
                continue
            }
            for index in registrations.indices where !registrations[index].directories.isDisjoint(with: touched) {
                nextCheck[index] = clock.now
            }
        }
    }

    /// (Re-)adds a watch on every registered directory; a directory that does not exist now is
    /// left to the interval checks.
    private static func addWatches(_ inotify: Int32, for registrations: [Registration], mask: Inotify.Mask) -> [Int32: String] {
        var watched: [Int32: String] = [:]
        for directory in Set(registrations.flatMap(\.directories)) {
            if let watch = try? Inotify.addWatch(inotify, path: directory, mask: mask) { watched[watch] = directory }
        }
        return watched
    }
}
