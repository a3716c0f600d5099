import Glibc
import HTTPServer
import Logging
import Synchronization

/// Registers each route with the router and its documentation with the OpenAPI list in
/// one call, and wraps every handler the same way: request id in and out, errors through
/// `ErrorResponder`, one access-log line.
struct RouteTable {
    private(set) var router = Router()
    private(set) var operations: [Operation] = []
    let logger: Logger
    let accessLog: Bool
    /// Share of requests (0…1) that get an access-log line; 5xx answers are always logged.
    /// Default 1 (every request). Set before adding routes.
    var accessLogSampleRate: Double = 1
    /// Per-route request counters and latency histograms; nil (metrics off): no per-request
    /// metric work at all. Set before adding routes.
    var metrics: ServiceMetrics?

    init(logger: Logger, accessLog: Bool) {
        self.logger = logger
        self.accessLog = accessLog
    }

    mutating func add(_ operation: Operation, _ handler: @escaping HTTPHandler) {
        operations.append(operation)
        let logger = logger
        let accessLog = accessLog
        let route = operation.path
        let routeMetrics = metrics?.route(
            method: operation.method, pattern: operation.path, documentedStatuses: operation.responses.map(\.status))
        let sampler = AccessLogSampler(rate: accessLogSampleRate)
        router.add(operation.method, operation.path) { request in
            let started = ContinuousClock.now
            let requestID = RequestID.take(from: request.headers)
            var response: HTTPResponse
            do {
                response = try handler(request)
            } catch {
                response = ErrorResponder.response(for: error) { detail in
                    logger.error("handler failed", metadata: ["request.id": .string(requestID), "error": .string(detail)])
                }
            }
            response.headers.set("X-Request-Id", requestID)
            let elapsed = ContinuousClock.now - started
            routeMetrics?.record(status: response.status.code, duration: elapsed)
            if accessLog, sampler.shouldLog(status: response.status.code) {
                let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                logger.info("request", metadata: [
                    "request.id": .string(requestID), "http.method": .string(request.method), "http.route": .string(route),
                    "http.status": .stringConvertible(response.status.code), "duration_ms": .stringConvertible(ms),
                    "http.request_bytes": .stringConvertible(request.body.count),
                    "http.response_bytes": .stringConvertible(response.body.count),
                ])
            }
            return response
        }
    }
}

/// Request ids: the client's `X-Request-Id` when it is sane (1–128 visible ASCII
/// characters), else a new one: a per-process random prefix and a counter.
enum RequestID {
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return String(UInt32.random(in: .min ... .max, using: &generator), radix: 16)
    }()
    private static let counter = Atomic<UInt64>(0)

    static func take(from headers: HTTPHeaders) -> String {
        if let sent = headers["X-Request-Id"], !sent.isEmpty, sent.utf8.count <= 128,
           sent.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return sent
        }
        let next = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(next, radix: 16)
    }
}
