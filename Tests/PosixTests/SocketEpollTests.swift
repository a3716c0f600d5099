import CSystem
import Glibc
import Testing
@testable import Posix

/// A listener on 127.0.0.1 port 0 and a blocking client connected to it.
private func connectedPair() throws -> (listener: Int32, client: Int32, server: Int32) {
    let listener = try Socket.makeTCP(ipv6: false)
    try Socket.setReuseAddress(listener)
    try Socket.bind(listener, to: Socket.Address(host: "127.0.0.1", port: 0))
    try Socket.listen(listener, backlog: 16)
    let port = try Socket.localPort(listener)
    let client = try Socket.makeTCP(ipv6: false, nonBlocking: false)
    try Socket.connect(client, to: Socket.Address(host: "127.0.0.1", port: port))
    // The handshake is complete once connect returns; accept4 on loopback sees it at once,
    // but poll with a deadline rather than assume.
    let deadline = MonotonicClock.nanoseconds() + 2_000_000_000
    while MonotonicClock.nanoseconds() < deadline {
        if let server = try Socket.accept(listener) { return (listener, client, server) }
        var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        _ = poll(&pfd, 1, 100)
    }
    throw SystemError(call: "accept (test deadline)", errno: ETIMEDOUT)
}

@Suite(.timeLimit(.minutes(10))) struct SocketTests {
    @Test func bindingPortZeroReportsTheChosenPort() throws {
        let fd = try Socket.makeTCP(ipv6: false)
        defer { closeDescriptor(fd) }
        try Socket.bind(fd, to: Socket.Address(host: "127.0.0.1", port: 0))
        #expect(try Socket.localPort(fd) > 0)
    }

    @Test func aListenerDroppingConnectionRequestsKeepsItsQueueAndItsClientsAreRefusedOnceItCloses() throws {
        let listener = try Socket.makeTCP(ipv6: false)
        try Socket.bind(listener, to: Socket.Address(host: "127.0.0.1", port: 0))
        try Socket.listen(listener, backlog: 16)
        let address = try Socket.Address(host: "127.0.0.1", port: Socket.localPort(listener))
        let queued = try Socket.makeTCP(ipv6: false, nonBlocking: false)
        defer { closeDescriptor(queued) }
        try Socket.connect(queued, to: address)

        try Socket.dropConnectionRequests(listener)
        let late = try Socket.makeTCP(ipv6: false)  // non-blocking: connect returns at once
        defer { closeDescriptor(late) }
        let started = address.withSockaddr { Glibc.connect(late, $0, $1) }
        #expect(started == -1 && errno == EINPROGRESS, "its SYN got no answer")

        // The connection made before the filter is still in the queue, and is the only one.
        let accepted = try #require(try Socket.accept(listener))
        closeDescriptor(accepted)
        #expect(try Socket.accept(listener) == nil)
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        #expect(getsockopt(late, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0)
        #expect(Int32(info.tcpi_state) == Int32(TCP_SYN_SENT), "still waiting for a SYN-ACK")

        // Closed, the listener refuses the retransmitted SYN: a refused connect, not a reset.
        closeDescriptor(listener)
        var pfd = pollfd(fd: late, events: Int16(POLLOUT), revents: 0)
        #expect(poll(&pfd, 1, 30_000) == 1)
        var error: Int32 = 0
        var errorLength = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(late, SOL_SOCKET, SO_ERROR, &error, &errorLength) == 0)
        #expect(error == ECONNREFUSED)
    }

    @Test func acceptWithNothingPendingReturnsNil() throws {
        let fd = try Socket.makeTCP(ipv6: false)
        defer { closeDescriptor(fd) }
        try Socket.bind(fd, to: Socket.Address(host: "127.0.0.1", port: 0))
        try Socket.listen(fd, backlog: 4)
        #expect(try Socket.accept(fd) == nil)
    }

    @Test func hostThatIsNotANumericAddressIsRejected() {
        #expect(throws: SystemError.self) { _ = try Socket.Address(host: "localhost", port: 80) }
        #expect(throws: SystemError.self) { _ = try Socket.Address(host: "127.0.0.1", port: 70000) }
    }

    @Test func ipv6HostsParseWithAndWithoutBrackets() throws {
        #expect(try Socket.Address(host: "::1", port: 80).isIPv6)
        #expect(try Socket.Address(host: "[::]", port: 80).isIPv6)
        #expect(try !Socket.Address(host: "0.0.0.0", port: 80).isIPv6)
    }

    @Test func readReportsWouldBlockThenBytesThenEOF() throws {
        let (listener, client, server) = try connectedPair()
        defer { closeDescriptor(listener); closeDescriptor(client); closeDescriptor(server) }
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(try buffer.withUnsafeMutableBytes { try Socket.read(server, into: $0) } == .wouldBlock)

        let message: [UInt8] = Array("hello".utf8)
        #expect(try message.withUnsafeBytes { try Socket.write(client, $0) } == .wrote(5))
        let epfd = try Epoll.create()
        defer { closeDescriptor(epfd) }
        try Epoll.add(epfd, server, interest: .readable, data: 42)
        var events = Epoll.EventBuffer(capacity: 4)
        #expect(try Epoll.wait(epfd, into: &events, timeoutMilliseconds: 2000) == 1)
        #expect(events[0].data == 42 && events[0].readable)
        #expect(try buffer.withUnsafeMutableBytes { try Socket.read(server, into: $0) } == .bytes(5))
        #expect(Array(buffer.prefix(5)) == message)

        Socket.shutdown(client, .write)
        #expect(try Epoll.wait(epfd, into: &events, timeoutMilliseconds: 2000) == 1)
        #expect(events[0].readHangup)
        #expect(try buffer.withUnsafeMutableBytes { try Socket.read(server, into: $0) } == .eof)
    }

    @Test func writevSendsBuffersInOrder() throws {
        let (listener, client, server) = try connectedPair()
        defer { closeDescriptor(listener); closeDescriptor(client); closeDescriptor(server) }
        let a: [UInt8] = Array("head ".utf8), b: [UInt8] = Array("body".utf8)
        let result = try a.withUnsafeBytes { pa in try b.withUnsafeBytes { pb in try Socket.writev(server, [pa, pb]) } }
        #expect(result == .wrote(9))
        try Socket.setReceiveTimeout(client, seconds: 2)
        var buffer = [UInt8](repeating: 0, count: 9)
        var got = 0
        while got < 9 {
            let r = try buffer.withUnsafeMutableBytes { try Socket.read(client, into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])) }
            guard case .bytes(let n) = r else { Issue.record("unexpected \(r)"); return }
            got += n
        }
        #expect(String(decoding: buffer, as: UTF8.self) == "head body")
    }

    @Test func writingToAClosedPeerThrowsInsteadOfRaisingSIGPIPE() throws {
        let (listener, client, server) = try connectedPair()
        defer { closeDescriptor(listener); closeDescriptor(server) }
        closeDescriptor(client)
        let chunk = [UInt8](repeating: 1, count: 65536)
        // The first write may be accepted; once the RST arrives writes fail with EPIPE/ECONNRESET.
        #expect(throws: SystemError.self) {
            for _ in 0..<1000 { _ = try chunk.withUnsafeBytes { try Socket.write(server, $0) } }
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct EpollTests {
    @Test func epollEventIsThePackedTwelveByteLayout() {
        #expect(MemoryLayout<epoll_event>.size == 12)
    }

    @Test func waitTimesOutWithNoEvents() throws {
        let epfd = try Epoll.create()
        defer { closeDescriptor(epfd) }
        var events = Epoll.EventBuffer(capacity: 1)
        #expect(try Epoll.wait(epfd, into: &events, timeoutMilliseconds: 10) == 0)
    }

    @Test func eventFDSignalWakesAWaitAndDrainResetsIt() throws {
        let epfd = try Epoll.create()
        let efd = try EventFD.create()
        defer { closeDescriptor(epfd); closeDescriptor(efd) }
        try Epoll.add(epfd, efd, interest: .readable, data: 7)
        EventFD.signal(efd)
        EventFD.signal(efd)
        var events = Epoll.EventBuffer(capacity: 2)
        #expect(try Epoll.wait(epfd, into: &events, timeoutMilliseconds: 2000) == 1)
        #expect(events[0].data == 7)
        #expect(try EventFD.drain(efd) == 2)
        #expect(try EventFD.drain(efd) == 0)
        #expect(try Epoll.wait(epfd, into: &events, timeoutMilliseconds: 0) == 0)
    }

    @Test func modifyingInterestToWritableReportsWritable() throws {
        let (listener, client, server) = try connectedPair()
        defer { closeDescriptor(listener); closeDescriptor(client); closeDescriptor(server) }
        let epfd = try Epoll.create()
        defer { closeDescriptor(epfd) }
        try Epoll.add(epfd, server, interest: .readable, data: 1)
        var events = Epoll.EventBuffer(capacity: 2)
        #expect(try Epoll.wait(epfd, into: &events, timeoutMilliseconds: 0) == 0)
        try Epoll.modify(epfd, server, interest: [.readable, .writable], data: 2)
        #expect(try Epoll.wait(epfd, into: &events, timeoutMilliseconds: 2000) == 1)
        #expect(events[0].writable && events[0].data == 2)
        try Epoll.remove(epfd, server)
        #expect(try Epoll.wait(epfd, into: &events, timeoutMilliseconds: 0) == 0)
    }
}

@Suite(.timeLimit(.minutes(10))) struct SignalAndThreadTests {
    /// The only test that raises a real signal in the test process (process-wide state); the
    /// service's lifecycle is tested with its own termination source, and the real SIGTERM path
    /// on a child process (ServiceTests' DrainTests).
    @Test func terminationSignalIsDeliveredThroughTheEventFDAndTheHandlersAreRestored() throws {
        _ = try Signals.installTerminationHandler()
        defer { Signals.restoreDefaultTerminationHandlers() }
        #expect(try Signals.waitForTermination(timeout: .zero) == nil)
        try Signals.raiseInProcess(SIGINT)
        #expect(try Signals.waitForTermination(timeout: .seconds(30)) == SIGINT)
        try Signals.raiseInProcess(SIGTERM)
        #expect(try Signals.waitForTermination() == SIGTERM)
        Signals.restoreDefaultTerminationHandlers()
        var current = sigaction()
        _ = sigaction(SIGTERM, nil, &current)
        // SIG_DFL is the null handler.
        #expect(unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 0)
    }

    @Test func spawnedThreadRunsAndJoins() throws {
        let efd = try EventFD.create()
        defer { closeDescriptor(efd) }
        let thread = try PosixThread.spawn { EventFD.signal(efd) }
        PosixThread.join(thread)
        #expect(try EventFD.drain(efd) == 1)
    }
}

@Suite(.timeLimit(.minutes(10))) struct LatchTests {
    @Test func waitReturnsOnceEveryPartyCountedDown() throws {
        let latch = Latch(count: 2)
        let a = try PosixThread.spawn { latch.countDown() }
        let b = try PosixThread.spawn { latch.countDown() }
        #expect(latch.wait(timeoutSeconds: 30))
        #expect(latch.isOpen)
        PosixThread.join(a)
        PosixThread.join(b)
    }

    @Test func waitTimesOutWhileTheCountIsAboveZero() {
        let latch = Latch(count: 1)
        #expect(!latch.wait(timeoutSeconds: 0.01))
    }
}
