import Glibc
import Posix
import Synchronization
import Testing
@testable import HTTPServer

/// The two drain steps on the real server over loopback: `beginDrain` (responses close their
/// connections, accepting goes on) and `stop` (no connection a client made is reset; idle
/// connections of the whole grace close; the others are answered).
@Suite(.timeLimit(.minutes(10))) struct DrainStepsTests {
    @Test func afterBeginDrainEveryResponseClosesItsConnectionAndNewConnectionsAreStillServed() throws {
        try withServer(routes: standardRoutes) { server, port in
            let pooled = try TestClient(port: port)
            let before = try pooled.request("GET", "/hello")
            #expect(before.status == 200 && before.header("Connection") == nil)

            server.beginDrain()
            #expect(server.isAccepting)
            let reused = try pooled.request("GET", "/hello")
            #expect(reused.status == 200 && reused.header("Connection") == "close")
            #expect(try pooled.readsEOF(), "the server closed the connection after its response")

            let fresh = try TestClient(port: port)
            let answered = try fresh.request("GET", "/items/7")
            #expect(answered.text == "item 7" && answered.header("Connection") == "close")
            #expect(try fresh.readsEOF())
        }
    }

    @Test func stopAnswersConnectionsStillInTheListenQueueInsteadOfResettingThem() throws {
        // One loop, held in a handler: every connection made meanwhile waits in the kernel's
        // accept queue, its request already written. `stop` must accept and answer them all.
        let handlerStarted = Latch(count: 1)
        let release = Latch(count: 1)
        var router = Router()
        standardRoutes(&router)
        router.add("GET", "/hold") { _ in
            handlerStarted.countDown()
            release.wait()
            return HTTPResponse(body: Array("held".utf8))
        }
        let server = HTTPServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1), router: router)
        let port = try server.start()
        let holder = try TestClient(port: port)
        try holder.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(handlerStarted.wait(timeoutSeconds: 30))
        var queued: [TestClient] = []
        for index in 0..<20 {
            let client = try TestClient(port: port)
            try client.send("GET /items/\(index) HTTP/1.1\r\nHost: x\r\n\r\n")
            queued.append(client)
        }
        server.beginDrain()
        server.stop()
        #expect(!server.isAccepting)
        release.countDown()
        #expect(try holder.readResponse().header("Connection") == "close")
        for (index, client) in queued.enumerated() {
            let response = try client.readResponse()
            #expect(response.text == "item \(index)" && response.header("Connection") == "close")
        }
        server.waitUntilStopped()
        #expect(server.counters.acceptedConnections.load(ordering: .relaxed) == 21)
        #expect(throws: SystemError(call: "connect", errno: ECONNREFUSED)) { _ = try TestClient(port: port) }
    }

    @Test func stopClosesConnectionsIdleThroughTheGraceAndAnswersOnesMadeDuringIt() throws {
        try withServer(routes: standardRoutes) { server, port in
            let idleThroughout = try TestClient(port: port)
            #expect(try idleThroughout.request("GET", "/hello").status == 200)
            let neverUsed = try TestClient(port: port)
            #expect(eventually { server.counters.acceptedConnections.load(ordering: .relaxed) == 2 })

            server.beginDrain()
            let madeDuringGrace = try TestClient(port: port)
            #expect(eventually { server.counters.acceptedConnections.load(ordering: .relaxed) == 3 })
            server.stop()

            #expect(try idleThroughout.readsEOF(), "idle for the whole grace: closed")
            #expect(try neverUsed.readsEOF(), "connected before the drain, never used: closed")
            let response = try madeDuringGrace.request("GET", "/items/3")
            #expect(response.text == "item 3" && response.header("Connection") == "close")
            #expect(try madeDuringGrace.readsEOF())
        }
    }
}
