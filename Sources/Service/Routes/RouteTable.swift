import Glibc
import HTTPServer
import Logging
import Posix
import Synchronization

/// Registers each route with the router and its documentation with the OpenAPI list in
/// one call, and wraps every handler the same way: request id in and out, errors through
/// `ErrorResponder`, one access-log line.
struct RouteTable {
    private(set) var router = Router()
    private(set) var operations: [Operation] = []
    let logger: Logger
    let accessLog: AccessLog?
    /// Checks bearer tokens before a handler runs (set before adding routes); nil leaves every
    /// route open.
    var authenticator: Authenticator?
    /// Only health and metrics routes answer requests that did not arrive over HTTPS
    /// (`tls.enabled` with `tls.plain_http` = `health_and_metrics`); default false.
    var plainHTTPOnlyForHealthAndMetrics = false
    /// Share of requests (0…1) that get an access-log line; 5xx answers are always logged.
    /// Default 1 (every request). Set before adding routes.
    var accessLogSampleRate: Double = 1
    /// Per-route request counters and latency histograms; nil (metrics off): no per-request
    /// metric work at all. Set before adding routes.
    var metrics: ServiceMetrics?

    init(logger: Logger, accessLog: AccessLog?) {
        self.logger = logger
        self.accessLog = accessLog
    }

    /// `handler` borrows the request: the chain gives its header list and body back to the
    /// thread (`RequestStorage`) once the answer is made.
    mutating func add(_ operation: Operation, _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        var documented = operation
        if let role = authenticator?.requirement(for: operation) {
            documented.responses += [
                (401, "Missing or unknown bearer token (WWW-Authenticate: Bearer)", Schemas.problem, ProblemDetails.contentType),
                (403, "The token lacks the \(role.rawValue) role, or no admin token is configured", Schemas.problem, ProblemDetails.contentType),
            ]
        }
        operations.append(documented)
        let logger = logger
        let accessLog = accessLog?.route(method: operation.method, pattern: operation.path)
        let authenticator = authenticator
        let requiredRole = authenticator?.requirement(for: operation)
        let httpsOnly = plainHTTPOnlyForHealthAndMetrics && !operation.tags.contains("health") && operation.path != "/metrics"
        let routeMetrics = metrics?.route(
            method: operation.method, pattern: operation.path, documentedStatuses: operation.responses.map(\.status))
        let sampler = AccessLogSampler(rate: accessLogSampleRate)
        let errorMember = operation.errorMember
        router.add(operation.method, operation.path) { (request: consuming HTTPRequest) in
            let started = MonotonicClock.nanoseconds()
            let requestID = RequestID.take(from: request.headers)
            // Handlers read the id the response carries (the payload log records it). The
            // request is moved along, not copied: what the access log needs is kept apart.
            request.id = requestID
            let method = request.method
            let requestBytes = request.body.count
            var response: HTTPResponse
            do {
                if httpsOnly, !request.arrivedOverTLS {
                    throw HTTPError(.forbidden, detail: "This route is served over HTTPS only; plain HTTP serves health and metrics.")
                }
                if let requiredRole, let authenticator,
                   case .denied(let refusal) = authenticator.authorize(request, requiring: requiredRole)
                {
                    throw refusal
                }
                response = try handler(request)
            } catch {
                response = ErrorResponder.response(for: error, errorMember: errorMember) { detail in
                    logger.error("handler failed", metadata: ["request.id": .string(requestID), "error": .string(detail)])
                }
            }
            // The chain's id, not a handler's (looked up first: removing would copy shared headers).
            if response.headers[RequestID.headerName] != nil { response.headers.remove(RequestID.headerName) }
            response.requestID = requestID
            let elapsed = Int64(clamping: MonotonicClock.nanoseconds() &- started)
            routeMetrics?.record(status: response.status.code, nanoseconds: elapsed)
            if let accessLog, sampler.shouldLog(status: response.status.code) {
                accessLog.record(
                    requestID: requestID, method: method, status: response.status.code, durationNanoseconds: elapsed,
                    requestBytes: requestBytes, responseBytes: response.body.count)
            }
            RequestStorage.giveBack(&request)
            return response
        }
    }
}

extension Duration {
    /// Milliseconds as a Double, for `duration_ms` in logs.
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
