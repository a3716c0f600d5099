import Glibc
import HTTPTestClient
import Posix
import Synchronization
import Testing
@testable import Service

/// A termination source a test triggers by hand: process signals are shared by every test in
/// the process, so the service's drain sequence is driven through its own source here.
final class ManualTermination: TerminationSource {
    private let fd: Int32

    init() throws { fd = try EventFD.create(nonBlocking: false, semaphore: true) }
    deinit { closeDescriptor(fd) }

    func request() { EventFD.signal(fd) }

    func next(timeout: Duration?) -> String? {
        var descriptors = [Poll.Descriptor(fd: fd, interest: .readable)]
        guard let ready = try? Poll.wait(&descriptors, timeout: timeout), ready > 0 else { return nil }
        _ = try? EventFD.drain(fd)
        return "test request"
    }
}

@Suite(.timeLimit(.minutes(10))) struct LifecycleTests {
    @Test func firstRequestTurnsReadinessOffAndClosesEveryResponseSecondEndsTheGrace() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let body = #"{"instances":[\#(listingJSON)]}"#
        // A grace no test run would sit through: only the second request can end it.
        try withService(storage: storage, environment: ["VIGIA_SERVER_DRAIN_GRACE_SECONDS": "600"]) { service, port in
            #expect(eventually { freshGET(port, "/health/ready")?.status == 200 })
            let pooled = try TestClient(port: port)
            #expect(try pooled.postJSON(predictPath, body).header("Connection") == nil)

            let termination = try ManualTermination()
            let returned = Latch(count: 1)
            let runner = try PosixThread.spawn {
                service.run(until: termination)
                returned.countDown()
            }
            termination.request()
            #expect(eventually {
                guard let ready = freshGET(port, "/health/ready") else { return false }
                return ready.status == 503 && ready.text.contains("draining")
            })
            // Readiness is off only after responses began closing their connections.
            let reused = try pooled.postJSON(predictPath, body)
            #expect(reused.status == 200 && reused.header("Connection") == "close")
            #expect(try pooled.readsEOF())
            let fresh = try TestClient(port: port)
            let answered = try fresh.postJSON(predictPath, body)
            #expect(answered.status == 200 && answered.header("Connection") == "close", "still accepting in the grace")
            #expect(service.server.isAccepting)

            termination.request()
            #expect(returned.wait(timeoutSeconds: 60), "the second request ended the 600 s grace")
            PosixThread.join(runner)
            #expect(!service.server.isAccepting)
            #expect(throws: SystemError(call: "connect", errno: ECONNREFUSED)) { _ = try TestClient(port: port) }
        }
    }
}
