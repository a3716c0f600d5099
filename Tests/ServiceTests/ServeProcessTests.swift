import Foundation
import Glibc
import HTTPTestClient
import JSON
import Posix
import Synchronization
import Testing
@testable import Service

/// The real `vigia serve` binary (from the same build as the tests) in a child process,
/// its JSON log lines collected from stderr.
final class ServeProcess: Sendable {
    let process: Process
    private let lines = Mutex<[String]>([])
    private let portFound = Latch(count: 1)
    private let port = Atomic<Int>(0)
    private let exited = Latch(count: 1)
    /// A world-readable copy of the binary for a process run as another user (the checkout may
    /// sit in a directory only root can enter, as /root does); removed with this value.
    private let copiedBinary: URL?

    /// Starts `vigia serve --port 0 --storage <storage>` from the repository root (so
    /// config/vigia.json applies) with only `environment` (plus PATH). `shellPrefix`, if
    /// given, runs first in `/bin/sh` before `exec` (e.g. `ulimit -n 64`). `userID`, if given,
    /// runs it as that user and group (setpriv), without the root privileges the tests have,
    /// from a copy of the binary in a temporary directory, with the default configuration.
    init(storage: TestStorage, environment: [String: String], shellPrefix: String? = nil, userID: Int? = nil) throws {
        var executable = try BuiltProducts.executable("vigia")
        if userID != nil {
            let directory = FileManager.default.temporaryDirectory.appending(path: "vigia-bin-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: executable, to: directory.appending(path: "vigia"))
            executable = directory.appending(path: "vigia")
            copiedBinary = directory
        } else {
            copiedBinary = nil
        }
        let binary = executable.path
        let arguments = ["serve", "--port", "0", "--event-loops", "2", "--storage", storage.root.path]
        process = Process()
        if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "\(shellPrefix) && exec \"$0\" \"$@\"", binary] + arguments
        } else if let userID {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(userID)", "--regid=\(userID)", "--clear-groups", binary] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.currentDirectoryURL = copiedBinary ?? repositoryRoot
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { old, _ in old }
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        let exitedLatch = exited
        process.terminationHandler = { _ in exitedLatch.countDown() }
        try process.run()
        let reader = stderr.fileHandleForReading
        Thread { [self] in
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    lines.withLock { $0.append(line) }
                    if let object = try? JSONParser.parse(Array(line.utf8)), object["msg"] == "listening",
                       let found = object["http.port"]?.numberValue
                    {
                        port.store(Int(found), ordering: .releasing)
                        portFound.countDown()
                    }
                }
            }
            portFound.countDown()  // EOF: release a waiter; the port stays 0
        }.start()
    }

    /// The bound port from the "listening" log line; throws if it does not come in time.
    func waitForPort(timeout: Double = 30) throws -> Int {
        guard portFound.wait(timeoutSeconds: timeout), case let found = port.load(ordering: .acquiring), found > 0 else {
            throw ClientError(description: "no listening line; stderr:\n\(log.joined(separator: "\n"))")
        }
        return found
    }

    var log: [String] { lines.withLock { $0 } }

    /// Waits for the process to exit; its exit status, or nil if it is still running.
    func waitForExit(timeout: Double) -> Int32? {
        exited.wait(timeoutSeconds: timeout) ? process.terminationStatus : nil
    }

    deinit {
        if let copiedBinary { try? FileManager.default.removeItem(at: copiedBinary) }
    }

    /// Stops a process a failed test left running (SIGKILL), and reaps it.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        _ = exited.wait(timeoutSeconds: 10)
    }
}

/// GET `path` on a fresh connection; nil when the connection fails.
func freshGET(_ port: Int, _ path: String) -> ClientResponse? {
    guard let client = try? TestClient(port: port) else { return nil }
    return try? client.request("GET", path)
}

/// File-descriptor exhaustion on the real binary, run with `ulimit -n 64`.
@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct DescriptorExhaustionTests {
    @Test func acceptPausesOnEMFILEKeepsServingAndRecoversWhenDescriptorsFree() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let server = try ServeProcess(
            storage: storage, environment: ["VIGIA_LOGGING_ACCESS_LOG": "false", "VIGIA_SERVER_DRAIN_GRACE_SECONDS": "0"],
            shellPrefix: "ulimit -n 64")
        defer { server.kill() }
        let port = try server.waitForPort()
        #expect(eventually(within: 30) { freshGET(port, "/health/ready")?.status == 200 })

        // A few connections the server has certainly accepted (each answered a request).
        var early: [TestClient] = []
        for _ in 0..<4 {
            let client = try TestClient(port: port)
            #expect(try client.request("GET", "/health/live").status == 200)
            early.append(client)
        }
        // Then more connections than the descriptor limit allows: the kernel completes them
        // (listen backlog); the server's accept fails with EMFILE.
        var flood: [TestClient] = []
        for _ in 0..<80 { flood.append(try TestClient(port: port, receiveTimeout: 5)) }
        #expect(eventually(within: 30) { server.log.contains { $0.contains("pausing accepts") } },
                "accept never hit EMFILE: \(server.log.suffix(5))")

        // Accepted connections are still served while accepting is paused, and a pause is
        // logged once per loop per episode (until an accept succeeds), not at every retry.
        #expect(try early[0].request("GET", "/health/live").status == 200)
        let log = server.log
        let pauses = log.filter { $0.contains("pausing accepts") }.count
        let episodes = 1 + log.filter { $0.contains("descriptors available again") }.count
        #expect(pauses <= 2 * episodes, "\(pauses) 'pausing accepts' lines in \(episodes) episode(s) on 2 loops")

        // Each pause lasts at least the back-off interval (0.1 s), so a loop pauses at most
        // once per 0.1 s, and keeps pausing while connections wait in the backlog; a loop
        // retrying the failing accept without a pause would count thousands a second.
        func acceptPauses() throws -> Double {
            let body = String(decoding: try early[1].request("GET", "/metrics").body, as: UTF8.self)
            let line = body.split(separator: "\n").first { $0.hasPrefix("vigia_http_accept_pauses_total ") }
            return try #require(line.flatMap { Double($0.split(separator: " ").last ?? "") }, "exported: \(body.prefix(200))")
        }
        let start = ContinuousClock.now
        let before = try acceptPauses()
        Thread.sleep(forTimeInterval: 1)
        let after = try acceptPauses()
        let elapsed = (ContinuousClock.now - start) / .seconds(1)
        #expect(before >= 1)
        #expect(after - before >= 1, "accept is retried after each pause")
        #expect(after - before <= 2 * (elapsed / 0.1 + 1), "\(after - before) pauses on 2 loops in \(elapsed) s")

        // Descriptors freed: accepting resumes and a new connection is answered.
        flood.removeAll()
        let late = try TestClient(port: port)
        #expect(try late.request("GET", "/health/ready").status == 200)
        #expect(eventually(within: 30) { server.log.contains { $0.contains("descriptors available again") } })
        server.process.terminate()
        #expect(server.waitForExit(timeout: 30) == 0)
    }
}

/// Storage that the server loses the right to read, with real permission bits: the tests run
/// as root, which reads through any mode, so the server runs as `nobody` (setpriv) and the
/// test, as root, takes the permission away and gives it back.
@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct StoragePermissionTests {
    @Test func unreadableStorageIsReportedKeepsServingAndRecovers() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let nobody = 65534
        let server = try ServeProcess(
            storage: storage, environment: ["VIGIA_LOGGING_ACCESS_LOG": "false", "VIGIA_STORAGE_RESCAN_INTERVAL_SECONDS": "0.2",
                                            "VIGIA_SERVER_DRAIN_GRACE_SECONDS": "0"],
            userID: nobody)
        defer { server.kill() }
        let port = try server.waitForPort()
        #expect(eventually { freshGET(port, "/health/ready")?.status == 200 })
        let client = try TestClient(port: port)
        func storageError() throws -> JSONValue? {
            try JSONParser.parse(client.request("GET", "/v1/models/prohibited-items").body)["storage_error"]
        }
        #expect(try storageError() == .null)

        #expect(chmod(storage.root.path, 0o000) == 0)
        defer { _ = chmod(storage.root.path, 0o755) }
        #expect(eventually { (try? storageError())?.stringValue?.contains("Permission denied") == true },
                "\(String(describing: try? storageError()))")
        #expect(try client.postJSON(predictPath, #"{"instances":[\#(listingJSON)]}"#).status == 200, "the loaded version keeps serving")
        #expect(try client.request("GET", "/health/ready").status == 200)

        #expect(chmod(storage.root.path, 0o755) == 0)
        #expect(eventually { (try? storageError()) == .null })
        try storage.publish(version: 2)
        #expect(eventually {
            (try? JSONParser.parse(client.request("GET", "/v1/models/prohibited-items").body)["serving_version"]) == .number(2)
        })
        server.process.terminate()
        #expect(server.waitForExit(timeout: 30) == 0)
    }
}
