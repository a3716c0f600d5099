import CSystem
import Glibc

/// epoll(7): epoll_create1, epoll_ctl, epoll_wait. `epoll_event` is packed on x86_64 (12 bytes);
/// Swift imports the packed layout, and events are only ever read through `Epoll.Event`.
public enum Epoll {
    /// What a registration waits for. Translated to EPOLL* bits only in `bits`.
    public struct Interest: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let readable = Interest(rawValue: 1 << 0)
        public static let writable = Interest(rawValue: 1 << 1)

        /// Readable also asks for EPOLLRDHUP (a peer's half-close is seen without a read).
        /// Only with readable: registrations are level-triggered, and a half-closed peer would
        /// otherwise keep reporting RDHUP to a connection that is not reading.
        var bits: UInt32 {
            var bits: UInt32 = 0
            if contains(.readable) { bits |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
            if contains(.writable) { bits |= EPOLLOUT.rawValue }
            return bits
        }
    }

    /// One readiness report, decoded from the kernel's bits.
    public struct Event: Sendable, Equatable {
        /// The 64 bits registered with the descriptor (callers pack an id and a generation here).
        public var data: UInt64
        public var readable: Bool
        public var writable: Bool
        /// EPOLLHUP: both directions are gone.
        public var hangup: Bool
        /// EPOLLRDHUP: the peer will send nothing more.
        public var readHangup: Bool
        /// EPOLLERR: a pending socket error (read it by reading or writing).
        public var error: Bool

        /// An event as a scripted selector in tests delivers it.
        public init(data: UInt64, readable: Bool = false, writable: Bool = false, hangup: Bool = false,
                    readHangup: Bool = false, error: Bool = false) {
            self.data = data
            self.readable = readable
            self.writable = writable
            self.hangup = hangup
            self.readHangup = readHangup
            self.error = error
        }

        init(_ raw: epoll_event) {
            let bits = raw.events
            data = raw.data.u64
            readable = bits & EPOLLIN.rawValue != 0
            writable = bits & EPOLLOUT.rawValue != 0
            hangup = bits & EPOLLHUP.rawValue != 0
            readHangup = bits & EPOLLRDHUP.rawValue != 0
            error = bits & EPOLLERR.rawValue != 0
        }
    }

    /// A reusable array the kernel fills in `wait`.
    public struct EventBuffer {
        var raw: [epoll_event]
        public init(capacity: Int = 256) { raw = Array(repeating: epoll_event(), count: max(1, capacity)) }
        public subscript(index: Int) -> Event { Event(raw[index]) }
    }

    public static func create() throws(SystemError) -> Int32 {
        try syscallBlocking("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    public static func add(_ epfd: Int32, _ fd: Int32, interest: Interest, data: UInt64) throws(SystemError) {
        try ctl(epfd, EPOLL_CTL_ADD, fd, interest, data, "epoll_ctl(ADD)")
    }

    public static func modify(_ epfd: Int32, _ fd: Int32, interest: Interest, data: UInt64) throws(SystemError) {
        try ctl(epfd, EPOLL_CTL_MOD, fd, interest, data, "epoll_ctl(MOD)")
    }

    public static func remove(_ epfd: Int32, _ fd: Int32) throws(SystemError) {
        _ = try syscallBlocking("epoll_ctl(DEL)") { epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil) }
    }

    private static func ctl(
        _ epfd: Int32, _ op: Int32, _ fd: Int32, _ interest: Interest, _ data: UInt64, _ name: String
    ) throws(SystemError) {
        var event = epoll_event()
        event.events = interest.bits
        event.data.u64 = data
        _ = try syscallBlocking(name) { epoll_ctl(epfd, op, fd, &event) }
    }

    /// Waits for events; `timeoutMilliseconds` -1 waits forever, 0 polls. Returns how many
    /// entries of `buffer` are filled (0 on timeout or when a signal interrupted the wait).
    public static func wait(_ epfd: Int32, into buffer: inout EventBuffer, timeoutMilliseconds: Int32) throws(SystemError) -> Int {
        let capacity = Int32(buffer.raw.count)
        let result = try buffer.raw.withUnsafeMutableBufferPointer { (events) throws(SystemError) -> Int32 in
            // EINTR is not retried here: the caller recomputes its timeout and waits again.
            let n = epoll_wait(epfd, events.baseAddress, capacity, timeoutMilliseconds)
            if n == -1 {
                let err = csystem_errno()
                if err == EINTR { return 0 }
                throw SystemError(call: "epoll_wait", errno: err)
            }
            return n
        }
        return Int(result)
    }
}
