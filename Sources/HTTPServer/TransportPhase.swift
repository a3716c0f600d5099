import Posix

/// The transport side of one connection as a pure value: the TLS handshake, open (carrying
/// HTTP), the lingering close after our last response, closed. The shell (the event loop)
/// reports what the socket or the TLS layer said; the value answers with what to do and, at
/// any time, which readiness to wait for and when its deadline falls. It never touches a
/// socket or a clock (times are passed in), so it is tested like `ConnectionStateMachine`,
/// which handles the HTTP side once the transport is open.
struct TransportPhase: Equatable {
    enum Phase: Equatable {
        /// A TLS handshake is under way; the connection closes at `deadline` if unfinished.
        case handshaking(deadline: MonotonicInstant)
        /// Carrying HTTP: reads feed the HTTP state machine.
        case open
        /// Our last response is out and our write side is shut. Input is read and discarded
        /// until the peer's EOF or `until`, so bytes the client still sends do not turn that
        /// response into a reset (lingering close).
        case lingering(until: MonotonicInstant)
        /// Over; the shell closes the descriptor.
        case closed
    }

    /// What a TLS handshake step said.
    enum HandshakeStep: Equatable {
        case finished
        case wantRead
        case wantWrite
        /// The client spoke plain HTTP to the TLS port.
        case plainHTTP
        /// A protocol or socket error, or the peer closed.
        case failed
    }

    /// What the shell must do after a handshake step.
    enum HandshakeAction: Equatable {
        /// Start HTTP on the connection (its header timeout counts from now) and read what
        /// the client sent with its Finished message.
        case startHTTP
        /// Wait for the readiness in `interest`.
        case wait
        /// Answer a plain-HTTP 400 and close after it (as nginx does); counted as a failure.
        case answerPlainHTTPThenClose
        /// Close now; counted as a failure.
        case close
    }

    /// What one read returned.
    enum ReadOutcome: Equatable {
        case bytes
        /// Nothing now; `needsWritable`: TLS must write before it can read (wait for writable).
        case wouldBlock(needsWritable: Bool)
        case endOfInput
        /// A reset or a TLS protocol error.
        case failed
    }

    /// What the shell does with a read's outcome.
    enum ReadAction: Equatable {
        /// Give the bytes to the HTTP state machine.
        case deliver
        /// Throw the bytes away (lingering) and read on.
        case discard
        /// Stop reading until the next readiness event.
        case stop
        /// Tell the HTTP state machine the peer sent its last byte.
        case inputClosed
        /// Close now.
        case close
    }

    /// What the deadline's expiry means.
    enum TimerAction: Equatable {
        /// The handshake took too long: close, counted as a timeout.
        case closeHandshakeTimedOut
        /// The linger is over: close.
        case closeLingerOver
        /// Not the transport's: the HTTP state machine's deadline.
        case httpTimer
    }

    private(set) var phase: Phase
    /// Readiness the TLS layer asked for in its last call; empty for plain connections and
    /// after a call that needed nothing.
    private(set) var tlsWants: Epoll.Interest = []
    /// The HTTP side asked to close once what is written so far has been sent.
    private(set) var closeWhenFlushed = false
    let isTLS: Bool

    /// A plain connection: open at once.
    static var plain: TransportPhase { TransportPhase(phase: .open, isTLS: false) }

    /// A TLS connection: the handshake starts, the client speaks first.
    static func tls(now: MonotonicInstant, handshakeTimeout: Double) -> TransportPhase {
        var transport = TransportPhase(phase: .handshaking(deadline: now.adding(seconds: handshakeTimeout)), isTLS: true)
        transport.tlsWants = .readable
        return transport
    }

    private init(phase: Phase, isTLS: Bool) {
        self.phase = phase
        self.isTLS = isTLS
    }

    var isOpen: Bool { phase == .open }
    var isHandshaking: Bool { if case .handshaking = phase { true } else { false } }
    var isLingering: Bool { if case .lingering = phase { true } else { false } }

    /// A handshake step's outcome.
    mutating func handshake(_ step: HandshakeStep) -> HandshakeAction {
        guard isHandshaking else { return .wait }
        switch step {
        case .finished:
            phase = .open
            tlsWants = []
            return .startHTTP
        case .wantRead:
            tlsWants = .readable
            return .wait
        case .wantWrite:
            tlsWants = .writable
            return .wait
        case .plainHTTP:
            // The answer goes out in plain text; the connection then lingers like any other.
            phase = .open
            tlsWants = []
            closeWhenFlushed = true
            return .answerPlainHTTPThenClose
        case .failed:
            phase = .closed
            return .close
        }
    }

    /// Whether the shell should read now, given whether HTTP wants input.
    func shouldRead(httpWantsToRead: Bool) -> Bool {
        switch phase {
        case .open: httpWantsToRead
        case .lingering: true
        case .handshaking, .closed: false
        }
    }

    /// Whether a writable event should also resume reading: a TLS read that had to write
    /// first (a TLS 1.3 key update answer) waits for writability, not readability.
    func readResumesOnWritable(pendingOutput: Int) -> Bool {
        isOpen && tlsWants.contains(.writable) && pendingOutput == 0
    }

    /// A read's outcome.
    mutating func read(_ outcome: ReadOutcome) -> ReadAction {
        if isTLS, isOpen { tlsWants = [] }
        switch (phase, outcome) {
        case (.closed, _), (.handshaking, _):
            return .stop
        case (_, .failed):
            phase = .closed
            return .close
        case (.lingering, .endOfInput):
            phase = .closed
            return .close
        case (.lingering, .bytes):
            return .discard
        case (.open, .bytes):
            return .deliver
        case (.open, .endOfInput):
            return .inputClosed
        case (.open, .wouldBlock(let needsWritable)):
            if isTLS, needsWritable { tlsWants = .writable }
            return .stop
        case (.lingering, .wouldBlock):
            return .stop
        }
    }

    /// The HTTP side asked to close after what it has written.
    mutating func closeRequested() { closeWhenFlushed = true }

    /// Every byte written so far has been sent. True when the shell must now shut its write
    /// side (after a TLS close_notify) and linger until `now + lingerSeconds`.
    mutating func outputFlushed(now: MonotonicInstant, lingerSeconds: Double) -> Bool {
        guard closeWhenFlushed, isOpen else { return false }
        phase = .lingering(until: now.adding(seconds: lingerSeconds))
        tlsWants = []
        return true
    }

    /// A write failed (the peer is gone), or the socket reported a hang-up or an error.
    mutating func failed() { phase = .closed }

    /// The transport deadline passed (the shell calls this when `deadline` is due).
    mutating func timerFired(now: MonotonicInstant) -> TimerAction {
        switch phase {
        case .handshaking(let deadline) where now >= deadline:
            phase = .closed
            return .closeHandshakeTimedOut
        case .lingering(let until) where now >= until:
            phase = .closed
            return .closeLingerOver
        default:
            return .httpTimer
        }
    }

    /// The readiness to wait for.
    func interest(httpWantsToRead: Bool, pendingOutput: Int) -> Epoll.Interest {
        switch phase {
        case .handshaking: return tlsWants
        case .lingering: return .readable
        case .closed: return []
        case .open:
            var interest: Epoll.Interest = []
            if httpWantsToRead { interest.insert(.readable) }
            if pendingOutput > 0 { interest.insert(.writable) }
            if httpWantsToRead { interest.formUnion(tlsWants) }
            return interest
        }
    }

    /// When the shell must call `timerFired` (the transport's own deadline first, else the
    /// HTTP side's).
    func deadline(http: MonotonicInstant?) -> MonotonicInstant? {
        switch phase {
        case .handshaking(let deadline): deadline
        case .lingering(let until): until
        case .open: http
        case .closed: nil
        }
    }
}
