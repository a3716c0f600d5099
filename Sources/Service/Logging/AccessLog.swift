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

    func record(
        requestID: String, method: String, route: String, status: Int, durationMs: Double, requestBytes: Int,
        responseBytes: Int
    ) {
        var out = JSONWriter(capacity: 320)
        out.raw("{\"ts\":")
        JSONLogHandler.appendTimestamp(to: &out)
        afterTimestamp.withUnsafeBytes { out.raw(bytes: $0) }
        out.thousandths(durationMs)
        out.raw(",\"http.method\":")
        out.string(method)
        out.raw(",\"http.request_bytes\":")
        out.number(requestBytes)
        out.raw(",\"http.response_bytes\":")
        out.number(responseBytes)
        out.raw(",\"http.route\":")
        out.string(route)
        out.raw(",\"http.status\":")
        out.number(status)
        out.raw(",\"request.id\":")
        out.string(requestID)
        out.raw("}\n")
        sink.write(out.bytes)
    }
}
