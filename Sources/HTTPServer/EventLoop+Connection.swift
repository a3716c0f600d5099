import Glibc
import Posix

/// One connection: reading into its HTTP machine, performing the actions, writing, and
/// keeping epoll interest and the deadline in line with its state.
extension EventLoop {
    func readInput(_ connection: Connection, now: MonotonicInstant) {
        var reads = 0
        while connection.isOpen, connection.transport.shouldRead(httpWantsToRead: connection.machine.wantsToRead),
            reads < Self.readsPerEvent
        {
            reads += 1
            // Lingering reads bypass TLS: the bytes are discarded unread.
            let outcome: TransportPhase.ReadOutcome
            var count = 0
            // A plain read that did not fill the buffer took everything the socket held: epoll
            // is level-triggered, so it reports the socket again when more (or the end) comes,
            // and the read that would only say EAGAIN is not made (about one every other
            // keep-alive request). A TLS read that leaves nothing in OpenSSL's buffer is treated
            // alike: with read-ahead OpenSSL asks the socket for a whole buffer, so what it did
            // not get is not there yet, and what came since makes epoll report the socket again.
            var drained = false
            if let tls = connection.tls, connection.transport.isOpen {
                (count, outcome) = receive(tls)
                drained = count > 0 && !tls.hasBufferedInput
            } else {
                do {
                    switch try scratch.withUnsafeMutableBytes({ (buffer) throws(SystemError) in try Socket.read(connection.fd, into: buffer) }) {
                    case .bytes(let n):
                        count = n
                        drained = n < scratch.count
                        outcome = .bytes
                    case .wouldBlock: outcome = .wouldBlock(needsWritable: false)
                    case .eof: outcome = .endOfInput
                    }
                } catch {
                    outcome = .failed  // ECONNRESET and the like
                }
            }
            if count > 0 { context.counters.bytesRead.add(count, ordering: .relaxed) }
            switch connection.transport.read(outcome) {
            case .deliver:
                perform(connection, after: .received(scratch[0..<count]), now: now)
                if drained { return }
            case .discard:
                if drained { return }
            case .stop:
                return
            case .inputClosed:
                perform(connection, after: .inputClosed, now: now)
                return
            case .close:
                closeNow(connection)
                return
            }
        }
    }

    /// Reports `event` (if any) to the connection's machine, performs the actions it calls for
    /// in order, writes, and feeds output pressure back.
    func perform(_ connection: Connection, after event: ConnectionStateMachine.Event?, now: MonotonicInstant) {
        assertOnLoop()
        // The loop's action buffer, taken for the call and given back empty with its capacity
        // kept: no array is allocated per event. A nested call would find it empty and grow its own.
        var pending = actionBuffer
        actionBuffer = []
        defer {
            pending.removeAll(keepingCapacity: true)
            actionBuffer = pending
        }
        if let event { connection.machine.event(event, now: now, into: &pending) }
        while connection.isOpen {
            var index = 0
            while index < pending.count {
                // Moved out of the buffer, not copied: a request or response is not retained
                // field by field here and released again when the buffer is emptied.
                var action = ConnectionStateMachine.Action.sendContinue
                swap(&action, &pending[index])
                switch consume action {
                case .sendContinue:
                    connection.output.append(contentsOf: ResponseEncoder.continueBytes)
                case .send(var outgoing):
                    ResponseEncoder.encode(outgoing, date: dateCache.current(), into: &connection.output)
                    context.counters.responsesSent.add(1, ordering: .relaxed)
                    if outgoing.response.recyclesBody { ResponseBodies.giveBack(&outgoing.response.body) }
                case .handle(var request):
                    request.arrivedOverTLS = connection.tls != nil
                    let running = context.counters.inFlightRequests.add(1, ordering: .relaxed).newValue
                    let response: HTTPResponse
                    if running > context.maxInFlightRequests {
                        response = Overload.tooManyRequestsInFlight
                        context.counters.rejectedRequests.add(1, ordering: .relaxed)
                    } else {
                        response = context.routes.respond(to: consume request, log: context.logger)
                    }
                    context.counters.inFlightRequests.subtract(1, ordering: .relaxed)
                    if let startedAt = context.drainFlag.startedAt {
                        connection.machine.event(.beginDrain(at: startedAt), now: now, into: &pending)
                    }
                    connection.machine.event(.responded(response), now: now, into: &pending)
                case .close:
                    connection.transport.closeRequested()
                }
                index += 1
            }
            flush(connection, now: now)
            guard connection.isOpen, connection.transport.isOpen else { return }
            if connection.pendingOutput > context.outputHighWaterMark, !connection.outputBlocked {
                connection.outputBlocked = true
                _ = connection.machine.event(.outputBlocked, now: now)  // stops reading and handling
                return
            }
            guard connection.pendingOutput == 0, connection.outputBlocked else { return }
            connection.outputBlocked = false
            pending.removeAll(keepingCapacity: true)
            connection.machine.event(.outputDrained, now: now, into: &pending)  // handles what queued up
            if pending.isEmpty { return }
        }
    }

    func flush(_ connection: Connection, now: MonotonicInstant) {
        while connection.pendingOutput > 0 {
            let result: WriteResult
            if let tls = connection.tls {
                guard let sent = send(tls, connection) else {
                    closeNow(connection)  // the peer is gone
                    return
                }
                result = sent
            } else {
                do {
                    result = try connection.output.withUnsafeBytes { (bytes) throws(SystemError) in
                        try Socket.write(connection.fd, UnsafeRawBufferPointer(rebasing: bytes[connection.outputSent...]))
                    }
                } catch {
                    closeNow(connection)  // EPIPE, ECONNRESET: the peer is gone
                    return
                }
            }
            guard case .wrote(let count) = result else { break }
            context.counters.bytesWritten.add(count, ordering: .relaxed)
            connection.outputSent += count
        }
        if connection.pendingOutput == 0 {
            if connection.output.capacity > 1 << 20 {
                connection.output = []
            } else {
                connection.output.removeAll(keepingCapacity: true)
            }
            connection.outputSent = 0
            if connection.transport.outputFlushed(now: now, lingerSeconds: Self.lingerSeconds) {
                connection.tls?.sendCloseNotify()
                Socket.shutdown(connection.fd, .write)
            }
        } else if connection.outputSent >= 64 * 1024 {
            connection.output.removeFirst(connection.outputSent)
            connection.outputSent = 0
        }
    }

    /// Brings epoll interest and the deadline in line with the connection's state.
    func sync(_ connection: Connection) {
        guard connection.isOpen else { return }
        let interest = connection.transport.interest(
            httpWantsToRead: connection.machine.wantsToRead, pendingOutput: connection.pendingOutput)
        if interest != connection.interest {
            do {
                try selector.reregister(connection.fd, interest: interest, data: Self.pack(connection.fd, connection.generation))
                connection.interest = interest
            } catch {
                closeNow(connection)
                return
            }
        }
        deadlines.set(connection.fd, connection.transport.deadline(http: connection.machine.deadline))
        if let tls = connection.tls, tls.hasBufferedInput,
            connection.transport.shouldRead(httpWantsToRead: connection.machine.wantsToRead),
            !bufferedInput.contains(where: { $0.fd == connection.fd })
        {
            bufferedInput.append((connection.fd, connection.generation))
        }
    }

    /// Reads what OpenSSL buffered for connections that stopped reading with input left (the
    /// per-event read limit, or HTTP that did not want input then and wants it now).
    func readBufferedInput() {
        guard !bufferedInput.isEmpty else { return }
        let ready = bufferedInput
        bufferedInput.removeAll(keepingCapacity: true)
        let now = MonotonicInstant.now()
        for (fd, generation) in ready {
            guard let connection = connections[fd], connection.generation == generation, connection.isOpen else { continue }
            readInput(connection, now: now)
            if connection.isOpen { sync(connection) }
        }
    }

    func closeNow(_ connection: Connection) {
        guard connection.isOpen else { return }
        connection.isOpen = false
        connection.transport.failed()
        connection.tls = nil  // SSL_free before the descriptor number can be reused
        selector.deregister(connection.fd)
        closeDescriptor(connection.fd)
        connections[connection.fd] = nil
        deadlines.set(connection.fd, nil)
        context.counters.openConnections.subtract(1, ordering: .relaxed)
        stopIfFinished()
    }
}
