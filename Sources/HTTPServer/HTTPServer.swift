import Glibc
import Posix
import Synchronization

/// How the server listens and behaves. Defaults suit a single replica behind a Kubernetes
/// Service.
public struct ServerConfiguration: Sendable {
    /// Numeric IPv4 or IPv6 address to bind; default loopback `127.0.0.1` (use `0.0.0.0` in a pod).
    public var host: String = "127.0.0.1"
    /// TCP port; 0 lets the kernel choose (tests). Default 8080.
    public var port: Int = 8080
    /// Event-loop threads; default one per online CPU.
    public var eventLoopCount: Int = ServerConfiguration.onlineCPUCount
    /// Size and time limits, each answered with its own status.
    public var limits: HTTPLimits = HTTPLimits()
    /// listen(2) backlog per loop; default 1024.
    public var backlog: Int = 1024
    /// Seconds `shutdown` waits for in-flight requests before closing what is left; default 10.
    public var drainTimeout: Double = 10
    /// Unsent response bytes above which a connection stops reading until its output drains;
    /// default 256 KiB.
    public var outputHighWaterMark: Int = 256 * 1024
    /// An HTTPS listener next to the plain one (same host, its own port); default none.
    public var tls: TLSConfiguration?
    /// Open connections across all loops above which a new connection is accepted, answered
    /// `503` with `Retry-After: 1` and closed at once (bounded: it never joins the loop).
    /// Default 10 000. Keep it below `RLIMIT_NOFILE`; past that, accept fails with EMFILE
    /// and the loops pause accepting for `EventLoop.acceptBackoffSeconds` instead.
    public var maxConnections: Int = 10_000
    /// Handlers running at once across all loops above which a request is answered `503`
    /// with `Retry-After: 1` without running its handler. Default 1024. Handlers run on the
    /// loop threads, so at most `eventLoopCount` run at once anyway; a smaller value keeps
    /// some loops free of handler work (they still answer over-limit requests at once).
    public var maxInFlightRequests: Int = 1024

    public init() {}

    public init(host: String = "127.0.0.1", port: Int = 8080, eventLoopCount: Int? = nil, limits: HTTPLimits = HTTPLimits(),
                backlog: Int = 1024, drainTimeout: Double = 10) {
        self.host = host
        self.port = port
        self.eventLoopCount = eventLoopCount ?? Self.onlineCPUCount
        self.limits = limits
        self.backlog = backlog
        self.drainTimeout = drainTimeout
    }

    public static var onlineCPUCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// Why the server could not start.
public struct HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public static let alreadyStarted = HTTPServerError(description: "the server was already started")
    public static let noEventLoops = HTTPServerError(description: "eventLoopCount must be at least 1")
}

/// The HTTP/1.1 server: N event-loop threads, each with its own epoll instance and its own
/// listening socket bound to the same port with SO_REUSEPORT (the kernel spreads new
/// connections; no acceptor thread hands sockets around). With port 0 the first socket is
/// bound, its port read, and the others bound to it. A connection lives on one loop for its
/// whole life; its handlers run synchronously on that loop's thread, one request at a time.
public final class HTTPServer: Sendable {
    private enum Phase: Sendable { case new, running, stopped }

    private struct State: Sendable {
        var phase = Phase.new
        var loops: [EventLoop] = []
        var threads: [pthread_t] = []
        var listeners: [Int32] = []
        var stopped = Latch(count: 0)
        var tlsPort: Int?
        /// Reloads the TLS certificate off the loops; nil without TLS.
        var certificateWatcher: FileWatcher?
    }

    public let configuration: ServerConfiguration
    /// Open connections, in-flight requests and totals, for metrics.
    public let counters: ServerCounters
    private let context: ServerContext
    private let drainFlag = DrainFlag()
    /// Guards the loops, threads and latches (written by start/waitUntilStopped).
    private let state = Mutex(State())
    /// True from a successful `start` until `shutdown`.
    private let accepting = Atomic<Bool>(false)

    /// - Parameter counters: where the loops count connections, requests and bytes; pass one
    ///   in to read it from routes registered before the server exists (`/metrics`).
    public init(
        configuration: ServerConfiguration, router: Router, counters: ServerCounters = ServerCounters(),
        logger: (@Sendable (String) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.counters = counters
        self.context = ServerContext(
            routes: router.frozen(), limits: configuration.limits,
            outputHighWaterMark: max(1, configuration.outputHighWaterMark),
            maxConnections: max(1, configuration.maxConnections),
            maxInFlightRequests: max(1, configuration.maxInFlightRequests),
            drainTimeout: configuration.drainTimeout, counters: counters, drainFlag: drainFlag, logger: logger)
    }

    public var isAccepting: Bool { accepting.load(ordering: .acquiring) }

    /// The bound HTTPS port once started with `configuration.tls`; nil otherwise.
    public var tlsPort: Int? { state.withLock { $0.tlsPort } }

    /// Binds `count` SO_REUSEPORT listeners on `port` (0: the first one's kernel-chosen port);
    /// appends them to `listeners` (so the caller closes them on failure) and returns the port.
    private func bindListeners(count: Int, port requested: Int, into listeners: inout [Int32]) throws -> Int {
        var port = requested
        let ipv6 = try Socket.Address(host: configuration.host, port: port).isIPv6
        for index in 0..<count {
            let fd = try Socket.makeTCP(ipv6: ipv6)
            listeners.append(fd)
            try Socket.setReuseAddress(fd)
            try Socket.setReusePort(fd)
            try Socket.bind(fd, to: Socket.Address(host: configuration.host, port: port))
            try Socket.listen(fd, backlog: configuration.backlog)
            if index == 0 { port = try Socket.localPort(fd) }
        }
        return port
    }

    /// Binds, listens and starts the loops; returns the bound port.
    public func start() throws -> Int {
        let count = configuration.eventLoopCount
        guard count >= 1 else { throw HTTPServerError.noEventLoops }
        try state.withLock { (state) throws(HTTPServerError) in
            guard state.phase == .new else { throw .alreadyStarted }
            state.phase = .running
        }
        Signals.ignoreBrokenPipe()
        var listeners: [Int32] = []
        var port = configuration.port
        var tlsPort: Int?
        var tlsSource: TLSContextSource?
        var certificateWatcher: FileWatcher?
        do {
            // The certificate loads first: a bad path or key fails start-up before any bind.
            if let tls = configuration.tls {
                let source = try TLSContextSource(configuration: tls)
                tlsSource = source
                let logger = context.logger
                let watcher = try FileWatcher { problem in logger?("certificate watcher: \(problem)") }
                watcher.watch(
                    files: source.files, loaded: source.loadedIdentities,
                    interval: .milliseconds(Int(tls.reloadInterval * 1000))
                ) { source.reload { logger?($0) } }
                try watcher.start()
                certificateWatcher = watcher
            }
            port = try bindListeners(count: count, port: port, into: &listeners)
            if let tls = configuration.tls {
                tlsPort = try bindListeners(count: count, port: tls.port, into: &listeners)
            }
        } catch {
            certificateWatcher?.stop()
            listeners.forEach(closeDescriptor)
            state.withLock { $0.phase = .stopped }
            throw error
        }
        let stopped = Latch(count: count)
        var loops: [EventLoop] = []
        var threads: [pthread_t] = []
        do {
            for index in 0..<count {
                var sockets = [ListenerSocket(fd: listeners[index], tls: nil)]
                if let tlsSource { sockets.append(ListenerSocket(fd: listeners[count + index], tls: tlsSource)) }
                loops.append(try EventLoop(listeners: sockets, context: context, stopped: stopped))
            }
            for loop in loops { threads.append(try PosixThread.spawn { loop.run() }) }
        } catch {
            // Loops that started are drained and joined; then every listener is closed.
            for loop in loops.prefix(threads.count) { loop.execute { $0.stop() } }
            threads.forEach(PosixThread.join)
            certificateWatcher?.stop()
            listeners.forEach(closeDescriptor)
            state.withLock { $0.phase = .stopped }
            throw error
        }
        state.withLock { state in
            state.certificateWatcher = certificateWatcher
            state.loops = loops
            state.threads = threads
            state.listeners = listeners
            state.stopped = stopped
            state.tlsPort = tlsPort
        }
        accepting.store(true, ordering: .releasing)
        context.logger?("http server listening on \(configuration.host):\(port) with \(count) event loop(s)")
        if let tlsPort, let tlsSource {
            let certificate = tlsSource.current
            context.logger?("https listening on \(configuration.host):\(tlsPort) (certificate subject \(certificate.subject), serial \(certificate.serial))")
        }
        return port
    }

    /// Drain, step one: from now on every response carries `Connection: close` and its
    /// connection closes after it, so pooled clients move to new connections (to other replicas
    /// once endpoints update). Accepting goes on; idle connections stay open. Safe from any
    /// thread; call `stop` after the grace.
    public func beginDrain() {
        guard isAccepting else { return }
        drainFlag.begin()
        for loop in state.withLock({ $0.loops }) { loop.execute { $0.beginDrain() } }
        context.logger?("http server draining: every response closes its connection")
    }

    /// Drain, step two: stops accepting without resetting a connection a client already made,
    /// lets every request a client has begun finish, and stops each loop when its connections
    /// are gone or after `drainTimeout`. Safe from any thread, including a handler.
    ///
    /// The listeners start dropping connection requests right here on the calling thread (a
    /// socket filter; connects made from now on are refused once the listeners close); each
    /// loop then accepts what is already queued or mid-handshake for
    /// `EventLoop.acceptSettleSeconds`, and shuts its listeners down. The descriptors are
    /// closed only after the loops are joined, so a number is never reused under a loop.
    ///
    /// Connections idle since before `beginDrain` (or every idle one, without it) close at
    /// once: their clients sent nothing for the whole grace. A client that writes on such a
    /// connection at that very moment sees it closed without a response, as with any idle
    /// timeout (RFC 9112 §9.3.1); a connection made or used during the grace is answered.
    public func stop() {
        guard accepting.exchange(false, ordering: .acquiringAndReleasing) else { return }
        // Responses finishing from here on close their connections (no-op after `beginDrain`).
        drainFlag.begin()
        let (loops, listeners) = state.withLock { ($0.loops, $0.listeners) }
        for fd in listeners {
            do {
                try Socket.dropConnectionRequests(fd)
            } catch {
                // Without the filter, stop accepting the old way: queued connections are reset.
                context.logger?("cannot filter connection requests (\(error)); closing the listener at once")
                Socket.shutdown(fd, .both)
            }
        }
        for loop in loops { loop.execute { $0.stop() } }
        context.logger?("http server stopping: not accepting; finishing requests in progress")
    }

    /// Blocks until every loop has exited (after `stop`), then joins the loop threads and
    /// closes the listening sockets; returns at once if never started.
    public func waitUntilStopped() {
        let stopped = state.withLock { $0.stopped }
        stopped.wait()
        let (threads, listeners, watcher) = state.withLock { state in
            defer {
                state.threads = []
                state.listeners = []
                state.certificateWatcher = nil
                state.phase = .stopped
            }
            return (state.threads, state.listeners, state.certificateWatcher)
        }
        watcher?.stop()
        threads.forEach(PosixThread.join)
        listeners.forEach(closeDescriptor)  // only now: no loop can touch them any more
    }
}
