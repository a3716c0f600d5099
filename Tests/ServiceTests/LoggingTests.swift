import Glibc
import JSON
import Logging
import Synchronization
import Dispatch
import Testing
@testable import Service

@Suite(.timeLimit(.minutes(10))) struct JSONLogHandlerTests {
    @Test func writesOneJSONObjectPerLineWithDottedMetadata() throws {
        let lines = Mutex<[[UInt8]]>([])
        var logger = Logger(label: "vigia.test") { label in
            JSONLogHandler(label: label, level: .debug, sink: LogSink { bytes in lines.withLock { $0.append(bytes) } })
        }
        logger[metadataKey: "request.id"] = "r-1"
        logger.info("request finished", metadata: ["http.status": "200", "duration_ms": .stringConvertible(1.5)])
        logger.trace("not written")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.last == UInt8(ascii: "\n"))
        let object = try JSONParser.parse(Array(line.dropLast()))
        #expect(object["msg"] == "request finished")
        #expect(object["level"] == "info")
        #expect(object["logger"] == "vigia.test")
        #expect(object["request.id"] == "r-1")
        #expect(object["http.status"] == "200")
        #expect(object["duration_ms"] == 1.5)
        let timestamp = try #require(object["ts"]?.stringValue)
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z"))
    }

    /// Pinned instants, including a leap day and the last second of a century, and the
    /// milliseconds truncated (never rounded up into the next second).
    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        #expect(JSONLogHandler.timestamp(at: timespec(tv_sec: 0, tv_nsec: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(JSONLogHandler.timestamp(at: timespec(tv_sec: 951_782_400, tv_nsec: 7_000_000)) == "2000-02-29T00:00:00.007Z")
        #expect(JSONLogHandler.timestamp(at: timespec(tv_sec: 4_102_444_799, tv_nsec: 999_999_999)) == "2099-12-31T23:59:59.999Z")
        #expect(JSONLogHandler.timestamp(at: timespec(tv_sec: 1_733_329_200, tv_nsec: 123_456_789)) == "2024-12-04T16:20:00.123Z")
        // The same second again (its formatted part reused), then an earlier one.
        #expect(JSONLogHandler.timestamp(at: timespec(tv_sec: 1_733_329_200, tv_nsec: 5_000_000)) == "2024-12-04T16:20:00.005Z")
        #expect(JSONLogHandler.timestamp(at: timespec(tv_sec: 1_733_329_199, tv_nsec: 999_999_999)) == "2024-12-04T16:19:59.999Z")
        // The bytes the access log copies, for the clock's now.
        let written = JSONLogHandler.withTimestamp(at: .realtimeNow) { String(decoding: $0, as: UTF8.self) }
        #expect(written.utf8.count == 24 && written.hasSuffix("Z") && written.hasPrefix("20"), "\(written)")
    }

    @Test func bufferedSinkKeepsLinesWholeAndInOrderAcrossThreads() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        // A limit small enough that logging threads also write batches themselves.
        let sink = LogSink.buffered(fd: fds[1], interval: .seconds(3600), limit: 512)
        let threads = 4, perThread = 200
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread { sink.write(Array("{\"t\":\(t),\"i\":\(i)}\n".utf8)) }
        }
        sink.flush()
        close(fds[1])
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fds[0], &chunk, chunk.count)
            if n <= 0 { break }
            data.append(contentsOf: chunk[..<n])
        }
        let lines = data.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == threads * perThread)
        var next = [Int](repeating: 0, count: threads)
        for line in lines {
            let object = try JSONParser.parse(Array(line))
            let t = Int(object["t"]?.numberValue ?? -1), i = Int(object["i"]?.numberValue ?? -1)
            #expect(next[t] == i, "thread \(t)'s lines out of order")
            next[t] = i + 1
        }
    }

    /// The longest numbers a line can carry fit the room it is written in, and read back.
    @Test func accessLogLinesHoldTheirLongestNumbers() throws {
        let lines = Mutex<[[UInt8]]>([])
        let sink = LogSink { bytes in lines.withLock { $0.append(bytes) } }
        let log = try #require(AccessLog(enabled: true, level: .info, label: "", sink: sink))
        let route = log.route(method: "GET", pattern: "/")
        route.record(requestID: "", method: "GET", status: Int.min, durationNanoseconds: Int64.max - 1_000,
                     requestBytes: Int.min, responseBytes: Int.max)
        let line = try #require(lines.withLock { $0.first })
        let object = try JSONParser.parse(Array(line.dropLast()))
        #expect(String(decoding: line, as: UTF8.self).contains("\"duration_ms\":9223372036854.775,"))
        #expect(object["http.response_bytes"] == .number(Double(Int.max)))
        #expect(object["http.request_bytes"] == .number(Double(Int.min)))
        #expect(object["http.status"] == .number(Double(Int.min)))
        #expect(object["request.id"] == "")
    }

    @Test func accessLogLinesHaveTheSameShapeAsOtherLogLines() throws {
        let lines = Mutex<[[UInt8]]>([])
        let sink = LogSink { bytes in lines.withLock { $0.append(bytes) } }
        let log = try #require(AccessLog(enabled: true, level: .info, label: "vi\"gia", sink: sink))
        let route = log.route(method: "POST", pattern: "/v1/models/{name}:predict")
        route.record(requestID: "r\"1\\", method: "POST", status: 200, durationNanoseconds: 123_450,
                     requestBytes: 10, responseBytes: 20)
        route.record(requestID: "plain-7", method: "HEAD", status: 404, durationNanoseconds: 2_000_000_400,
                     requestBytes: 0, responseBytes: 1_234_567)
        route.record(requestID: "x", method: "POST", status: 503, durationNanoseconds: 499, requestBytes: 0, responseBytes: 0)
        let written = lines.withLock { $0 }
        #expect(written.count == 3)
        #expect(written.allSatisfy { $0.last == UInt8(ascii: "\n") && !$0.dropLast().contains(UInt8(ascii: "\n")) })
        let objects = try written.map { try JSONParser.parse(Array($0.dropLast())) }
        let first = objects[0]
        #expect(first["msg"] == "request")
        #expect(first["level"] == "info")
        #expect(first["logger"] == "vi\"gia")
        #expect(first["request.id"] == "r\"1\\")
        #expect(first["http.method"] == "POST")
        #expect(first["http.route"] == "/v1/models/{name}:predict")
        #expect(first["http.status"] == 200)
        #expect(first["http.request_bytes"] == 10)
        #expect(first["http.response_bytes"] == 20)
        #expect(first["duration_ms"] == 0.123)
        let timestamp = try #require(first["ts"]?.stringValue)
        #expect(timestamp.utf8.count == 24 && timestamp.hasSuffix("Z"))
        // A method the route was not added for (the router lets HEAD through to GET routes).
        #expect(objects[1]["http.method"] == "HEAD")
        #expect(objects[1]["request.id"] == "plain-7")
        #expect(objects[1]["http.status"] == 404)
        #expect(objects[1]["http.response_bytes"] == 1_234_567)
        #expect(objects[1]["duration_ms"] == 2000)
        #expect(objects[2]["duration_ms"] == 0)
        // The keys in the order every other log line has them (sorted after the fixed four).
        let keys = String(decoding: written[0], as: UTF8.self).split(separator: ",").map { $0.split(separator: ":")[0] }
        #expect(keys.map(String.init) == [
            "{\"ts\"", "\"level\"", "\"logger\"", "\"msg\"", "\"duration_ms\"", "\"http.method\"", "\"http.request_bytes\"",
            "\"http.response_bytes\"", "\"http.route\"", "\"http.status\"", "\"request.id\"",
        ])
        #expect(AccessLog(enabled: true, level: .warning, label: "vigia", sink: sink) == nil)
        #expect(AccessLog(enabled: false, level: .info, label: "vigia", sink: sink) == nil)
    }
}
