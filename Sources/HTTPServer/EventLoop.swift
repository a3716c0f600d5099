import Glibc
import Posix
import Synchronization

/// Counters the metrics layer reads. Written by loop threads, read by anyone (atomics, relaxed:
/// each is an independent gauge or count, no ordering between them is implied).
public final class ServerCounters: Sendable {
    /// Connections currently open (accepted and not yet closed).
    public let openConnections = Atomic<Int>(0)
    /// Requests whose handler is running right now.
    public let inFlightRequests = Atomic<Int>(0)
    /// Connections accepted since start.
    public let acceptedConnections = Atomic<Int>(0)
    /// Responses queued for writing since start (handler answers and protocol errors).
    public let responsesSent = Atomic<Int>(0)
    /// TLS handshakes that failed (garbage, plain HTTP on the TLS port, no shared cipher) or
    /// timed out (`tlsHandshakeTimeouts` counts those too) since start.
    public let tlsHandshakeFailures = Atomic<Int>(0)
    /// TLS handshakes closed for taking longer than the handshake timeout since start.
    public let tlsHandshakeTimeouts = Atomic<Int>(0)
    /// TLS handshakes completed in full (certificate signature and key exchange) since start.
    public let tlsFullHandshakes = Atomic<Int>(0)
    /// TLS handshakes completed by resuming an earlier session (ticket or session id).
    public let tlsResumedHandshakes = Atomic<Int>(0)
    /// Times a loop paused accepting for `EventLoop.acceptBackoffSeconds` because accept hit a
    /// descriptor or memory limit (EMFILE, ENFILE, ENOBUFS, ENOMEM): at most one per loop per
    /// back-off interval, so a loop that spun on the failing accept would show here at once.
    public let acceptPauses = Atomic<Int>(0)
    /// Connections accepted over `maxConnections`, answered 503 and closed.
    public let rejectedConnections = Atomic<Int>(0)
    /// Requests answered 503 without running their handler (over `maxInFlightRequests`).
    public let rejectedRequests = Atomic<Int>(0)
    /// Bytes read from client sockets.
    public let bytesRead = Atomic<Int>(0)
    /// Bytes written to client sockets.
    public let bytesWritten = Atomic<Int>(0)

    public init() {}
}

/// Set once by `HTTPServer.beginDrain` (any thread), read by loop threads after each handler,
/// so a response finished while the loop's drain task is still queued already says
/// `Connection: close`.
final class DrainFlag: Sendable {
    /// `MonotonicInstant.nanoseconds` of `beginDrain`; 0 until then.
    private let startedAtNanoseconds = Atomic<UInt64>(0)

    /// When the drain began; nil before.
    var startedAt: MonotonicInstant? {
        let nanoseconds = startedAtNanoseconds.load(ordering: .acquiring)
        return nanoseconds == 0 ? nil : MonotonicInstant(nanoseconds: nanoseconds)
    }

    /// Records the first call's instant; later calls change nothing.
    func begin() {
        _ = startedAtNanoseconds.compareExchange(
            expected: 0, desired: max(1, MonotonicInstant.now().nanoseconds), ordering: .acquiringAndReleasing)
    }
}

/// What every loop of one server shares; immutable.
struct ServerContext: Sendable {
    let routes: RouteTable
    let limits: HTTPLimits
    /// Unsent response bytes above which a connection stops reading and handling.
    let outputHighWaterMark: Int
    /// Over this many open connections, new ones get a 503 and are closed (see `Overload`).
    let maxConnections: Int
    /// Over this many running handlers, requests get a 503 without running theirs.
    let maxInFlightRequests: Int
    let drainTimeout: Double
    let counters: ServerCounters
    let drainFlag: DrainFlag
    let logger: (@Sendable (String) -> Void)?
}

/// A listening socket of one loop, and the TLS context source when it speaks HTTPS.
struct ListenerSocket: Sendable {
    let fd: Int32
    let tls: TLSContextSource?
}

/// One event-loop thread: its own epoll, its own listening sockets (SO_REUSEPORT; one plain,
/// one TLS when configured), its own connections and deadlines. Everything here is touched
/// only by the loop thread, except `execute` (a Mutex-guarded task list plus an eventfd
/// write), the immutable descriptors, and the TLS context sources (their own Mutex).
final class EventLoop: @unchecked Sendable {
    /// One accepted socket and its two pure state machines: the transport phase (handshake,
    /// open, lingering close) and, once open, HTTP. The shell performs their actions.
    final class Connection {
        let fd: Int32
        /// Packed with `fd` into epoll data; events carrying another generation are stale.
        let generation: UInt32
        var transport: TransportPhase
        /// HTTP; replaced with a fresh one when a TLS handshake finishes (its header timeout
        /// counts from there).
        var machine: ConnectionStateMachine
        var output: [UInt8] = []
        var outputSent = 0
        /// Output is over the high-water mark and the HTTP machine was told.
        var outputBlocked = false
        var interest: Epoll.Interest = .readable
        /// The descriptor is open (`closeNow` has not run).
        var isOpen = true
        /// The TLS session on an HTTPS listener's connection; nil for plain HTTP (and after
        /// plain HTTP arrived on the TLS port).
        var tls: TLSConnection?

        init(fd: Int32, generation: UInt32, transport: TransportPhase, machine: ConnectionStateMachine) {
            self.fd = fd
            self.generation = generation
            self.transport = transport
            self.machine = machine
        }

        var pendingOutput: Int { output.count - outputSent }
    }

    private enum ListenerState { case active, paused, closed }

    /// How long accepting pauses after EMFILE/ENFILE/ENOBUFS/ENOMEM (instead of spinning).
    static let acceptBackoffSeconds = 0.1
    /// How long a closing connection waits for the peer's FIN after our last response.
    static let lingerSeconds = 2.0
    /// How long a stopping loop keeps accepting after connection requests are dropped
    /// (`Socket.dropConnectionRequests`): handshakes already under way need one round trip to
    /// reach the accept queue, and a connection left there when the listener closes is reset.
    static let acceptSettleSeconds = 0.1
    /// Reads per readiness event per connection, so one busy client cannot starve others.
    static let readsPerEvent = 8

    /// Readiness: epoll, or a scripted selector in tests. Loop-thread only.
    private let selector: any Selector
    let wakeFD: Int32
    /// The loop thread's id, set when `run` starts; only for on-loop assertions.
    private let loopThread = Atomic<UInt>(0)
    /// Closures from other threads; guarded by the Mutex, run on the loop thread.
    private let tasks = Mutex<[@Sendable (EventLoop) -> Void]>([])

    private let context: ServerContext
    private let listeners: [ListenerSocket]
    private let stopped: Latch
    // Loop-thread only from here on.
    private var listenerState = ListenerState.active
    private var connections: [Int32: Connection] = [:]
    private var nextGeneration: UInt32 = 1
    private var deadlines = DeadlineHeap<Int32>()
    /// Reused by `perform` for the actions of each event.
    private var actionBuffer: [ConnectionStateMachine.Action] = []
    /// TLS connections that want input OpenSSL already holds (no epoll event will come for
    /// it), as (fd, generation): read before the next wait, which then does not block.
    private var bufferedInput: [(fd: Int32, generation: UInt32)] = []
    private var acceptResumeAt: MonotonicInstant?
    /// Accept failed for lack of descriptors or memory and has not succeeded since.
    private var acceptExhausted = false
    private var drainDeadline: MonotonicInstant?
    /// `stop` ran: accepting ends at `acceptUntil`; the loop ends when no connection is left.
    private var stopping = false
    /// When a stopping loop takes its last connections from the queue and closes its listeners.
    private var acceptUntil: MonotonicInstant?
    private var running = true
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    private var dateCache = DateCache()

    /// - Parameter selector: epoll unless a test scripts the readiness events.
    init(listeners: [ListenerSocket], context: ServerContext, stopped: Latch, selector: (any Selector)? = nil) throws(SystemError) {
        self.listeners = listeners
        self.context = context
        self.stopped = stopped
        let chosen: any Selector
        if let selector { chosen = selector } else { chosen = try EpollSelector() }
        self.selector = chosen
        do {
            wakeFD = try EventFD.create()
        } catch {
            chosen.close()
            throw error
        }
    }

    deinit {
        // Closed only here, never when the loop stops: another thread may still `execute`.
        closeDescriptor(wakeFD)
        selector.close()
    }

    /// Runs `task` on the loop thread soon. The only call allowed off the loop thread.
    func execute(_ task: @escaping @Sendable (EventLoop) -> Void) {
        tasks.withLock { $0.append(task) }
        EventFD.signal(wakeFD)
    }

    private static func pack(_ fd: Int32, _ generation: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
    }


    private func log(_ message: String) { context.logger?(message) }

    /// Everything but `execute` runs on the loop thread; debug builds check it.
    private func assertOnLoop() {
        assert(loopThread.load(ordering: .relaxed) == PosixThread.currentID(), "called off the event-loop thread")
    }

    // MARK: The loop

    func run() {
        loopThread.store(PosixThread.currentID(), ordering: .relaxed)
        do {
            try selector.register(wakeFD, interest: .readable, data: Self.pack(wakeFD, 0))
            try watchListeners()
        } catch {
            log("event loop could not start: \(error)")
            running = false
        }
        while running {
            let timeout = timeoutMilliseconds(now: MonotonicInstant.now())
            var now: MonotonicInstant?
            do {
                try selector.whenReady(timeoutMilliseconds: timeout) { event in
                    let instant = now ?? MonotonicInstant.now()  // one clock read per wake-up
                    now = instant
                    dispatch(event, now: instant)
                }
            } catch {
                log("waiting for readiness failed, loop stops: \(error)")
                break
            }
            runTimers(now: MonotonicInstant.now())
            readBufferedInput()
        }
        for connection in Array(connections.values) { closeNow(connection) }
        stopListening()
        stopped.countDown()
    }

    private func timeoutMilliseconds(now: MonotonicInstant) -> Int32 {
        // Runs before every epoll_wait: compared in place, no array.
        func earlier(_ a: MonotonicInstant?, _ b: MonotonicInstant?) -> MonotonicInstant? {
            guard let a else { return b }
            guard let b else { return a }
            return min(a, b)
        }
        if !bufferedInput.isEmpty { return 0 }
        let loopTimers = earlier(earlier(acceptResumeAt, acceptUntil), drainDeadline)
        guard let next = earlier(deadlines.earliest, loopTimers) else {
            return -1
        }
        if next <= now { return 0 }
        let millis = (next.nanoseconds - now.nanoseconds + 999_999) / 1_000_000
        return Int32(clamping: millis)
    }

    private func dispatch(_ event: Epoll.Event, now: MonotonicInstant) {
        let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: event.data))
        let generation = UInt32(truncatingIfNeeded: event.data >> 32)
        if generation == 0 {
            if fd == wakeFD {
                runTasks()
            } else if listenerState == .active, let listener = listeners.first(where: { $0.fd == fd }) {
                acceptConnections(from: listener, now: now)
            }
            return
        }
        guard let connection = connections[fd], connection.generation == generation else { return }
        // Fixed order: hang-up/error, writable, readable; re-check openness after each step.
        if event.hangup || event.error {
            closeNow(connection)
            return
        }
        if connection.transport.isHandshaking {
            continueHandshake(connection, now: now)
            if connection.isOpen { sync(connection) }
            return
        }
        let readWaitsForWritable = connection.transport.readResumesOnWritable(pendingOutput: connection.pendingOutput)
        if event.writable { perform(connection, after: nil, now: now) }
        if connection.isOpen, event.readable || event.readHangup || (event.writable && readWaitsForWritable) {
            readInput(connection, now: now)
        }
        if connection.isOpen { sync(connection) }
    }

    private func runTasks() {
        _ = try? EventFD.drain(wakeFD)
        let pending = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in pending { task(self) }
    }

    private func runTimers(now: MonotonicInstant) {
        if let resume = acceptResumeAt, now >= resume {
            acceptResumeAt = nil
            if listenerState == .paused {
                do {
                    try watchListeners()
                    listenerState = .active
                } catch {
                    log("could not resume accepting: \(error)")
                    acceptResumeAt = now.adding(seconds: Self.acceptBackoffSeconds)
                }
            }
        }
        if let until = acceptUntil, now >= until {
            acceptUntil = nil
            acceptRemainingAndCloseListeners(now: now)
        }
        if let deadline = drainDeadline, now >= deadline {
            log("drain timeout: closing \(connections.count) connection(s)")
            for connection in Array(connections.values) { closeNow(connection) }
            running = false
            return
        }
        for fd in deadlines.popExpired(now: now) {
            guard let connection = connections[fd] else { continue }
            switch connection.transport.timerFired(now: now) {
            case .closeLingerOver:
                closeNow(connection)
                continue
            case .closeHandshakeTimedOut:
                context.counters.tlsHandshakeTimeouts.add(1, ordering: .relaxed)
                context.counters.tlsHandshakeFailures.add(1, ordering: .relaxed)
                closeNow(connection)  // a stalled or slow-loris handshake
                continue
            case .httpTimer:
                break
            }
            perform(connection, after: .timerFired, now: now)
            if connection.isOpen { sync(connection) }
        }
    }

    // MARK: Accepting

    /// Accepts up to `limit` queued connections; true when the queue was found empty.
    @discardableResult
    private func acceptConnections(from listener: ListenerSocket, now: MonotonicInstant, limit: Int = 64) -> Bool {
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
            connections[fd] = connection
            context.counters.openConnections.add(1, ordering: .relaxed)
            context.counters.acceptedConnections.add(1, ordering: .relaxed)
            sync(connection)
        }
        return false
    }

    /// A state machine for a connection starting now, told of a drain already under way (a
    /// connection made during the drain is kept for its first request, which then closes it).
    private func newMachine(now: MonotonicInstant) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(limits: context.limits, now: now)
        if let startedAt = context.drainFlag.startedAt { _ = machine.event(.beginDrain(at: startedAt), now: now) }
        if stopping { _ = machine.event(.shutdown, now: now) }
        return machine
    }

    /// Registers every listener for accept readiness (after removing a stale registration).
    private func watchListeners() throws(SystemError) {
        for listener in listeners {
            selector.deregister(listener.fd)
            try selector.register(listener.fd, interest: .readable, data: Self.pack(listener.fd, 0))
        }
    }

    private func unwatchListeners() {
        for listener in listeners { selector.deregister(listener.fd) }
    }

    /// Stops watching the listener. The descriptor itself belongs to `HTTPServer`, which shuts
    /// it down in `shutdown` and closes it after the loops are joined, so no thread ever uses a
    /// listener number the kernel may have handed to a new socket.
    private func stopListening() {
        guard listenerState != .closed else { return }
        if listenerState == .active { unwatchListeners() }
        listenerState = .closed
        acceptResumeAt = nil
    }

    // MARK: Draining

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
        for connection in Array(connections.values) where connection.isOpen && connection.transport.isOpen {
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
        for connection in Array(connections.values) where connection.isOpen && connection.transport.isOpen {
            perform(connection, after: .shutdown, now: now)
            if connection.isOpen { sync(connection) }
        }
        stopIfFinished()
    }

    /// The end of the settle time: takes every connection still queued, then shuts the
    /// listeners down (nothing can be queued behind them any more: requests are dropped).
    private func acceptRemainingAndCloseListeners(now: MonotonicInstant) {
        if listenerState != .closed {
            for listener in listeners {
                while !acceptConnections(from: listener, now: now, limit: 1024) {}
                Socket.shutdown(listener.fd, .both)
            }
        }
        stopListening()
        stopIfFinished()
    }

    private func stopIfFinished() {
        if stopping, acceptUntil == nil, connections.isEmpty { running = false }
    }

    // MARK: One connection

    private func readInput(_ connection: Connection, now: MonotonicInstant) {
        var reads = 0
        while connection.isOpen, connection.transport.shouldRead(httpWantsToRead: connection.machine.wantsToRead),
            reads < Self.readsPerEvent
        {
            reads += 1
            // Lingering reads bypass TLS: the bytes are discarded unread.
            let outcome: TransportPhase.ReadOutcome
            var count = 0
            if let tls = connection.tls, connection.transport.isOpen {
                (count, outcome) = receive(tls)
            } else {
                do {
                    switch try scratch.withUnsafeMutableBytes({ (buffer) throws(SystemError) in try Socket.read(connection.fd, into: buffer) }) {
                    case .bytes(let n):
                        count = n
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
            case .discard:
                continue
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
    private func perform(_ connection: Connection, after event: ConnectionStateMachine.Event?, now: MonotonicInstant) {
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
                switch pending[index] {
                case .sendContinue:
                    connection.output.append(contentsOf: ResponseEncoder.continueBytes)
                case .send(let outgoing):
                    ResponseEncoder.encode(outgoing, date: dateCache.current(), into: &connection.output)
                    context.counters.responsesSent.add(1, ordering: .relaxed)
                case .handle(var request):
                    request.arrivedOverTLS = connection.tls != nil
                    let running = context.counters.inFlightRequests.add(1, ordering: .relaxed).newValue
                    let response: HTTPResponse
                    if running > context.maxInFlightRequests {
                        response = Overload.tooManyRequestsInFlight
                        context.counters.rejectedRequests.add(1, ordering: .relaxed)
                    } else {
                        response = context.routes.respond(to: request, log: context.logger)
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

    private func flush(_ connection: Connection, now: MonotonicInstant) {
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
    private func sync(_ connection: Connection) {
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
    private func readBufferedInput() {
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

    // MARK: TLS transport

    /// One handshake step, driven by readiness; when it completes the connection's state
    /// machine starts fresh (its header timeout counts from here) and any request bytes the
    /// client sent with its Finished message are read.
    private func continueHandshake(_ connection: Connection, now: MonotonicInstant) {
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

    /// A TLS read into `scratch`: the byte count and what the read said.
    private func receive(_ tls: TLSConnection) -> (Int, TransportPhase.ReadOutcome) {
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
    private func send(_ tls: TLSConnection, _ connection: Connection) -> WriteResult? {
        let (count, status) = connection.output.withUnsafeBytes { bytes in
            tls.write(UnsafeRawBufferPointer(rebasing: bytes[connection.outputSent...]))
        }
        switch status {
        case nil: return .wrote(count)
        case .wantWrite?, .wantRead?: return .wouldBlock  // renegotiation is off: wait for writable
        case .closed?, .failed?, .plainHTTP?: return nil
        }
    }

    private func closeNow(_ connection: Connection) {
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
