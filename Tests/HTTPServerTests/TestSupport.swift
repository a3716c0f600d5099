import Glibc
@_exported import HTTPTestClient
import Posix
import Synchronization
import Testing
@testable import HTTPServer

/// Runs the real server on 127.0.0.1 port 0, gives `body` the port, then drains it.
func withServer(
    limits: HTTPLimits = HTTPLimits(), loops: Int = 2, drainTimeout: Double = 5,
    configure: (inout ServerConfiguration) -> Void = { _ in },
    routes: (inout Router) -> Void = { _ in }, logger: (@Sendable (String) -> Void)? = nil,
    _ body: (HTTPServer, Int) throws -> Void
) throws {
    var router = Router()
    routes(&router)
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: loops, limits: limits)
    configuration.drainTimeout = drainTimeout
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, router: router, logger: logger)
    let port = try server.start()
    defer {
        server.stop()
        server.waitUntilStopped()
    }
    try body(server, port)
}

/// Routes most tests use: GET /hello, POST /echo (body back), GET /items/{id}.
func standardRoutes(_ router: inout Router) {
    router.add("GET", "/hello") { _ in HTTPResponse(body: Array("hello".utf8)) }
    router.add("POST", "/echo") { request in
        HTTPResponse(headers: ["Content-Type": "application/octet-stream"], body: request.body)
    }
    router.add("GET", "/items/{id}") { request in HTTPResponse(body: Array("item \(request.pathParameters["id"] ?? "?")".utf8)) }
}

/// Lines the server logged, for tests that look for a message or wait for one.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var sink: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }

    /// Waits (with a deadline) until a line contains `text`.
    func waitFor(_ text: String) -> Bool {
        eventually { all.contains { $0.contains(text) } }
    }
}

/// Connects and sends `request`, reading its response; when the server closed the connection
/// before answering (or answered `timedOutStatus`), connects again (bounded). For servers with
/// timers far shorter than a stall of this process can be: a timer counted from accept may
/// fire between our connect and our send, and that is the timer working, not the behaviour
/// under test.
func answeredConnection(
    port: Int, request: String, timedOutStatus: Int? = nil, attempts: Int = 50
) throws -> (TestClient, ClientResponse) {
    var lastError: Error = ClientError(description: "no attempt")
    for _ in 0..<attempts {
        let client = try TestClient(port: port)
        do {
            try client.send(request)
            let response = try client.readResponse()
            if response.status == timedOutStatus {
                lastError = ClientError(description: "answered \(response.status) \(attempts) times")
                continue
            }
            return (client, response)
        } catch let error as ClientError where error.description.hasPrefix("connection closed before") {
            lastError = error
        } catch let error as SystemError where error.errno == ECONNRESET || error.errno == EPIPE {
            lastError = error
        }
    }
    throw lastError
}
