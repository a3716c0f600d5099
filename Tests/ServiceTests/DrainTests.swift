import Foundation
import Glibc
import HTTPTestClient
import Posix
import Synchronization
import Testing
@testable import Service

/// SIGTERM on the real binary under prediction load: the Kubernetes drain sequence.
@Suite(.serialized) struct DrainTests {
    struct Outcome: Sendable {
        var started: ContinuousClock.Instant
        var failure: String?
    }

    @Test func sigtermTurnsReadinessOffKeepsServingThroughTheGraceThenExitsZero() throws {
        // A grace long enough that a CI machine stalling the test process for seconds does not
        // push the checks meant to run inside it past its end.
        let grace = 6.0
        let drainTimeout = 5.0
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let server = try ServeProcess(storage: storage, environment: [
            "VIGIA_SERVER_DRAIN_GRACE_SECONDS": String(grace),
            "VIGIA_SERVER_DRAIN_TIMEOUT_SECONDS": String(drainTimeout),
            "VIGIA_LOGGING_ACCESS_LOG": "false",
        ])
        defer { server.kill() }
        let port = try server.waitForPort()
        #expect(eventually(within: 30) { freshGET(port, "/health/ready")?.status == 200 }, "never ready: \(server.log)")

        // Three keep-alive clients predicting in a loop until told when to stop.
        let outcomes = Mutex<[Outcome]>([])
        let stopAt = Mutex<ContinuousClock.Instant?>(nil)
        let finished = Latch(count: 3)
        let body = #"{"instances":[\#(listingJSON),\#(benignJSON)]}"#
        for _ in 0..<3 {
            Thread {
                defer { finished.countDown() }
                var client: TestClient?
                for _ in 0..<100_000 {
                    let now = ContinuousClock.now
                    if let stop = stopAt.withLock({ $0 }), now >= stop { return }
                    var failure: String?
                    do {
                        if client == nil { client = try TestClient(port: port) }
                        let response = try client!.postJSON(predictPath, body)
                        if response.status != 200 { failure = "status \(response.status): \(response.text)" }
                        if response.header("Connection") == "close" { client = nil }
                    } catch {
                        failure = "\(error)"
                        client = nil
                    }
                    outcomes.withLock { $0.append(Outcome(started: now, failure: failure)) }
                }
            }.start()
        }
        #expect(eventually(within: 30) { outcomes.withLock { $0.count } >= 100 })

        // SIGTERM. Clients stop issuing requests well before the grace period ends.
        let sigterm = ContinuousClock.now
        stopAt.withLock { $0 = sigterm + .milliseconds(Int(grace * 1000) - 2000) }
        server.process.terminate()

        // Readiness turns 503 at once, while liveness and new connections still work.
        var readyOffAfter: Duration?
        #expect(eventually(within: grace - 3) {
            guard freshGET(port, "/health/ready")?.status == 503 else { return false }
            readyOffAfter = ContinuousClock.now - sigterm
            return true
        })
        let readiness = freshGET(port, "/health/ready")
        #expect(readiness?.text.contains("draining") == true)
        #expect(freshGET(port, "/health/live")?.status == 200)
        var lateClient: TestClient? = try TestClient(port: port, receiveTimeout: grace + 5)
        #expect(try lateClient!.postJSON(predictPath, body).status == 200, "a new connection during the grace is served")
        #expect(ContinuousClock.now - sigterm < .milliseconds(Int(grace * 1000)), "the checks above ran inside the grace")

        #expect(finished.wait(timeoutSeconds: grace + 10))
        // After the grace the server closes idle keep-alive connections itself.
        #expect(try lateClient!.readsEOF(), "the idle keep-alive connection was closed by the drain")
        lateClient = nil  // closes, as a client does on EOF (the server lingers up to 2 s for this FIN)
        let exitStatus = server.waitForExit(timeout: grace + drainTimeout + 10)
        let exitedAfter = ContinuousClock.now - sigterm
        #expect(exitStatus == 0, "exit status \(String(describing: exitStatus)); stderr:\n\(server.log.suffix(20).joined(separator: "\n"))")
        #expect(exitedAfter >= .milliseconds(Int(grace * 1000)), "it kept serving for the whole grace")
        #expect(exitedAfter < .milliseconds(Int((grace + drainTimeout) * 1000)), "it exited within grace + drain timeout")
        #expect(throws: (any Error).self) { _ = try TestClient(port: port) }

        let all = outcomes.withLock { $0 }
        let before = all.filter { $0.started < sigterm }
        let during = all.filter { $0.started >= sigterm }
        let failed = all.filter { $0.failure != nil }
        #expect(failed.isEmpty, "failures: \(failed.prefix(5).map { $0.failure! })")
        #expect(during.count > 0, "requests were served after SIGTERM")
        #expect(server.log.contains { $0.contains(#""msg":"draining""#) })
        print("drain: \(before.count) requests before SIGTERM, \(during.count) during the grace, \(failed.count) failed; "
              + "readiness 503 after \(readyOffAfter.map { "\($0)" } ?? "never"); exit \(String(describing: exitStatus)) after \(exitedAfter)")
    }
}
