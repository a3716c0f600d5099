import FoundationEssentials
import Glibc
import Posix
import Synchronization

/// Where sampled listings are written (`payload_log.*`).
public struct PayloadLogConfiguration: Sendable {
    /// The file; rotated files are `<path>.1` (newest) … `<path>.<maxFiles − 1>`.
    public var path: String
    /// Share of scored listings written, evenly spread (0.01: one in a hundred).
    public var sampleRate: Double
    /// A file is rotated before a line would take it past this size.
    public var maxBytes: Int
    /// Files kept, the current one included (1: the current file is truncated on rotation).
    public var maxFiles: Int
    /// Lines waiting for the writer; beyond it lines are dropped and counted.
    public var queueCapacity: Int

    public init(path: String, sampleRate: Double, maxBytes: Int = 64 << 20, maxFiles: Int = 5, queueCapacity: Int = 1024) {
        self.path = path
        self.sampleRate = sampleRate
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
        self.queueCapacity = queueCapacity
    }
}

/// Samples scored listings into a JSON-lines file, off the event loops: request threads only
/// pick which listings are sampled (one atomic add); the monitor's worker encodes the lines and
/// offers them to this writer's queue; the writer thread appends them and rotates by size. A
/// writer that falls behind (slow disk) never slows anything: lines that do not fit the queue
/// are dropped and counted.
///
/// Threads: `sampled` is an atomic; the queue has its own lock; `file`, `size` are touched by
/// the writer thread only; the counters are atomics.
public final class PayloadLog: Sendable {
    public let configuration: PayloadLogConfiguration
    private let queue: WorkQueue<[UInt8]>
    /// Listings seen by the sampler.
    private let seen = Atomic<Int>(0)
    /// Lines written, dropped (queue full), and write errors.
    public let written = Atomic<Int>(0)
    public let dropped = Atomic<Int>(0)
    public let writeErrors = Atomic<Int>(0)
    /// Rotations done.
    public let rotations = Atomic<Int>(0)
    private let thread = Mutex<pthread_t?>(nil)
    private let onProblem: @Sendable (String) -> Void
    /// Runs before each write on the writer thread (tests make the disk slow with it).
    private let testsOnly_beforeWrite: (@Sendable () -> Void)?

    public init(configuration: PayloadLogConfiguration, onProblem: @escaping @Sendable (String) -> Void = { _ in },
                testsOnly_beforeWrite: (@Sendable () -> Void)? = nil) {
        self.configuration = configuration
        self.onProblem = onProblem
        self.testsOnly_beforeWrite = testsOnly_beforeWrite
        queue = WorkQueue(capacity: configuration.queueCapacity, linger: .milliseconds(10))
    }

    /// Starts the writer thread.
    public func start() throws(SystemError) {
        let id = try PosixThread.spawn { [self] in run() }
        thread.withLock { $0 = id }
    }

    /// Writes what is queued, then stops the writer thread.
    public func stop() {
        queue.close()
        if let id = thread.withLock({ current in defer { current = nil }; return current }) { PosixThread.join(id) }
    }

    /// Which of `count` listings scored together are sampled (indices), spreading the rate
    /// evenly over every listing the service scores. One atomic add.
    public func sample(count: Int) -> [Int] {
        let rate = configuration.sampleRate
        guard rate > 0, count > 0 else { return [] }
        let start = seen.wrappingAdd(count, ordering: .relaxed).oldValue
        var picked: [Int] = []
        for i in 0..<count {
            let k = Double(start + i)
            if (Double(k + 1) * rate).rounded(.down) > (k * rate).rounded(.down) { picked.append(i) }
        }
        return picked
    }

    /// Queues one line (a newline is added); counted as dropped when the writer is behind.
    public func offer(_ line: [UInt8]) {
        if !queue.offer(line + [0x0A]) { dropped.add(1, ordering: .relaxed) }
    }

    private func run() {
        var writer = RotatingFile(configuration: configuration)
        while let line = queue.take() {
            testsOnly_beforeWrite?()
            do {
                if try writer.append(line) { rotations.add(1, ordering: .relaxed) }
                written.add(1, ordering: .relaxed)
            } catch {
                writeErrors.add(1, ordering: .relaxed)
                onProblem("\(error)")
            }
        }
        writer.close()
    }
}

/// An append-only file rotated by size: `path` → `path.1` → … → `path.<maxFiles − 1>` (the
/// oldest is removed). Used by one thread.
struct RotatingFile {
    let configuration: PayloadLogConfiguration
    private var fd: Int32 = -1
    private var size = 0

    init(configuration: PayloadLogConfiguration) {
        self.configuration = configuration
    }

    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    /// Appends `line`, rotating first when it would pass `maxBytes`; returns whether it rotated.
    mutating func append(_ line: [UInt8]) throws -> Bool {
        if fd < 0 { try open() }
        var rotated = false
        if size > 0, size + line.count > configuration.maxBytes {
            rotate()
            try open()
            rotated = true
        }
        var offset = 0
        while offset < line.count {
            let n = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, line.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(description: "write \(configuration.path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        size += line.count
        return rotated
    }

    private mutating func open() throws {
        fd = Glibc.open(configuration.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw WriteError(description: "open \(configuration.path): \(String(cString: strerror(errno)))") }
        var status = stat()
        size = fstat(fd, &status) == 0 ? Int(status.st_size) : 0
    }

    private mutating func rotate() {
        close()
        let path = configuration.path
        if configuration.maxFiles <= 1 {
            unlink(path)
            return
        }
        unlink("\(path).\(configuration.maxFiles - 1)")
        for k in stride(from: configuration.maxFiles - 2, through: 1, by: -1) {
            Glibc.rename("\(path).\(k)", "\(path).\(k + 1)")
        }
        Glibc.rename(path, "\(path).1")
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
