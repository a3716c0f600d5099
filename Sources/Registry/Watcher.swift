import Glibc
import Posix
import Synchronization

/// The watcher's own thread (it blocks in poll and in model loads, so it needs a thread
/// of its own, not a slot in a shared pool), joined at shutdown.
struct JoinableThread: Sendable {
    let id: pthread_t

    static func spawn(_ body: @escaping @Sendable () -> Void) throws(SystemError) -> JoinableThread {
        JoinableThread(id: try PosixThread.spawn(body))
    }

    func join() { PosixThread.join(id) }
}

/// The discovery loop: one thread waits in poll(2) on an inotify descriptor (changes in
/// the storage and model directories) and an eventfd (stop, or "rescan now"), with a
/// timeout for the periodic rescan and the next retry. Every wake-up that means
/// "something may have changed" becomes one debounced pass; events carry no meaning
/// beyond that, so a lost or overflowed event only delays a change to the next rescan.
final class Watcher: Sendable {
    /// Wakes the thread; signalled from any thread.
    let wakeup: Poll.Wakeup
    /// Set once by `stop()` (any thread), read by the loop.
    let stopRequested = Atomic<Bool>(false)
    /// Set by `requestPass()` (any thread): run a pass without waiting for the debounce.
    let passRequested = Atomic<Bool>(false)

    struct Hooks: Sendable {
        /// One full pass: scan, load, publish.
        var runPass: @Sendable () -> Void
        /// Directories to watch (the storage root first, then each model directory).
        var directoriesToWatch: @Sendable () -> [String]
        /// Time until the earliest retry not yet considered by a pass (zero when it is
        /// already overdue), if any. Retries a pass already considered and did not run are
        /// no longer wanted by the policy and must not cause wake-ups.
        var untilNextRetry: @Sendable () -> Duration?
        /// Reports a watcher problem (inotify unavailable): discovery falls back to rescans.
        var reportProblem: @Sendable (String) -> Void
    }

    /// How soon a pass runs again while the storage root cannot be watched (deleted, not
    /// mounted yet): nothing else would report its return, since its watch went with it.
    static let unwatchedStorageRecheck: Duration = .seconds(1)

    init() throws(SystemError) {
        wakeup = try Poll.Wakeup()
    }

    func requestPass() {
        passRequested.store(true, ordering: .releasing)
        try? wakeup.signal()
    }

    func stop() {
        stopRequested.store(true, ordering: .releasing)
        try? wakeup.signal()
    }

    /// The loop; returns after `stop()`. Runs a first pass immediately.
    func run(rescanInterval: Duration, debounce: Duration, hooks: Hooks) {
        let clock = ContinuousClock()
        var inotify: Int32?
        do {
            inotify = try Inotify.initialize()
        } catch {
            hooks.reportProblem("inotify unavailable, relying on periodic rescans: \(error)")
        }
        defer { if let inotify { closeDescriptor(inotify) } }

        let mask: Inotify.Mask = [
            .create, .delete, .movedTo, .movedFrom, .deleteSelf, .moveSelf, .closeWrite, .attributes,
        ]
        var pendingPass: ContinuousClock.Instant? = clock.now
        /// Directories watched so far; cleared when the kernel drops a watch (`.ignored`).
        var watched: Set<String> = []
        var nextRescan = clock.now + rescanInterval

        while !stopRequested.load(ordering: .acquiring) {
            let now = clock.now
            if let due = pendingPass, due <= now {
                pendingPass = nil
                hooks.runPass()
                nextRescan = clock.now + rescanInterval
                if let inotify {
                    // Re-adding is idempotent; missing directories are picked up by a later pass.
                    var addedWatch = false
                    for (position, directory) in hooks.directoriesToWatch().enumerated() {
                        guard (try? Inotify.addWatch(inotify, path: directory, mask: mask)) != nil else {
                            // A model directory's return shows up in the root's watch; the
                            // root's own return shows up nowhere, so look again soon.
                            if position == 0 { nextRescan = min(nextRescan, clock.now + Self.unwatchedStorageRecheck) }
                            continue
                        }
                        addedWatch = watched.insert(directory).inserted || addedWatch
                    }
                    // A change made after the scan but before the new watch existed has no
                    // event; one more pass sees it.
                    if addedWatch { pendingPass = clock.now }
                }
                continue
            }
            var deadline = min(pendingPass ?? nextRescan, nextRescan)
            let retryAt = hooks.untilNextRetry().map { now + $0 }
            if let retryAt { deadline = min(deadline, retryAt) }

            var descriptors = [Poll.Descriptor(fd: wakeup.fd, interest: .readable)]
            if let inotify { descriptors.append(Poll.Descriptor(fd: inotify, interest: .readable)) }
            do {
                try Poll.wait(&descriptors, timeout: deadline - now)
            } catch {
                // Only ENOMEM is possible here (EINTR is retried, EBADF/EFAULT are bugs).
                // Back off briefly so a persistent failure cannot spin, then rescan.
                hooks.reportProblem("poll failed: \(error)")
                _ = usleep(100_000)
                pendingPass = clock.now
                continue
            }
            if descriptors[0].ready.contains(.readable) {
                _ = try? wakeup.drain()
                if passRequested.exchange(false, ordering: .acquiringAndReleasing) {
                    pendingPass = clock.now
                }
            }
            if let inotify, descriptors.count > 1, !descriptors[1].ready.isEmpty {
                var sawEvent = false
                while case .done(let events)? = try? Inotify.readEvents(inotify), !events.isEmpty {
                    sawEvent = true
                    if events.contains(where: { $0.mask.contains(.ignored) || $0.mask.contains(.queueOverflow) }) {
                        watched.removeAll()
                    }
                }
                if sawEvent, pendingPass == nil { pendingPass = clock.now + debounce }
            }
            let after = clock.now
            if after >= nextRescan || retryAt.map({ after >= $0 }) == true {
                pendingPass = pendingPass.map { min($0, after) } ?? after
            }
        }
    }
}
