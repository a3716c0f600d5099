import Glibc
import JSON
import Logging
import Posix
import Synchronization

/// swift-log handler that writes one JSON object a line: `ts`, `level`, `logger`, `msg`,
/// then the metadata under its dotted keys (`request.id`, `model.version`, …). Messages are
/// constant; data goes in metadata so log pipelines can index it.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level = .info, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let error = event.error { merged["error"] = .string(String(describing: error)) }
        sink.write(Self.line(timestamp: Self.timestamp(), level: event.level, label: label, message: event.message.description, metadata: merged))
    }

    /// One log line, ending in a newline. Metadata keys are sorted so lines diff cleanly.
    static func line(timestamp: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.raw("{\"ts\":")
        writer.string(timestamp)
        writer.raw(",\"level\":")
        writer.string(level.rawValue)
        writer.raw(",\"logger\":")
        writer.string(label)
        writer.raw(",\"msg\":")
        writer.string(message)
        for key in metadata.keys.sorted() where !["ts", "level", "logger", "msg"].contains(key) {
            writer.raw(",")
            writer.string(key)
            writer.raw(":")
            writer.value(Self.json(metadata[key]!))
        }
        writer.raw("}\n")
        return writer.bytes
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): .string(s)
        case .stringConvertible(let c):
            if let n = c as? any BinaryInteger { .number(Double(n)) }
            else if let d = c as? Double { .number(d) }
            else if let b = c as? Bool { .bool(b) }
            else { .string(c.description) }
        case .array(let items): .array(items.map(json))
        case .dictionary(let dict): .object(JSONObject(dict.keys.sorted().map { (key: $0, value: json(dict[$0]!)) }))
        }
    }

    /// RFC 3339 UTC with milliseconds, from the realtime clock.
    static func timestamp(at now: timespec = .realtimeNow) -> String {
        withTimestamp(at: now) { String(decoding: $0, as: UTF8.self) }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` (24 bytes) on the stack, for `body` to copy. The part up to
    /// the seconds' dot changes once a second: it is formatted then (`gmtime_r`) and kept for
    /// every line of that second, whichever thread writes it.
    static func withTimestamp<T>(at now: timespec, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        var text = lastSecond.withLock { last in
            if last.second != now.tv_sec { last = (now.tv_sec, formatSecond(now.tv_sec)) }
            return last.text
        }
        return withUnsafeMutableBytes(of: &text) { buffer in
            var millis = now.tv_nsec / 1_000_000
            for i in stride(from: 22, through: 20, by: -1) {
                buffer[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: millis % 10)
                millis /= 10
            }
            buffer[23] = UInt8(ascii: "Z")
            return body(UnsafeRawBufferPointer(rebasing: buffer[0..<24]))
        }
    }

    /// The second `lastSecond.text` was formatted for, and its first 20 bytes
    /// (`YYYY-MM-DDTHH:MM:SS.`) in three words' room.
    private static let lastSecond = Mutex<(second: Int, text: (UInt64, UInt64, UInt64))>((Int.min, (0, 0, 0)))

    private static func formatSecond(_ second: Int) -> (UInt64, UInt64, UInt64) {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &text) { buffer in
            var at = 0
            func put(_ value: Int, _ width: Int) {
                var n = value
                for i in stride(from: width - 1, through: 0, by: -1) {
                    buffer[at + i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: n % 10)
                    n /= 10
                }
                at += width
            }
            func put(_ byte: Unicode.Scalar) {
                buffer[at] = UInt8(ascii: byte)
                at += 1
            }
            put(Int(parts.tm_year) + 1900, 4); put("-"); put(Int(parts.tm_mon) + 1, 2); put("-"); put(Int(parts.tm_mday), 2)
            put("T"); put(Int(parts.tm_hour), 2); put(":"); put(Int(parts.tm_min), 2); put(":"); put(Int(parts.tm_sec), 2)
            put(".")
        }
        return text
    }
}

extension timespec {
    static var realtimeNow: timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }
}

/// Where log lines go.
public struct LogSink: Sendable {
    /// Takes bytes holding whole lines, borrowed for the call (the access log's lines are
    /// written on the stack).
    private let writeBytes: @Sendable (UnsafeRawBufferPointer) -> Void
    /// Pushes out anything buffered; call before the process exits.
    public let flush: @Sendable () -> Void

    public init(write: @escaping @Sendable ([UInt8]) -> Void, flush: @escaping @Sendable () -> Void = {}) {
        self.init(borrowing: { write(Array($0)) }, flush: flush)
    }

    private init(borrowing writeBytes: @escaping @Sendable (UnsafeRawBufferPointer) -> Void, flush: @escaping @Sendable () -> Void) {
        self.writeBytes = writeBytes
        self.flush = flush
    }

    public func write(_ line: [UInt8]) {
        line.withUnsafeBytes(writeBytes)
    }

    func write(bytes: UnsafeRawBufferPointer) {
        writeBytes(bytes)
    }

    /// Unbuffered: one write(2) per line, which keeps lines whole when threads log at once.
    public static let standardError = LogSink(borrowing: { bytes in writeAll(bytes, to: 2) }, flush: {})

    /// Lines are appended to a buffer that a background thread writes out every
    /// `interval` (or sooner, by the logging thread itself, past `limit` bytes), so a busy
    /// server pays one write(2) per batch instead of one per request. Lines stay whole and
    /// in order; `flush` empties the buffer at exit.
    public static func bufferedStandardError(interval: Duration = .milliseconds(100), limit: Int = 256 * 1024) -> LogSink {
        buffered(fd: 2, interval: interval, limit: limit)
    }

    /// The same, writing to any descriptor (tests use a pipe).
    public static func buffered(fd: Int32, interval: Duration, limit: Int) -> LogSink {
        let buffer = LogBuffer(fd: fd, limit: limit)
        buffer.startFlushing(every: interval)
        return LogSink(borrowing: buffer.append, flush: buffer.flush)
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { writeAll($0, to: fd) }
    }

    static func writeAll(_ raw: UnsafeRawBufferPointer, to fd: Int32) {
        var offset = 0
        while offset < raw.count {
            let base = raw.baseAddress! + offset
            let remaining = raw.count - offset
            guard let n = try? syscallBlocking("write", { Glibc.write(fd, base, remaining) }), n > 0 else { return }
            offset += n
        }
    }
}

/// The buffer behind `bufferedStandardError`, shared by every logging thread and the
/// flusher.
final class LogBuffer: Sendable {
    /// Lines not yet written, and an emptied buffer with its room kept to swap in when they
    /// are taken: a full buffer handed to write(2) and replaced by a new one had cost an
    /// allocation of `limit` bytes every few thousand requests.
    private let state = Mutex<(pending: [UInt8], spare: [UInt8])>(([], []))
    /// Held while a batch is taken and written, so batches go out in the order they were
    /// taken, whichever thread writes them.
    private let writing = Mutex<Void>(())
    private let limit: Int
    private let fd: Int32

    init(fd: Int32, limit: Int) {
        self.fd = fd
        self.limit = limit
    }

    @Sendable func append(_ line: UnsafeRawBufferPointer) {
        let full = state.withLock { state -> Bool in
            if state.pending.capacity == 0 { state.pending.reserveCapacity(limit + 4096) }
            state.pending.append(contentsOf: line.assumingMemoryBound(to: UInt8.self))
            return state.pending.count >= limit
        }
        if full { flush() }
    }

    @Sendable func flush() {
        writing.withLock { _ in
            var batch = state.withLock { state -> [UInt8] in
                var taken = state.spare
                state.spare = []
                swap(&taken, &state.pending)
                return taken
            }
            guard !batch.isEmpty else { return }
            LogSink.writeAll(batch, to: fd)
            batch.removeAll(keepingCapacity: true)
            state.withLock { $0.spare = batch }
        }
    }

    func startFlushing(every interval: Duration) {
        let nanoseconds = max(1_000_000, interval.wholeNanoseconds)
        _ = try? PosixThread.spawn { [self] in
            var delay = timespec(tv_sec: nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
            while true {
                _ = nanosleep(&delay, nil)
                flush()
            }
        }
    }
}
