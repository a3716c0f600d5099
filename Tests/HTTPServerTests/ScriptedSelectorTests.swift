import Glibc
import Posix
import Synchronization
import Testing
@testable import HTTPServer

/// A selector whose readiness events the test delivers, over real loopback sockets: the loop
/// reads, writes and accepts for real, but sees only the events it is handed.
final class ScriptedSelector: Selector, @unchecked Sendable {
    // @unchecked: every mutable field is behind `state`; `signal` is an eventfd.
    private struct State {
        var registrations: [Int32: (interest: Epoll.Interest, data: UInt64)] = [:]
        var queued: [Epoll.Event] = []
    }

    private let state = Mutex(State())
    private let signal: Int32

    init() throws { signal = try EventFD.create() }
    deinit { closeDescriptor(signal) }

    /// Hands events to the loop's next wait.
    func deliver(_ events: Epoll.Event...) {
        state.withLock { $0.queued += events }
        EventFD.signal(signal)
    }

    func data(of fd: Int32) -> UInt64? { state.withLock { $0.registrations[fd]?.data } }

    func register(_ fd: Int32, interest: Epoll.Interest, data: UInt64) throws(SystemError) {
        try state.withLock { (state) throws(SystemError) in
            guard state.registrations[fd] == nil else { throw SystemError(call: "register", errno: EEXIST) }
            state.registrations[fd] = (interest, data)
        }
    }

    func reregister(_ fd: Int32, interest: Epoll.Interest, data: UInt64) throws(SystemError) {
        try state.withLock { (state) throws(SystemError) in
            guard state.registrations[fd] != nil else { throw SystemError(call: "reregister", errno: ENOENT) }
            state.registrations[fd] = (interest, data)
        }
    }

    func deregister(_ fd: Int32) { state.withLock { _ = $0.registrations.removeValue(forKey: fd) } }

    func whenReady(timeoutMilliseconds: Int32, _ body: (Epoll.Event) -> Void) throws(SystemError) {
        var descriptors = [Poll.Descriptor(fd: signal, interest: .readable)]
        let timeout: Duration? = timeoutMilliseconds < 0 ? nil : .milliseconds(Int(timeoutMilliseconds))
        guard try Poll.wait(&descriptors, timeout: timeout) > 0 else { return }
        _ = try EventFD.drain(signal)
        for event in state.withLock({ state in defer { state.queued.removeAll() }; return state.queued }) { body(event) }
    }

    func close() {}
}

@Suite(.timeLimit(.minutes(10))) struct ScriptedSelectorTests {
    @Test func staleEventsForAReusedDescriptorAreIgnoredAndAHangUpWinsOverInput() throws {
        var router = Router()
        standardRoutes(&router)
        let listener = try Socket.makeTCP(ipv6: false)
        try Socket.bind(listener, to: Socket.Address(host: "127.0.0.1", port: 0))
        try Socket.listen(listener, backlog: 16)
        let port = try Socket.localPort(listener)
        let counters = ServerCounters()
        let context = ServerContext(
            routes: router.frozen(), limits: HTTPLimits(), outputHighWaterMark: 1 << 18, maxConnections: 100,
            maxInFlightRequests: 100, drainTimeout: 5, counters: counters, drainFlag: DrainFlag(), logger: nil)
        let selector = try ScriptedSelector()
        let stopped = Latch(count: 1)
        let loop = try EventLoop(listeners: [ListenerSocket(fd: listener, tls: nil)], context: context, stopped: stopped, selector: selector)
        let thread = try PosixThread.spawn { loop.run() }
        defer {
            loop.execute { $0.stop() }
            selector.deliver(Epoll.Event(data: UInt64(UInt32(bitPattern: loop.wakeFD)), readable: true))
            #expect(stopped.wait(timeoutSeconds: 30))
            PosixThread.join(thread)
            closeDescriptor(listener)
        }
        let listenerReady = Epoll.Event(data: UInt64(UInt32(bitPattern: listener)), readable: true)
        /// Returns once the loop has handled every event delivered before (tasks run in order
        /// after them).
        func barrier() {
            let passed = Latch(count: 1)
            loop.execute { _ in passed.countDown() }
            selector.deliver(Epoll.Event(data: UInt64(UInt32(bitPattern: loop.wakeFD)), readable: true))
            #expect(passed.wait(timeoutSeconds: 30))
        }
        #expect(eventually { selector.data(of: listener) != nil }, "the loop watches its listener")

        // A connection, accepted and answered only when the test says so.
        var first: TestClient? = try TestClient(port: port)
        try first!.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        selector.deliver(listenerReady)
        #expect(eventually { counters.openConnections.load(ordering: .relaxed) == 1 })
        let firstFD = try #require((0..<1024).map(Int32.init).first { fd in
            fd != listener && selector.data(of: fd).map { $0 >> 32 != 0 } == true
        })
        let staleData = try #require(selector.data(of: firstFD))
        selector.deliver(Epoll.Event(data: staleData, readable: true))
        #expect(try first!.readResponse().text == "hello")
        first = nil  // the client closes; its EOF is read on the next readable event
        selector.deliver(Epoll.Event(data: staleData, readable: true))
        #expect(eventually { counters.openConnections.load(ordering: .relaxed) == 0 })

        // The next connection may get the same descriptor number (other tests in the process
        // open descriptors too, so the number is not relied on): an event carrying the first
        // connection's generation with the second's number is what a reuse leaves behind.
        let second = try TestClient(port: port)
        try second.send("GET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n")
        selector.deliver(listenerReady)
        #expect(eventually { counters.openConnections.load(ordering: .relaxed) == 1 })
        let secondFD = try #require((0..<1024).map(Int32.init).first { fd in
            fd != listener && selector.data(of: fd).map { $0 >> 32 != 0 } == true
        })
        let secondData = try #require(selector.data(of: secondFD))
        #expect(secondData >> 32 != staleData >> 32, "a new generation")
        let stale = staleData & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(bitPattern: secondFD))
        // A late hang-up meant for the first connection must not close the second.
        selector.deliver(Epoll.Event(data: stale, hangup: true))
        selector.deliver(Epoll.Event(data: secondData, readable: true))
        #expect(try second.readResponse().text == "item 2")
        barrier()
        #expect(counters.openConnections.load(ordering: .relaxed) == 1)

        // Hang-up and input in one event: the hang-up is handled first, the input never read.
        try second.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        selector.deliver(Epoll.Event(data: secondData, readable: true, hangup: true))
        #expect(eventually { counters.openConnections.load(ordering: .relaxed) == 0 })
        #expect(counters.responsesSent.load(ordering: .relaxed) == 2)
    }
}
