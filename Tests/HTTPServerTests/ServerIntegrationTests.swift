import Glibc
import Posix
import Synchronization
import Testing
@testable import HTTPServer

/// The real server over loopback sockets.
@Suite(.timeLimit(.minutes(10))) struct ServerIntegrationTests {
    @Test func keepAliveServesTwoRequestsOnOneConnection() throws {
        try withServer(routes: standardRoutes) { server, port in
            let client = try TestClient(port: port)
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = try client.readResponse()
            #expect(first.status == 200 && first.text == "hello")
            #expect(first.header("Content-Length") == "5")
            #expect(first.header("Date")?.hasSuffix(" GMT") == true)
            #expect(first.header("Connection") == nil)
            try client.send("GET /items/42 HTTP/1.1\r\nHost: x\r\n\r\n")
            let second = try client.readResponse()
            #expect(second.status == 200 && second.text == "item 42")
            #expect(server.counters.acceptedConnections.load(ordering: .relaxed) == 1)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try withServer(routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send(
                "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo"
                    + "GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().text == "item 1")
            #expect(try client.readResponse().text == "two")
            #expect(try client.readResponse().text == "item 3")
        }
    }

    @Test func chunkedRequestBodyIsDecodedAndEchoed() throws {
        try withServer(routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            try client.send("6\r\n world\r\n0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200 && response.text == "hello world")
        }
    }

    @Test func expectContinueGetsAnInterimResponseBeforeTheBodyIsSent() throws {
        try withServer(routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.status == 100)
            try client.send("ping")
            let final = try client.readResponse()
            #expect(final.status == 200 && final.text == "ping")
        }
    }

    @Test func headAnswersGetHeadersWithContentLengthAndNoBody() throws {
        try withServer(routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try client.readResponse(forHEAD: true)
            #expect(head.status == 200 && head.header("Content-Length") == "5")
            // The next response follows at once: no body bytes were sent for HEAD.
            try client.send("GET /items/7 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().text == "item 7")
        }
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithSortedAllow() throws {
        try withServer(routes: { router in
            standardRoutes(&router)
            router.add("PUT", "/hello") { _ in HTTPResponse() }
        }) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
            let missing = try client.readResponse()
            #expect(missing.status == 404)
            #expect(missing.header("Content-Type") == "application/problem+json")
            #expect(missing.text.contains("\"status\":404"))
            try client.send("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let wrong = try client.readResponse()
            #expect(wrong.status == 405)
            #expect(wrong.header("Allow") == "GET, HEAD, PUT")
        }
    }

    @Test func oversizedContentLengthIsAnswered413FromTheHeadWithoutContinue() throws {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1000
        try withServer(limits: limits, routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.header("Connection") == "close")
            #expect(response.text.contains("\"status\":413"))
            #expect(try client.readsEOF())
        }
    }

    @Test func tooManyHeadersIs431() throws {
        var limits = HTTPLimits()
        limits.maxHeaderCount = 5
        try withServer(limits: limits, routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            let fields = (0..<10).map { "X-F\($0): v\r\n" }.joined()
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\(fields)\r\n")
            let response = try client.readResponse()
            #expect(response.status == 431)
            #expect(response.header("Connection") == "close")
        }
    }

    @Test func overlongRequestLineIs414() throws {
        var limits = HTTPLimits()
        limits.maxRequestLineBytes = 100
        try withServer(limits: limits, routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /\(String(repeating: "a", count: 200)) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().status == 414)
        }
    }

    @Test func malformedRequestGets400ProblemAndClose() throws {
        try withServer(routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(try client.readsEOF())
        }
    }

    @Test func slowClientGets408WhileAnotherClientIsServedOnTheSameLoop() throws {
        var limits = HTTPLimits()
        limits.headerTimeout = 0.3
        try withServer(limits: limits, loops: 1, routes: standardRoutes) { _, port in
            let slow = try TestClient(port: port)
            try slow.send("GET /hello HTTP/1.1\r\nHo")
            let (_, fastResponse) = try answeredConnection(
                port: port, request: "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", timedOutStatus: 408)
            #expect(fastResponse.status == 200)
            let timedOut = try slow.readResponse()  // blocks until the server's head timer fires
            #expect(timedOut.status == 408)
            #expect(timedOut.header("Connection") == "close")
            #expect(try slow.readsEOF())
        }
    }

    @Test func idleKeepAliveConnectionIsClosedQuietly() throws {
        var limits = HTTPLimits()
        limits.idleTimeout = 0.2
        try withServer(limits: limits, routes: standardRoutes) { _, port in
            // The idle timer also runs from accept: a stall before our request may close the
            // connection first, and then the request is sent again on a new one.
            let (client, response) = try answeredConnection(port: port, request: "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(response.status == 200)
            #expect(try client.readsEOF())
        }
    }

    @Test func http10WithoutKeepAliveIsAnsweredAndClosed() throws {
        try withServer(routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /hello HTTP/1.0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200 && response.header("Connection") == "close")
            #expect(try client.readsEOF())
        }
    }

    @Test func connectionCloseRequestIsAnsweredAndClosed() throws {
        try withServer(routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(try client.readResponse().header("Connection") == "close")
            #expect(try client.readsEOF())
        }
    }

    @Test func throwingHandlerGives500AndTheNextRequestWorks() throws {
        struct Boom: Error {}
        let log = LogLines()
        try withServer(routes: { router in
            standardRoutes(&router)
            router.add("GET", "/boom") { _ in throw Boom() }
        }, logger: log.sink) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
            let failed = try client.readResponse()
            #expect(failed.status == 500)
            #expect(!failed.text.contains("Boom"))
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
        #expect(log.all.contains { $0.contains("Boom") })
    }

    @Test func shutdownFinishesTheRequestInFlightAndRefusesNewConnections() throws {
        let handlerStarted = Latch(count: 1)
        let release = Latch(count: 1)
        var router = Router()
        router.add("GET", "/slow") { _ in
            handlerStarted.countDown()
            release.wait()
            return HTTPResponse(body: Array("done".utf8))
        }
        let server = HTTPServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 2), router: router)
        let port = try server.start()
        let client = try TestClient(port: port)
        try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(handlerStarted.wait(timeoutSeconds: 30))
        #expect(server.counters.inFlightRequests.load(ordering: .relaxed) == 1)

        server.stop()
        #expect(!server.isAccepting)

        release.countDown()
        let response = try client.readResponse()
        #expect(response.status == 200 && response.text == "done")
        #expect(response.header("Connection") == "close")
        server.waitUntilStopped()
        #expect(server.counters.openConnections.load(ordering: .relaxed) == 0)
        #expect(throws: SystemError(call: "connect", errno: ECONNREFUSED)) { _ = try TestClient(port: port) }
    }

    @Test func slowReaderDoesNotStopTheLoopFromServingOthers() throws {
        var limits = HTTPLimits()
        limits.maxPipelinedRequests = 4
        let big = [UInt8](repeating: 65, count: 1 << 20)
        try withServer(limits: limits, loops: 1, routes: { router in
            standardRoutes(&router)
            router.add("GET", "/big") { _ in HTTPResponse(body: big) }
        }) { _, port in
            let reader = try TestClient(port: port)
            // Ask for 8 MiB and read none of it: the loop must keep serving others.
            try reader.send(String(repeating: "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", count: 8))
            let other = try TestClient(port: port)
            try other.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try other.readResponse().text == "hello")
            for _ in 0..<8 {
                let response = try reader.readResponse()
                #expect(response.body.count == big.count)
            }
        }
    }
}

/// `X-Request-Id` is echoed only when it is safe to put in logs and headers (here on the
/// server's own answers, a 404; the service's routes take the id with the same function).
@Suite(.timeLimit(.minutes(10))) struct RequestIDTests {
    /// A generated id: the per-process hex prefix, a dash, a hex counter.
    private func isGenerated(_ id: String?) -> Bool {
        guard let parts = id?.split(separator: "-", omittingEmptySubsequences: false), parts.count == 2 else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isHexDigit) }
    }

    @Test func aSaneIdIsEchoedAndAnyOtherIsReplacedByAGeneratedOne() throws {
        try withServer(routes: standardRoutes) { _, port in
            let client = try TestClient(port: port)
            let longest = String(repeating: "a", count: 128)
            for sane in ["r-1", longest, "!~{}[]\"'"] {
                #expect(try client.request("GET", "/nope", headers: [("X-Request-Id", sane)]).header("X-Request-Id") == sane)
            }
            let unsafe: [(String, [UInt8])] = [
                ("over 128 bytes", Array(String(repeating: "a", count: 129).utf8)),
                ("inner space", Array("a b".utf8)),
                ("tab", Array("a\tb".utf8)),
                ("DEL", [0x61, 0x7F]),
                ("UTF-8 (not visible ASCII)", Array("café".utf8)),
                ("empty", []),
            ]
            for (name, value) in unsafe {
                let fresh = try TestClient(port: port)
                try fresh.send(Array("GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: ".utf8) + value + Array("\r\n\r\n".utf8))
                let response = try fresh.readResponse()
                let echoed = response.header("X-Request-Id")
                #expect(isGenerated(echoed), "\(name): answered \(response.status) with id \(echoed ?? "none")")
            }
            // Without one, every response gets its own.
            let first = try client.request("GET", "/nope").header("X-Request-Id")
            let second = try client.request("GET", "/nope").header("X-Request-Id")
            #expect(isGenerated(first) && isGenerated(second) && first != second)
        }
    }
}

/// Hundreds of connections at once: alone among the machine-loading tests.
@Suite(.exclusive(timeLimit: .minutes(10))) struct ConcurrentConnectionTests {
    @Test func twoHundredConcurrentConnectionsEachGetAnAnswer() throws {
        try withServer(routes: standardRoutes) { server, port in
            let clients = try (0..<200).map { _ in try TestClient(port: port) }
            for (index, client) in clients.enumerated() {
                try client.send("GET /items/\(index) HTTP/1.1\r\nHost: x\r\n\r\n")
            }
            for (index, client) in clients.enumerated() {
                #expect(try client.readResponse().text == "item \(index)")
            }
            #expect(server.counters.acceptedConnections.load(ordering: .relaxed) == 200)
        }
    }
}
