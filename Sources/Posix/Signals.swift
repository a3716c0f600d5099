import CSystem
import Glibc
import Synchronization

/// Process signals for a server.
///
/// Choice: `sigaction` handlers that write to an eventfd (the self-pipe trick), not signalfd.
/// signalfd only sees a signal that every thread blocks, and a process has threads it does not
/// own (the Swift concurrency pool, libraries); one unblocked thread and SIGTERM kills the
/// process. A handler works whichever thread the kernel picks. SIGPIPE is ignored process-wide
/// (sockets also send with MSG_NOSIGNAL): a peer that vanished is an EPIPE, not a crash.
public enum Signals {
    /// The eventfd the termination handler signals; -1 until `installTerminationHandler`.
    /// Written once, under `installLock`, before the handler is installed; after that only
    /// read (by the handler, which cannot take locks).
    nonisolated(unsafe) private static var terminationFD: Int32 = -1
    /// Serialises `installTerminationHandler`.
    private static let installLock = Mutex<Void>(())
    /// The last termination signal received (0: none). Written by the handler, read by anyone.
    private static let lastSignal = Atomic<Int32>(0)
    /// Whether the SIGTERM/SIGINT handlers are in place; guarded by `installLock`.
    nonisolated(unsafe) private static var handlersInstalled = false

    /// Ignores SIGPIPE for the whole process.
    public static func ignoreBrokenPipe() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&action.sa_mask)
        _ = sigaction(SIGPIPE, &action, nil)
    }

    /// Installs SIGTERM and SIGINT handlers that signal one shared eventfd, and returns it
    /// (blocking: `EventFD.drain` waits for the first signal). Idempotent.
    public static func installTerminationHandler() throws(SystemError) -> Int32 {
        try installLock.withLock { (_) throws(SystemError) -> Int32 in try installLocked() }
    }

    private static func installLocked() throws(SystemError) -> Int32 {
        if handlersInstalled { return terminationFD }
        // The eventfd outlives an uninstall: a handler may still be running on another thread.
        if terminationFD < 0 { terminationFD = try EventFD.create(nonBlocking: false, semaphore: true) }
        _ = lastSignal.load(ordering: .relaxed)  // initialise the global before any handler runs
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signo in
            Signals.lastSignal.store(signo, ordering: .relaxed)
            EventFD.signal(Signals.terminationFD)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(SA_RESTART)
        for signo in [SIGTERM, SIGINT] {
            _ = try syscallBlocking("sigaction") { sigaction(signo, &action, nil) }
        }
        // A signal mask survives exec: a parent that spawned us from a thread blocking SIGTERM
        // (some process launchers do) would leave SIGTERM pending forever and the drain would
        // never start. Unblock both here, on the thread that will wait for them.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGTERM)
        sigaddset(&unblock, SIGINT)
        _ = pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        handlersInstalled = true
        return terminationFD
    }

    /// Puts SIGTERM and SIGINT back to their default action (what a test that installed the
    /// handlers must leave behind). Signals already received stay counted for the next waiter.
    public static func restoreDefaultTerminationHandlers() {
        installLock.withLock { _ in
            guard handlersInstalled else { return }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = SIG_DFL
            sigemptyset(&action.sa_mask)
            for signo in [SIGTERM, SIGINT] { _ = sigaction(signo, &action, nil) }
            handlersInstalled = false
        }
    }

    /// Blocks until SIGTERM or SIGINT arrives; returns it. Each signal releases one waiter.
    public static func waitForTermination() throws(SystemError) -> Int32 {
        let fd = try installTerminationHandler()
        try EventFD.drain(fd)
        return lastSignal.load(ordering: .relaxed)
    }

    /// Like `waitForTermination`, giving up after `timeout`: nil if no signal came.
    public static func waitForTermination(timeout: Duration) throws(SystemError) -> Int32? {
        let fd = try installTerminationHandler()
        var descriptors = [Poll.Descriptor(fd: fd, interest: .readable)]
        guard try Poll.wait(&descriptors, timeout: timeout) > 0 else { return nil }
        try EventFD.drain(fd)  // readable: a count is there, the read does not block
        return lastSignal.load(ordering: .relaxed)
    }

    /// Sends `signo` to this process (tests and self-shutdown).
    public static func raiseInProcess(_ signo: Int32) throws(SystemError) {
        _ = try syscallBlocking("kill") { kill(getpid(), signo) }
    }
}
