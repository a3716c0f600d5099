import Glibc
import HTTPServer
import JSON
import Logging

/// The per-request log line, written straight into bytes: the same JSON-lines shape and
/// dotted keys as every other log line (`JSONLogHandler`), without building a swift-log
/// metadata dictionary per request, which cost about a third of a small request's time.
struct AccessLog: Sendable {
    private let sink: LogSink
    /// What follows the timestamp up to the duration, the same on every line (the label
    /// escaped once).
    private let afterTimestamp: [UInt8]

    /// nil when the access log is off or the log level is above info.
    init?(enabled: Bool, level: Logger.Level, label: String, sink: LogSink) {
        guard enabled, level <= .info else { return nil }
        self.sink = sink
        var out = JSONWriter(capacity: 96)
        out.raw(",\"level\":\"info\",\"logger\":")
        out.string(label)
        out.raw(",\"msg\":\"request\",\"duration_ms\":")
        afterTimestamp = out.bytes
    }

    /// One route's log: the parts of its lines that never change (method, route) escaped
    /// once, when the route is added. A line is then copies, digits and the request id, written
    /// on the stack and handed to the sink: formatting it into an array had cost about a
    /// tenth of a small predict request's instructions.
    func route(method: String, pattern: String) -> Route {
        Route(log: self, method: method, pattern: pattern)
    }

    struct Route: Sendable {
        fileprivate let log: AccessLog
        private let method: String
        /// `,"http.method":"<method>","http.request_bytes":`
        private let methodPart: [UInt8]
        /// `,"http.route":"<pattern>","http.status":`
        private let routePart: [UInt8]

        fileprivate init(log: AccessLog, method: String, pattern: String) {
            self.log = log
            self.method = method
            methodPart = Self.methodPart(method)
            var route = JSONWriter(capacity: 48 + pattern.utf8.count)
            route.raw(",\"http.route\":")
            route.string(pattern)
            route.raw(",\"http.status\":")
            routePart = route.bytes
        }

        private static func methodPart(_ method: String) -> [UInt8] {
            var out = JSONWriter(capacity: 48 + method.utf8.count)
            out.raw(",\"http.method\":")
            out.string(method)
            out.raw(",\"http.request_bytes\":")
            return out.bytes
        }

        /// Room for what every line has besides its prefixes and its id's bytes: the literals
        /// below with the timestamp and the id's quotes (76 bytes), and four numbers of at most
        /// 21 characters (a sign, 19 digits, a point).
        private static let fixedRoom = 76 + 4 * 21

        /// `method` is the request's: the route's own unless the router let another through
        /// (HEAD to a GET route).
        func record(
            requestID: String, method requestMethod: String, status: Int, durationNanoseconds: Int64, requestBytes: Int,
            responseBytes: Int
        ) {
            let methodPart = requestMethod == method ? methodPart : Self.methodPart(requestMethod)
            let afterTimestamp = log.afterTimestamp
            let capacity = Self.fixedRoom + afterTimestamp.count + methodPart.count + routePart.count + 6 * requestID.utf8.count
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { room in
                var line = LineCursor(room.baseAddress!)
                line.copy("{\"ts\":\"")
                JSONLogHandler.withTimestamp(at: .realtimeNow) { line.copy($0) }
                line.copy("\"")
                line.copy(afterTimestamp)
                line.milliseconds(fromNanoseconds: durationNanoseconds)
                line.copy(methodPart)
                line.digits(requestBytes)
                line.copy(",\"http.response_bytes\":")
                line.digits(responseBytes)
                line.copy(routePart)
                line.digits(status)
                line.copy(",\"request.id\":")
                line.string(requestID)
                line.copy("}\n")
                log.sink.write(bytes: UnsafeRawBufferPointer(start: room.baseAddress!, count: line.count(from: room.baseAddress!)))
            }
        }
    }
}

/// Writes at a pointer into room its caller sized for the longest line.
private struct LineCursor {
    private var at: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) { at = start }

    func count(from start: UnsafeMutablePointer<UInt8>) -> Int { at - start }

    mutating func copy(_ text: StaticString) {
        at.update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        at += text.utf8CodeUnitCount
    }

    mutating func copy(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { copy(UnsafeRawBufferPointer($0)) }
    }

    mutating func copy(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        UnsafeMutableRawPointer(at).copyMemory(from: base, byteCount: bytes.count)
        at += bytes.count
    }

    mutating func digits(_ value: Int) {
        at += DecimalDigits.write(value, to: at)
    }

    /// Milliseconds rounded to thousandths (whole microseconds, half away from zero).
    mutating func milliseconds(fromNanoseconds nanoseconds: Int64) {
        let micros = Int((nanoseconds.magnitude + 500) / 1000)
        at += DecimalDigits.write(thousandths: nanoseconds < 0 ? -micros : micros, to: at)
    }

    /// A string in quotes, escaped as JSON wants. Ids, the only text written per line, are
    /// visible ASCII and almost never hold a quote or backslash: they are copied as they are.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            if JSONString.needsEscaping(utf8) {
                var escaped: [UInt8] = []
                JSONString.append(utf8: utf8, to: &escaped)
                return copy(escaped)
            }
            copy("\"")
            copy(UnsafeRawBufferPointer(utf8))
            copy("\"")
        }
    }
}
