import Glibc

/// Thin wrappers over poll(2): wait for a handful of descriptors with a timeout.
///
/// For a few descriptors on one background thread (the registry's watcher) poll is
/// simpler than epoll and needs no registration state.
public enum Poll {
    /// Readiness bits, named after `POLL*`; the translation lives only here.
    public struct Events: OptionSet, Sendable, Hashable {
        public var rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }

        /// Data can be read without blocking (`POLLIN`).
        public static let readable = Events(rawValue: Int16(POLLIN))
        /// Data can be written without blocking (`POLLOUT`).
        public static let writable = Events(rawValue: Int16(POLLOUT))
        /// Output only: an error condition (`POLLERR`).
        public static let error = Events(rawValue: Int16(POLLERR))
        /// Output only: the peer hung up (`POLLHUP`).
        public static let hangUp = Events(rawValue: Int16(POLLHUP))
        /// Output only: the descriptor is not open (`POLLNVAL`) — a bug in the caller.
        public static let invalid = Events(rawValue: Int16(POLLNVAL))
    }

    /// One descriptor to wait on: what we want, and (after `wait`) what happened.
    public struct Descriptor: Sendable, Equatable {
        public var fd: Int32
        public var interest: Events
        public var ready: Events

        public init(fd: Int32, interest: Events) {
            self.fd = fd
            self.interest = interest
            self.ready = []
        }
    }

    /// poll(2): blocks until one descriptor is ready or `timeout` passes (`nil` waits
    /// forever). Fills each `ready` and returns how many descriptors are ready (0 on
    /// timeout). Negative timeouts count as zero; timeouts are rounded up to whole ms so
    /// a caller waiting for a deadline never wakes just before it.
    @discardableResult
    public static func wait(
        _ descriptors: inout [Descriptor], timeout: Duration?
    ) throws(SystemError) -> Int {
        let milliseconds = timeout.map(Self.milliseconds) ?? -1
        var raw = descriptors.map { pollfd(fd: $0.fd, events: $0.interest.rawValue, revents: 0) }
        let count = try raw.withUnsafeMutableBufferPointer { buffer in
            Result { () throws(SystemError) in
                try syscallBlocking("poll") {
                    Glibc.poll(buffer.baseAddress, nfds_t(buffer.count), milliseconds)
                }
            }
        }.get()
        for index in descriptors.indices {
            descriptors[index].ready = Events(rawValue: raw[index].revents)
        }
        return Int(count)
    }

    /// A timeout for poll(2) in whole milliseconds, rounded up, clamped to `0...Int32.max`.
    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let extra = (attoseconds + perMillisecond - 1) / perMillisecond
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow || product > Int64(Int32.max) - extra { return Int32.max }
        return Int32(product + extra)
    }

    /// An eventfd(2) used to wake a thread blocked in `Poll.wait` from another thread
    /// (to stop it, or to ask it to work now). Signals coalesce: many `signal()` calls
    /// before one `drain()` wake the waiter once.
    ///
    /// Thread safety: `signal()` may be called from any thread; `drain()` and `close()`
    /// belong to the waiting thread's owner.
    public struct Wakeup: Sendable {
        /// The descriptor to poll for `.readable`.
        public let fd: Int32

        /// Creates a non-blocking, close-on-exec eventfd.
        public init() throws(SystemError) { fd = try EventFD.create() }

        /// Makes `fd` readable (a saturated counter already means "wake up").
        public func signal() throws(SystemError) { EventFD.signal(fd) }

        /// Resets the counter; returns whether it had been signalled.
        @discardableResult
        public func drain() throws(SystemError) -> Bool { try EventFD.drain(fd) != 0 }

        /// Closes the descriptor; the value must not be used afterwards.
        public func close() { closeDescriptor(fd) }
    }
}
