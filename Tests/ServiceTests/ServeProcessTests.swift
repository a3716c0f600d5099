import Foundation
import Glibc
import HTTPTestClient
import Posix
import Synchronization
import Testing
@testable import Service

/// The real `vigia serve` binary (built by `swift build --build-tests`) in a child process,
/// its JSON log lines collected from stderr.
final class ServeProcess: Sendable {
    let process: Process
    private let lines = Mutex<[String]>([])
    private let portFound = Latch(count: 1)
    private let port = Atomic<Int>(0)
    private let exited = Latch(count: 1)

    static var binary: URL { repositoryRoot.appending(path: ".build/debug/vigia") }

    /// Starts `vigia serve --port 0 --storage <storage>` from the repository root (so
    /// config/vigia.json applies) with only `environment` (plus PATH). `shellPrefix`, if
    /// given, runs first in `/bin/sh` before `exec` (e.g. `ulimit -n 64`).
    init(storage: TestStorage, environment: [String: String], shellPrefix: String? = nil) throws {
        let binary = Self.binary.path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ClientError(description: "\(binary) is missing: run `swift build --build-tests` first")
        }
        let arguments = ["serve", "--port", "0", "--event-loops", "2", "--storage", storage.root.path]
        process = Process()
        if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "\(shellPrefix) && exec \"$0\" \"$@\"", binary] + arguments
        } else {
            process.executableURL = Self.binary
            process.arguments = arguments
        }
        process.currentDirectoryURL = repositoryRoot
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

    /// Utime + stime of the process so far, in seconds (from /proc/<pid>/stat).
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
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
@Suite(.serialized) struct DescriptorExhaustionTests {
    @Test func acceptBacksOffOnEMFILEWithoutSpinningAndRecoversWhenDescriptorsFree() throws {
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

        // While out of descriptors the loops back off: CPU over one second stays far below
        // the full core a spinning accept loop would burn.
        let cpuBefore = server.cpuSeconds
        #expect(cpuBefore > 0, "start-up and model loading used CPU; /proc/<pid>/stat was read")
        Latch(count: 1).wait(timeoutSeconds: 1)  // a measuring interval, not a wait for state
        let cpuUsed = server.cpuSeconds - cpuBefore
        #expect(cpuUsed < 0.3, "server used \(cpuUsed) s of CPU in 1 s while out of descriptors")

        // Accepted connections are still served meanwhile.
        #expect(try early[0].request("GET", "/health/live").status == 200)

        // Descriptors freed: accepting resumes and a new connection is answered.
        flood.removeAll()
        let late = try TestClient(port: port)
        #expect(try late.request("GET", "/health/ready").status == 200)
        // One line per loop per episode (a loop backing off 10 times a second would log ~30 here).
        #expect(server.log.filter { $0.contains("pausing accepts") }.count < 10)
        #expect(eventually(within: 30) { server.log.contains { $0.contains("descriptors available again") } })
        server.process.terminate()
        #expect(server.waitForExit(timeout: 30) == 0)
        print("emfile: server CPU \(cpuUsed) s during 1 s out of descriptors (\(cpuBefore) s before)")
    }
}
