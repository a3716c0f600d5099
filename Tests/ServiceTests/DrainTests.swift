import Foundation
import Glibc
import HTTPTestClient
import Posix
import Synchronization
import Testing
@testable import Service

/// SIGTERM on the real binary under prediction load: the Kubernetes drain sequence. Every
/// request a client writes gets a response; once the server stops accepting, a connect is
/// refused. Nothing in between ("lost": a connection that took the request and answered
/// nothing) may happen, whatever the timing.
@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct DrainTests {
    /// What one back-to-back client saw over a whole drain.
    struct ClientTally: Sendable {
        var responses = 0
        var responsesAfterSignal = 0
        var closingResponsesAfterSignal = 0
        var non200: [String] = []
        var lost: [String] = []
        var endedByRefusedConnect = false
    }

    /// Sends predicts back to back on keep-alive connections, moving to a new connection when a
    /// response says `Connection: close`, until a connect is refused (the server is gone) or
    /// `maxRequests` are sent. Any failure after a connection was made is a lost request.
    static func backToBackClient(port: Int, body: String, signalled: Flag, maxRequests: Int) -> ClientTally {
        var tally = ClientTally()
        var client: TestClient?
        for _ in 0..<maxRequests {
            if client == nil {
                do {
                    client = try TestClient(port: port)
                } catch let error as SystemError where error.errno == ECONNREFUSED {
                    tally.endedByRefusedConnect = true
                    return tally
                } catch {
                    tally.lost.append("connect: \(error)")
                    return tally
                }
            }
            let afterSignal = signalled.isSet
            do {
                let response = try client!.postJSON(predictPath, body)
                tally.responses += 1
                if afterSignal { tally.responsesAfterSignal += 1 }
                if response.status != 200 { tally.non200.append("\(response.status): \(response.text)") }
                if response.header("Connection")?.lowercased() == "close" {
                    if afterSignal { tally.closingResponsesAfterSignal += 1 }
                    client = nil
                }
            } catch {
                tally.lost.append("\(error)")
                client = nil
            }
        }
        return tally
    }

    /// One SIGTERM under 8 back-to-back keep-alive clients and 2 idle ones.
    struct RoundResult {
        var tallies: [ClientTally]
        var exitStatus: Int32?
        var idleClosed: Bool
    }

    static func drainOnce(grace: Double, drainTimeout: Double) throws -> RoundResult {
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
        guard eventually(within: 60, { freshGET(port, "/health/ready")?.status == 200 }) else {
            throw ClientError(description: "never ready: \(server.log.suffix(10))")
        }
        // Idle clients: one kept alive after a request, one that never sends.
        let usedIdle = try TestClient(port: port)
        _ = try usedIdle.request("GET", "/health/live")
        let silentIdle = try TestClient(port: port)

        let body = #"{"instances":[\#(listingJSON),\#(benignJSON)]}"#
        let signalled = Flag()
        let tallies = Mutex<[ClientTally]>([])
        let finished = Latch(count: 8)
        for _ in 0..<8 {
            Thread {
                let tally = backToBackClient(port: port, body: body, signalled: signalled, maxRequests: 2_000_000)
                tallies.withLock { $0.append(tally) }
                finished.countDown()
            }.start()
        }
        // Load is running (the clients count nothing until they end; the server's access to
        // the model shows in its readiness only, so wait on a request of our own instead).
        _ = try TestClient(port: port).postJSON(predictPath, body)
        signalled.set()
        server.process.terminate()
        // The idle connections are closed by the drain, never answered with garbage.
        let idleClosed = (try? usedIdle.readsEOF()) == true && (try? silentIdle.readsEOF()) == true
        let exitStatus = server.waitForExit(timeout: grace + drainTimeout + 60)
        guard finished.wait(timeoutSeconds: 60) else { throw ClientError(description: "clients did not finish") }
        return RoundResult(
            tallies: tallies.withLock { $0 }, exitStatus: exitStatus, idleClosed: idleClosed)
    }

    @Test func sigtermTurnsReadinessOffClosesEachResponseAndASecondSigtermEndsTheGrace() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        // A grace no test run would sit through: only the second SIGTERM can end it.
        let server = try ServeProcess(storage: storage, environment: [
            "VIGIA_SERVER_DRAIN_GRACE_SECONDS": "600", "VIGIA_LOGGING_ACCESS_LOG": "false",
        ])
        defer { server.kill() }
        let port = try server.waitForPort()
        #expect(eventually(within: 60) { freshGET(port, "/health/ready")?.status == 200 }, "never ready: \(server.log)")
        let body = #"{"instances":[\#(listingJSON)]}"#
        let pooled = try TestClient(port: port)
        #expect(try pooled.postJSON(predictPath, body).header("Connection") == nil)
        let idle = try TestClient(port: port)
        #expect(try idle.request("GET", "/health/live").status == 200)

        server.process.terminate()
        #expect(eventually(within: 60) {
            guard let ready = freshGET(port, "/health/ready") else { return false }
            return ready.status == 503 && ready.text.contains("draining")
        })
        #expect(freshGET(port, "/health/live")?.status == 200)
        let reused = try pooled.postJSON(predictPath, body)
        #expect(reused.status == 200 && reused.header("Connection") == "close")
        #expect(try pooled.readsEOF())
        let fresh = try TestClient(port: port)
        #expect(try fresh.postJSON(predictPath, body).header("Connection") == "close", "a new connection in the grace is served")

        server.process.terminate()
        #expect(server.waitForExit(timeout: 60) == 0, "exit after the second SIGTERM; stderr: \(server.log.suffix(10))")
        #expect(try idle.readsEOF(), "the connection idle for the whole grace was closed")
        #expect(server.log.contains { $0.contains(#""msg":"grace cut short""#) })
        #expect(throws: SystemError(call: "connect", errno: ECONNREFUSED)) { _ = try TestClient(port: port) }
    }

    @Test func twentySigtermsUnderBackToBackKeepAliveClientsLoseNoRequest() throws {
        var totals = (responses: 0, afterSignal: 0, closing: 0, lost: 0, refused: 0)
        var exits: [Int32?] = []
        for round in 1...20 {
            let result = try Self.drainOnce(grace: 1, drainTimeout: 5)
            let lost = result.tallies.flatMap(\.lost)
            let non200 = result.tallies.flatMap(\.non200)
            #expect(result.tallies.count == 8)
            #expect(lost.isEmpty, "round \(round): \(lost.count) request(s) lost: \(lost.prefix(5))")
            #expect(non200.isEmpty, "round \(round): \(non200.prefix(3))")
            #expect(result.tallies.allSatisfy(\.endedByRefusedConnect) || !lost.isEmpty,
                    "round \(round): every client ended on a refused connect")
            #expect(result.exitStatus == 0, "round \(round): exit \(String(describing: result.exitStatus))")
            #expect(result.idleClosed, "round \(round): idle keep-alive connections were not closed")
            let afterSignal = result.tallies.map(\.responsesAfterSignal).reduce(0, +)
            let closing = result.tallies.map(\.closingResponsesAfterSignal).reduce(0, +)
            totals.responses += result.tallies.map(\.responses).reduce(0, +)
            totals.afterSignal += afterSignal
            totals.closing += closing
            totals.lost += lost.count
            totals.refused += result.tallies.filter(\.endedByRefusedConnect).count
            exits.append(result.exitStatus)
        }
        print("drain x20: \(totals.responses) responses (\(totals.afterSignal) after SIGTERM, \(totals.closing) with "
              + "Connection: close), \(totals.lost) lost, \(totals.refused) clients ended on a refused connect; "
              + "exit statuses \(Set(exits.map { $0.map(String.init) ?? "none" }).sorted())")
    }
}
