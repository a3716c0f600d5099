import Glibc
import Posix

/// The two drain steps (`beginDrain`, `stop`) and the end of the settle time.
extension EventLoop {
    /// Drain, step one: every response from now on carries `Connection: close` and its
    /// connection closes after it, so clients move to new connections; accepting goes on
    /// (endpoints take a while to stop sending clients here). Idle connections stay open: a
    /// client may be writing on one right now.
    func beginDrain() {
        assertOnLoop()
        // Repeating it is harmless: a machine keeps the first drain instant it hears of.
        guard let startedAt = context.drainFlag.startedAt else { return }
        let now = MonotonicInstant.now()
        // Handshaking connections learn of the drain when HTTP starts (`newMachine`).
        for connection in connections.values where connection.isOpen && connection.transport.isOpen {
            perform(connection, after: .beginDrain(at: startedAt), now: now)
            if connection.isOpen { sync(connection) }
        }
    }

    /// Drain, step two (`HTTPServer.stop` has already made the listeners drop connection
    /// requests): accept for `acceptSettleSeconds` more, so handshakes under way land here
    /// instead of being reset with the listener; close connections idle since before the
    /// drain; let every other one finish its next request; stop the loop when none is left, or
    /// after `drainTimeout`.
    func stop() {
        assertOnLoop()
        guard !stopping else { return }
        stopping = true
        let now = MonotonicInstant.now()
        drainDeadline = now.adding(seconds: context.drainTimeout)
        if listenerState == .closed {
            acceptUntil = nil
        } else {
            acceptUntil = now.adding(seconds: Self.acceptSettleSeconds)
        }
        for connection in connections.values where connection.isOpen && connection.transport.isOpen {
            perform(connection, after: .shutdown, now: now)
            if connection.isOpen { sync(connection) }
        }
        stopIfFinished()
    }

    /// The end of the settle time: takes every connection still queued, then shuts the
    /// listeners down (nothing can be queued behind them any more: requests are dropped).
    func acceptRemainingAndCloseListeners(now: MonotonicInstant) {
        if listenerState != .closed {
            for listener in listeners {
                while !acceptConnections(from: listener, now: now, limit: 1024) {}
                Socket.shutdown(listener.fd, .both)
            }
        }
        stopListening()
        stopIfFinished()
    }

    func stopIfFinished() {
        if stopping, acceptUntil == nil, connections.isEmpty { running = false }
    }
}
