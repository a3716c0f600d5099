import Glibc
import Posix

/// Accepting: back-off on descriptor or memory exhaustion, the overload answer, a fresh
/// connection's machines, and watching or unwatching the listeners.
extension EventLoop {
    /// Accepts up to `limit` queued connections; true when the queue was found empty.
    @discardableResult
    func acceptConnections(from listener: ListenerSocket, now: MonotonicInstant, limit: Int = 64) -> Bool {
        for _ in 0..<limit {
            let fd: Int32
            do {
                guard let accepted = try Socket.accept(listener.fd) else { return true }
                fd = accepted
            } catch let error where error.isResourceExhaustion {
                // Logged once per episode (until an accept succeeds), not every backoff.
                if !acceptExhausted { log("accept: \(error); pausing accepts for \(Self.acceptBackoffSeconds)s at a time") }
                acceptExhausted = true
                context.counters.acceptPauses.add(1, ordering: .relaxed)
                unwatchListeners()
                listenerState = .paused
                acceptResumeAt = now.adding(seconds: Self.acceptBackoffSeconds)
                return true
            } catch let error where error.errno == EINVAL {
                // The listener was shut down (stopping): stop watching it.
                selector.deregister(listener.fd)
                return true
            } catch {
                continue  // ECONNABORTED, EPROTO, EPERM: that one connection is lost, not the listener
            }
            if acceptExhausted {
                acceptExhausted = false
                log("accept: descriptors available again, accepting")
            }
            if context.counters.openConnections.load(ordering: .relaxed) >= context.maxConnections {
                context.counters.rejectedConnections.add(1, ordering: .relaxed)  // before the peer can see the 503
                // A plaintext 503 means nothing to a TLS client, and a handshake is the work
                // the limit exists to refuse: TLS connections over the limit are just closed.
                if listener.tls == nil { Overload.rejectConnection(fd, date: dateCache.current()) } else { closeDescriptor(fd) }
                continue
            }
            try? Socket.setNoDelay(fd)
            var tls: TLSConnection?
            if let source = listener.tls {
                guard let session = TLSConnection(context: source.current, fd: fd) else {
                    log("could not create a TLS session for an accepted connection")
                    closeDescriptor(fd)
                    continue
                }
                tls = session
            }
            let generation = nextGeneration
            nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
            do {
                try selector.register(fd, interest: .readable, data: Self.pack(fd, generation))
            } catch {
                log("epoll add failed for an accepted connection: \(error)")
                closeDescriptor(fd)
                continue
            }
            var transport = TransportPhase.plain
            if let source = listener.tls {
                transport = .tls(now: now, handshakeTimeout: source.configuration.handshakeTimeout)
            }
            let connection = Connection(fd: fd, generation: generation, transport: transport, machine: newMachine(now: now))
            connection.tls = tls
            connection.lastEvent = now
            connections[fd] = connection
            context.counters.openConnections.add(1, ordering: .relaxed)
            context.counters.acceptedConnections.add(1, ordering: .relaxed)
            sync(connection)
        }
        return false
    }

    /// A state machine for a connection starting now, told of a drain already under way (a
    /// connection made during the drain is kept for its first request, which then closes it).
    func newMachine(now: MonotonicInstant) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(limits: context.limits, now: now)
        if let startedAt = context.drainFlag.startedAt { _ = machine.event(.beginDrain(at: startedAt), now: now) }
        if stopping { _ = machine.event(.shutdown, now: now) }
        return machine
    }

    /// Registers every listener for accept readiness (after removing a stale registration).
    func watchListeners() throws(SystemError) {
        for listener in listeners {
            selector.deregister(listener.fd)
            try selector.register(listener.fd, interest: .readable, data: Self.pack(listener.fd, 0))
        }
    }

    func unwatchListeners() {
        for listener in listeners { selector.deregister(listener.fd) }
    }

    /// Stops watching the listener. The descriptor itself belongs to `HTTPServer`, which shuts
    /// it down in `shutdown` and closes it after the loops are joined, so no thread ever uses a
    /// listener number the kernel may have handed to a new socket.
    func stopListening() {
        guard listenerState != .closed else { return }
        if listenerState == .active { unwatchListeners() }
        listenerState = .closed
        acceptResumeAt = nil
    }
}
