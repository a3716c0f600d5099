import CSystem
import Glibc

/// eventfd(2): a counter other threads bump to wake a thread blocked in epoll_wait or read.
public enum EventFD {
    /// A non-blocking (unless told otherwise), close-on-exec eventfd starting at 0.
    /// `semaphore`: each `drain` takes 1 instead of the whole count (EFD_SEMAPHORE), so every
    /// signal wakes exactly one of several waiters.
    public static func create(nonBlocking: Bool = true, semaphore: Bool = false) throws(SystemError) -> Int32 {
        var flags = Int32(EFD_CLOEXEC)
        if nonBlocking { flags |= Int32(EFD_NONBLOCK) }
        if semaphore { flags |= Int32(EFD_SEMAPHORE) }
        return try syscallBlocking("eventfd") { eventfd(0, flags) }
    }

    /// Adds 1. A saturated counter (EAGAIN) already means "wake up", so it is not an error.
    /// Async-signal-safe: it only calls write(2).
    public static func signal(_ fd: Int32) {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, MemoryLayout<UInt64>.size)
    }

    /// Reads and resets the counter (semaphore mode: takes 1); 0 when nothing was signalled (non-blocking fd).
    /// On a blocking eventfd this waits for the first signal.
    @discardableResult
    public static func drain(_ fd: Int32) throws(SystemError) -> UInt64 {
        var value: UInt64 = 0
        switch try syscall("read(eventfd)", { Glibc.read(fd, &value, MemoryLayout<UInt64>.size) }) {
        case .done: return value
        case .wouldBlock: return 0
        }
    }
}
