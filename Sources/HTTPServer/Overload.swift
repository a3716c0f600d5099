import Glibc
import Posix

/// The server's answers when it is over a limit (`ServerConfiguration.maxConnections`,
/// `maxInFlightRequests`): 503 with `Retry-After`, built once, so turning load away costs
/// less than serving it.
enum Overload {
    /// Seconds a client is told to wait (`Retry-After`) before retrying; 1.
    static let retryAfterSeconds = 1

    /// The answer to a request that arrives while `maxInFlightRequests` handlers run.
    static let tooManyRequestsInFlight: HTTPResponse = ProblemDetails(
        status: .serviceUnavailable,
        detail: "The server is handling as many requests as it is configured to; retry shortly.")
        .response(extraHeaders: ["Retry-After": String(retryAfterSeconds)])

    /// The answer written to a connection accepted over `maxConnections`, before it is closed
    /// (HTTP/1.1 lets a server answer before the request arrives).
    static let tooManyConnections: OutgoingResponse = OutgoingResponse(
        response: ProblemDetails(
            status: .serviceUnavailable,
            detail: "The server has as many open connections as it is configured to; retry shortly.")
            .response(extraHeaders: ["Retry-After": String(retryAfterSeconds)]),
        headOnly: false, keepAlive: false, requestVersion: .http1_1)

    /// Answers an accepted connection with the canned 503 and closes it at once. One
    /// non-blocking write (the answer is far below any socket buffer); a peer that already
    /// sent a request may see a reset instead — it is retried like a refused connect.
    static func rejectConnection(_ fd: Int32, date: String) {
        var bytes: [UInt8] = []
        ResponseEncoder.encode(tooManyConnections, date: date, into: &bytes)
        _ = try? bytes.withUnsafeBytes { (bytes) throws(SystemError) in try Socket.write(fd, bytes) }
        Socket.shutdown(fd, .write)
        closeDescriptor(fd)
    }
}
