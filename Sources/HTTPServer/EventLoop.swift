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
    /// Times a TLS connection idle for `EventLoop.idleTLSBufferSeconds` had its record
    /// buffers freed (busy connections keep theirs).
    public let tlsIdleBufferReleases = Atomic<Int>(0)
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
    let startedAtNanoseconds = Atomic<UInt64>(0)

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
        /// The last readiness event's instant (the loop's clock read for that wake-up).
        var lastEvent = MonotonicInstant(nanoseconds: 0)
        /// The TLS session may hold record buffers (set on every event, cleared when the
        /// idle sweep frees them).
        var tlsBuffersHeld = false

        init(fd: Int32, generation: UInt32, transport: TransportPhase, machine: ConnectionStateMachine) {
            self.fd = fd
            self.generation = generation
            self.transport = transport
            self.machine = machine
        }

        var pendingOutput: Int { output.count - outputSent }
    }

    enum ListenerState { case active, paused, closed }

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
    let selector: any Selector
    let wakeFD: Int32
    /// The loop thread's id, set when `run` starts; only for on-loop assertions.
    let loopThread = Atomic<UInt>(0)
    /// Closures from other threads; guarded by the Mutex, run on the loop thread.
    let tasks = Mutex<[@Sendable (EventLoop) -> Void]>([])

    let context: ServerContext
    let listeners: [ListenerSocket]
    let stopped: Latch
    // Loop-thread only from here on.
    var listenerState = ListenerState.active
    var connections = DescriptorMap<Connection>()
    var nextGeneration: UInt32 = 1
    var deadlines = DeadlineHeap()
    /// Reused by `perform` for the actions of each event.
    var actionBuffer: [ConnectionStateMachine.Action] = []
    /// TLS connections that want input OpenSSL already holds (no epoll event will come for
    /// it), as (fd, generation): read before the next wait, which then does not block.
    var bufferedInput: [(fd: Int32, generation: UInt32)] = []
    var acceptResumeAt: MonotonicInstant?
    /// Accept failed for lack of descriptors or memory and has not succeeded since.
    var acceptExhausted = false
    var drainDeadline: MonotonicInstant?
    /// When the loop next frees the record buffers of idle TLS connections (nil: no TLS
    /// connection holds any).
    var tlsBufferSweepAt: MonotonicInstant?
    /// `stop` ran: accepting ends at `acceptUntil`; the loop ends when no connection is left.
    var stopping = false
    /// When a stopping loop takes its last connections from the queue and closes its listeners.
    var acceptUntil: MonotonicInstant?
    var running = true
    var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    var dateCache = DateCache()

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

    static func pack(_ fd: Int32, _ generation: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
    }


    func log(_ message: String) { context.logger?(message) }

    /// Everything but `execute` runs on the loop thread; debug builds check it.
    func assertOnLoop() {
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
        for connection in connections.values { closeNow(connection) }
        stopListening()
        stopped.countDown()
    }

    func timeoutMilliseconds(now: MonotonicInstant) -> Int32 {
        // Runs before every epoll_wait: compared in place, no array.
        func earlier(_ a: MonotonicInstant?, _ b: MonotonicInstant?) -> MonotonicInstant? {
            guard let a else { return b }
            guard let b else { return a }
            return min(a, b)
        }
        if !bufferedInput.isEmpty { return 0 }
        let loopTimers = earlier(earlier(earlier(acceptResumeAt, acceptUntil), drainDeadline), tlsBufferSweepAt)
        guard let next = earlier(deadlines.earliest, loopTimers) else {
            return -1
        }
        if next <= now { return 0 }
        let millis = (next.nanoseconds - now.nanoseconds + 999_999) / 1_000_000
        return Int32(clamping: millis)
    }

    func dispatch(_ event: Epoll.Event, now: MonotonicInstant) {
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
        connection.lastEvent = now
        if connection.tls != nil, !connection.tlsBuffersHeld { holdTLSBuffers(connection, now: now) }
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

    func runTasks() {
        _ = try? EventFD.drain(wakeFD)
        let pending = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in pending { task(self) }
    }

    func runTimers(now: MonotonicInstant) {
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
        if let sweep = tlsBufferSweepAt, now >= sweep { releaseIdleTLSBuffers(now: now) }
        if let deadline = drainDeadline, now >= deadline {
            log("drain timeout: closing \(connections.count) connection(s)")
            for connection in connections.values { closeNow(connection) }
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
}
