import Glibc
import JSON
import Posix

/// Whole lines of a byte stream, in batches: the reader's half of `ParallelScoring` (pure).
/// Each `feed` returns the lines completed by a chunk as one batch; a line split across
/// chunks waits (its bytes are all that is kept between chunks).
public struct LineChunker {
    /// Bytes after the last LF seen.
    private var pending: [UInt8] = []
    private var nextSequence = 0
    /// Number (1-based) of the first line not yet handed out.
    public private(set) var nextLineNumber = 1

    public init() {}

    /// The lines that `chunk` completes (each with its LF), or nil when it completes none.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) -> LineBatch? {
        let chunk = chunk.bindMemory(to: UInt8.self)
        guard let last = chunk.lastIndex(of: 0x0A) else {
            pending.append(contentsOf: chunk)
            return nil
        }
        var bytes = pending
        pending = []
        bytes.append(contentsOf: chunk[...last])
        pending.append(contentsOf: chunk[(last + 1)...])
        return batch(bytes)
    }

    /// The last line when the stream did not end with an LF.
    public mutating func finish() -> LineBatch? {
        guard !pending.isEmpty else { return nil }
        defer { pending = [] }
        return batch(pending)
    }

    private mutating func batch(_ bytes: [UInt8]) -> LineBatch {
        let batch = LineBatch(sequence: nextSequence, firstLine: nextLineNumber, bytes: bytes)
        nextSequence += 1
        nextLineNumber += bytes.count { $0 == 0x0A } + (bytes.last == 0x0A ? 0 : 1)
        return batch
    }
}

/// Consecutive lines of the input: `bytes` holds whole lines (the last may lack its LF).
public struct LineBatch: Sendable, Equatable {
    /// Position among the batches (0, 1, …): results are written in this order.
    public var sequence: Int
    /// Number (1-based) of its first line in the input.
    public var firstLine: Int
    public var bytes: [UInt8]
}

/// One scored batch: the output lines, the lines that failed (in order), and whether scoring
/// stopped at the first failure.
public struct ScoredBatch: Sendable {
    public var sequence: Int
    /// Bytes of input the batch held.
    public var inputBytes: Int
    public var output: [UInt8]
    public var scored: Int
    public var errors: [BatchPredictor.LineError]
    public var stopped: Bool
}

extension BatchPredictor {
    /// Scores every line of `batch` (blank lines skipped); with `keepGoing` false, stops at the
    /// first line that fails.
    public func score(_ batch: LineBatch, keepGoing: Bool) -> ScoredBatch {
        var out = JSONWriter(capacity: batch.bytes.count / 2 + 64)
        var result = ScoredBatch(sequence: batch.sequence, inputBytes: batch.bytes.count, output: [], scored: 0, errors: [], stopped: false)
        batch.bytes.withUnsafeBufferPointer { all in
            var number = batch.firstLine
            var start = 0
            while start < all.count {
                let end = all[start...].firstIndex(of: 0x0A) ?? all.count
                do throws(BatchPredictor.LineError) {
                    if try predict(line: UnsafeBufferPointer(rebasing: all[start..<end]), number: number, into: &out) {
                        result.scored += 1
                    }
                } catch {
                    result.errors.append(error)
                    if !keepGoing {
                        result.stopped = true
                        break
                    }
                }
                number += 1
                start = end + 1
            }
        }
        result.output = out.bytes
        return result
    }
}

/// `vigia predict` on every core with bounded memory: the calling thread reads the input in
/// chunks of `chunkSize` bytes and cuts them into batches of whole lines (`LineChunker`);
/// `threads` worker threads score batches (`BatchPredictor.score`); the calling thread writes
/// the results in input order. At most `2 × threads + 1` batches are read and not yet written,
/// so memory stays a few chunks whatever the input's size.
///
/// Shared between threads: the queue of batches to score, the finished results, the
/// `closed` flag and the next batch to write, all guarded by one pthread mutex, with one
/// condition variable broadcast on every change. The model and the predictor are immutable.
public final class ParallelScoring: @unchecked Sendable {
    public struct Summary: Sendable {
        /// Lines scored (blank lines and failures not counted).
        public var scored = 0
        /// Lines that failed.
        public var failed = 0
        /// The failure that stopped the run (without keep-going).
        public var stoppedBy: BatchPredictor.LineError?
    }

    private let predictor: BatchPredictor
    private let threads: Int
    private let keepGoing: Bool
    private let chunkSize: Int

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`:
    private var queue: [LineBatch] = []
    private var queueHead = 0
    private var results: [Int: ScoredBatch] = [:]
    private var closed = false

    public init(predictor: BatchPredictor, threads: Int, keepGoing: Bool, chunkSize: Int = 1 << 18) {
        precondition(threads >= 1 && chunkSize >= 1)
        self.predictor = predictor
        self.threads = threads
        self.keepGoing = keepGoing
        self.chunkSize = chunkSize
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        changed.deallocate()
    }

    /// Reads `input` to its end (or to the first failure without keep-going), writes the output
    /// lines to `output` in input order, and calls `report` with each failure in input order
    /// and `progress` with the running totals of scored lines and input bytes after each write. Throws when
    /// reading or writing fails or a worker thread cannot start.
    public func run(input: Int32, output: Int32, report: (BatchPredictor.LineError) -> Void,
                    progress: (_ scored: Int, _ inputBytes: Int) -> Void) throws(SystemError) -> Summary {
        var workers: [pthread_t] = []
        defer {
            close()
            for worker in workers { PosixThread.join(worker) }
        }
        for _ in 0..<threads { workers.append(try PosixThread.spawn { [self] in work() }) }

        var summary = Summary()
        var chunker = LineChunker()
        var enqueued = 0, written = 0, inputBytes = 0
        /// Writes the next result in order (waiting for it); false once a failure stopped the run.
        func writeNext() throws(SystemError) -> Bool {
            let result = next(written)
            written += 1
            try Self.writeAll(result.output, to: output)
            summary.scored += result.scored
            summary.failed += result.errors.count
            for error in result.errors { report(error) }
            inputBytes += result.inputBytes
            progress(summary.scored, inputBytes)
            if result.stopped {
                summary.stoppedBy = result.errors.last
                return false
            }
            return true
        }
        let limit = 2 * threads + 1
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var reading = true
        while reading {
            let count = try Self.read(input, into: buffer)
            var batch: LineBatch?
            if count == 0 {
                reading = false
                batch = chunker.finish()
            } else {
                batch = chunker.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
            guard let batch else { continue }
            while enqueued - written >= limit {
                if try !writeNext() { return summary }
            }
            enqueue(batch)
            enqueued += 1
        }
        while written < enqueued {
            if try !writeNext() { return summary }
        }
        return summary
    }

    private func enqueue(_ batch: LineBatch) {
        pthread_mutex_lock(mutex)
        if queueHead > 64 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        queue.append(batch)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// The result of batch `sequence`, waiting for a worker to finish it.
    private func next(_ sequence: Int) -> ScoredBatch {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let result = results.removeValue(forKey: sequence) { return result }
            pthread_cond_wait(changed, mutex)
        }
    }

    /// Stops the workers once the queue is empty; batches still queued are dropped.
    private func close() {
        pthread_mutex_lock(mutex)
        closed = true
        queue.removeAll()
        queueHead = 0
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// A worker: takes batches until the run closes.
    private func work() {
        while true {
            pthread_mutex_lock(mutex)
            while queueHead == queue.count && !closed { pthread_cond_wait(changed, mutex) }
            if closed {
                pthread_mutex_unlock(mutex)
                return
            }
            let batch = queue[queueHead]
            queueHead += 1
            pthread_mutex_unlock(mutex)

            let result = predictor.score(batch, keepGoing: keepGoing)

            pthread_mutex_lock(mutex)
            results[result.sequence] = result
            pthread_cond_broadcast(changed)
            pthread_mutex_unlock(mutex)
        }
    }

    private static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw SystemError(call: "read", errno: errno) }
        }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) throws(SystemError) {
        try bytes.withUnsafeBufferPointer { raw throws(SystemError) in
            var offset = 0
            while offset < raw.count {
                let count = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw SystemError(call: "write", errno: errno)
                }
                offset += count
            }
        }
    }
}
