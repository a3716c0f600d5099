import Glibc
import Posix
import Synchronization
import Testing
import HTTPTestClient
@testable import HTTPServer

/// Limits on open connections and running handlers, over real loopback sockets.
@Suite(.timeLimit(.minutes(10))) struct OverloadTests {
    @Test func connectionsOverTheLimitGet503WithRetryAfterAndTheServerKeepsServing() throws {
        try withServer(drainTimeout: 10, configure: { $0.maxConnections = 3 }, routes: standardRoutes) { server, port in
            // Three connections inside the limit, each proven registered by an answered request.
            var admitted: [TestClient] = []
            for _ in 0..<3 {
                let client = try TestClient(port: port)
                #expect(try client.request("GET", "/hello").status == 200)
                admitted.append(client)
            }
            #expect(server.counters.openConnections.load(ordering: .relaxed) == 3)

            // Eight more than the limit: each is answered 503 + Retry-After and closed, never kept.
            for _ in 0..<8 {
                let extra = try TestClient(port: port)
                let response = try extra.readResponse()
                #expect(response.status == 503)
                #expect(response.header("Retry-After") == "1")
                #expect(response.header("Connection") == "close")
                #expect(response.header("Content-Type") == "application/problem+json")
                #expect(try extra.readsEOF())
            }
            #expect(server.counters.rejectedConnections.load(ordering: .relaxed) == 8)
            #expect(server.counters.openConnections.load(ordering: .relaxed) == 3)

            // The admitted connections still work, and a freed slot admits a new connection.
            #expect(try admitted[0].request("GET", "/items/7").text == "item 7")
            admitted.removeLast()
            #expect(eventually { server.counters.openConnections.load(ordering: .relaxed) == 2 })
            let late = try TestClient(port: port)
            #expect(try late.request("GET", "/hello").status == 200)
        }
    }

    @Test func requestsOverTheInFlightLimitGet503WithoutRunningTheirHandler() throws {
        let slowStarted = Latch(count: 1)
        let release = Latch(count: 1)
        let helloRuns = Atomic<Int>(0)
        try withServer(drainTimeout: 10, configure: { $0.maxInFlightRequests = 1 }, routes: { router in
            router.add("GET", "/slow") { _ in
                slowStarted.countDown()
                release.wait()
                return HTTPResponse(body: Array("slow".utf8))
            }
            router.add("GET", "/hello") { _ in
                helloRuns.add(1, ordering: .relaxed)
                return HTTPResponse(body: Array("hello".utf8))
            }
        }) { server, port in
            defer { release.countDown() }  // before the server's shutdown, as the handler may still wait
            let slow = try TestClient(port: port)
            try slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(slowStarted.wait(timeoutSeconds: 30))

            // The kernel spreads connections over both loops: those on the free loop find one
            // handler running (the limit) and are answered 503 at once; those on the busy loop
            // wait and are served after the release. 16 connections all landing on the busy
            // loop has probability 2^-16.
            var clients: [TestClient] = []
            for _ in 0..<16 {
                let client = try TestClient(port: port)
                try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                clients.append(client)
            }
            #expect(eventually { server.counters.rejectedRequests.load(ordering: .relaxed) >= 1 })
            release.countDown()
            #expect(try slow.readResponse().text == "slow")

            var served = 0
            var rejected = 0
            for client in clients {
                let response = try client.readResponse()
                if response.status == 200 {
                    served += 1
                } else {
                    #expect(response.status == 503)
                    #expect(response.header("Retry-After") == "1")
                    rejected += 1
                }
            }
            #expect(rejected >= 1)
            #expect(served + rejected == 16)
            #expect(helloRuns.load(ordering: .relaxed) == served)  // no handler ran for a 503
            #expect(server.counters.rejectedRequests.load(ordering: .relaxed) == rejected)
        }
    }
}
