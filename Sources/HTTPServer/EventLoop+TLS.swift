import Glibc
import Posix

/// The TLS transport: handshake steps and the TLS read and write.
extension EventLoop {
    /// One handshake step, driven by readiness; when it completes the connection's state
    /// machine starts fresh (its header timeout counts from here) and any request bytes the
    /// client sent with its Finished message are read.
    func continueHandshake(_ connection: Connection, now: MonotonicInstant) {
        guard let tls = connection.tls else { return }
        let step: TransportPhase.HandshakeStep
        switch tls.handshake() {
        case nil: step = .finished
        case .wantRead?: step = .wantRead
        case .wantWrite?: step = .wantWrite
        case .plainHTTP?: step = .plainHTTP
        case .closed?, .failed?: step = .failed
        }
        switch connection.transport.handshake(step) {
        case .startHTTP:
            if tls.resumedSession {
                context.counters.tlsResumedHandshakes.add(1, ordering: .relaxed)
            } else {
                context.counters.tlsFullHandshakes.add(1, ordering: .relaxed)
            }
            connection.machine = newMachine(now: now)
            readInput(connection, now: now)
        case .wait:
            break
        case .answerPlainHTTPThenClose:
            // Plain HTTP sent to the TLS port: answer in plain HTTP (as nginx does), then the
            // usual lingering close, so the client reads the reason instead of a reset.
            context.counters.tlsHandshakeFailures.add(1, ordering: .relaxed)
            connection.tls = nil
            let problem = ProblemDetails(status: .badRequest, detail: "This port speaks HTTPS; the request was sent as plain HTTP.")
            ResponseEncoder.encode(
                OutgoingResponse(response: problem.response(), headOnly: false, keepAlive: false, requestVersion: .http1_1),
                date: dateCache.current(), into: &connection.output)
            flush(connection, now: now)
            if connection.isOpen, connection.pendingOutput > 0 { closeNow(connection) }  // best effort only
        case .close:
            context.counters.tlsHandshakeFailures.add(1, ordering: .relaxed)
            closeNow(connection)
        }
    }

    /// How long a TLS connection goes without a readiness event before its record buffers
    /// (about 34 KB) are freed. OpenSSL's own SSL_MODE_RELEASE_BUFFERS frees them whenever
    /// they drain, which costs a busy connection a malloc and a free per record; this keeps
    /// them while requests come and still gives an idle pool's memory back within two seconds.
    static let idleTLSBufferSeconds = 1.0

    /// Marks `connection`'s session as holding buffers (it is about to read or write) and
    /// makes sure a sweep is due.
    func holdTLSBuffers(_ connection: Connection, now: MonotonicInstant) {
        connection.tlsBuffersHeld = true
        if tlsBufferSweepAt == nil { tlsBufferSweepAt = now.adding(seconds: Self.idleTLSBufferSeconds) }
    }

    /// Frees the record buffers of TLS connections without an event for `idleTLSBufferSeconds`
    /// and nothing buffered (the session declines otherwise); sweeps again while any holds some.
    func releaseIdleTLSBuffers(now: MonotonicInstant) {
        tlsBufferSweepAt = nil
        let idleSince = now.nanoseconds &- UInt64(Self.idleTLSBufferSeconds * 1e9)
        var holding = false
        for connection in connections.values where connection.tlsBuffersHeld {
            guard let tls = connection.tls else {
                connection.tlsBuffersHeld = false
                continue
            }
            if connection.lastEvent.nanoseconds <= idleSince, connection.pendingOutput == 0, tls.releaseBuffers() {
                connection.tlsBuffersHeld = false
                context.counters.tlsIdleBufferReleases.add(1, ordering: .relaxed)
            } else {
                holding = true
            }
        }
        if holding { tlsBufferSweepAt = now.adding(seconds: Self.idleTLSBufferSeconds) }
    }

    /// A TLS read into `scratch`: the byte count and what the read said.
    func receive(_ tls: TLSConnection) -> (Int, TransportPhase.ReadOutcome) {
        let (count, status) = scratch.withUnsafeMutableBytes { tls.read(into: $0) }
        switch status {
        case nil: return (count, .bytes)
        case .wantRead?: return (0, .wouldBlock(needsWritable: false))
        case .wantWrite?: return (0, .wouldBlock(needsWritable: true))
        case .closed?: return (0, .endOfInput)
        case .failed?, .plainHTTP?: return (0, .failed)
        }
    }

    /// A TLS write of the unsent output; nil when the connection must close.
    func send(_ tls: TLSConnection, _ connection: Connection) -> WriteResult? {
        let (count, status) = connection.output.withUnsafeBytes { bytes in
            tls.write(UnsafeRawBufferPointer(rebasing: bytes[connection.outputSent...]))
        }
        switch status {
        case nil: return .wrote(count)
        case .wantWrite?, .wantRead?: return .wouldBlock  // renegotiation is off: wait for writable
        case .closed?, .failed?, .plainHTTP?: return nil
        }
    }
}
