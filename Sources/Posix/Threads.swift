import Glibc

/// pthreads: event loops own real OS threads (not the Swift concurrency pool), because they
/// block in epoll_wait.
public enum PosixThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new joinable thread. (pthread_setname_np needs _GNU_SOURCE, which the
    /// Glibc module lacks, so threads are not named.)
    public static func spawn(_ body: @escaping @Sendable () -> Void) throws(SystemError) -> pthread_t {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", errno: rc)
        }
        return thread
    }

    /// Waits for `thread` to finish.
    public static func join(_ thread: pthread_t) {
        _ = pthread_join(thread, nil)
    }

    /// Puts the calling thread in Linux's SCHED_IDLE class: it runs only on CPU time that no
    /// normal thread wants, so background work never takes a core from the event loops.
    /// Returns false when the kernel refuses (the thread keeps its class).
    @discardableResult
    public static func lowerCurrentToIdlePriority() -> Bool {
        var parameters = sched_param()
        parameters.sched_priority = 0
        // SCHED_IDLE (5) is behind _GNU_SOURCE in the headers the Glibc module sees.
        return pthread_setschedparam(pthread_self(), 5, &parameters) == 0
    }

    /// A stable id for "am I on this thread?" checks.
    public static func currentID() -> UInt { UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))) }
}

/// CLOCK_MONOTONIC: deadlines never jump with wall-clock changes.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot).
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

extension Duration {
    /// Whole nanoseconds (truncated), for the timespec-based waits and sleeps.
    public var wholeNanoseconds: Int {
        Int(components.seconds) * 1_000_000_000 + Int(components.attoseconds / 1_000_000_000)
    }
}
