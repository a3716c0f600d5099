import Posix

/// What an event loop needs from the kernel's readiness API, in the manner of SwiftNIO's
/// selector backends. `EpollSelector` is the real one; tests substitute a scripted one to
/// deliver events in orders and at moments the kernel produces only rarely (a stale event for
/// a reused descriptor, a hang-up together with input). Only the loop's thread calls it.
protocol Selector: AnyObject {
    /// Starts watching `fd`; `data` comes back with each of its events.
    func register(_ fd: Int32, interest: Epoll.Interest, data: UInt64) throws(SystemError)
    /// Changes what `fd` is watched for.
    func reregister(_ fd: Int32, interest: Epoll.Interest, data: UInt64) throws(SystemError)
    /// Stops watching `fd` (before it is closed); not watched is not an error.
    func deregister(_ fd: Int32)
    /// Waits up to `timeoutMilliseconds` (-1: no limit, 0: poll) and calls `body` for each
    /// event, in the order received. A wait cut short by a signal reports no event.
    func whenReady(timeoutMilliseconds: Int32, _ body: (Epoll.Event) -> Void) throws(SystemError)
    /// Releases the kernel object (after the loop has stopped).
    func close()
}

/// The epoll(7) selector: one epoll instance, level-triggered registrations.
final class EpollSelector: Selector {
    private let epfd: Int32
    private var events = Epoll.EventBuffer(capacity: 256)

    init() throws(SystemError) { epfd = try Epoll.create() }

    func register(_ fd: Int32, interest: Epoll.Interest, data: UInt64) throws(SystemError) {
        try Epoll.add(epfd, fd, interest: interest, data: data)
    }

    func reregister(_ fd: Int32, interest: Epoll.Interest, data: UInt64) throws(SystemError) {
        try Epoll.modify(epfd, fd, interest: interest, data: data)
    }

    func deregister(_ fd: Int32) { try? Epoll.remove(epfd, fd) }

    func whenReady(timeoutMilliseconds: Int32, _ body: (Epoll.Event) -> Void) throws(SystemError) {
        let count = try Epoll.wait(epfd, into: &events, timeoutMilliseconds: timeoutMilliseconds)
        for index in 0..<count { body(events[index]) }
    }

    func close() { closeDescriptor(epfd) }
}
