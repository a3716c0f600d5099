import FoundationEssentials
import Glibc
import HTTPTestClient
import Synchronization
import Testing
@testable import Posix

@Suite(.timeLimit(.minutes(2))) struct FileWatcherTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        func bump() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    func temporaryDirectory() throws -> String {
        let path = "/tmp/vigia-watch-\(UInt64.random(in: 0...UInt64.max))"
        _ = try syscallBlocking("mkdir") { mkdir(path, 0o700) }
        return path
    }

    func write(_ text: String, to path: String) throws {
        let fd = try syscallBlocking("open") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        defer { closeDescriptor(fd) }
        let bytes = Array(text.utf8)
        #expect(Glibc.write(fd, bytes, bytes.count) == bytes.count)
    }

    @Test func aFileRenamedIntoItsDirectoryTriggersACheckLongBeforeTheInterval() throws {
        let directory = try temporaryDirectory()
        defer { _ = system("rm -rf \(directory)") }
        try write("one", to: "\(directory)/token")
        let checks = Counter()
        let watcher = try FileWatcher { _ in }
        watcher.watch(files: ["\(directory)/token"], interval: .seconds(3600)) { checks.bump() }
        try watcher.start()
        defer { watcher.stop() }
        // The first check runs once the watches exist.
        #expect(eventually { checks.count == 1 })
        try write("two", to: "\(directory)/.token.new")
        _ = try syscallBlocking("rename") { rename("\(directory)/.token.new", "\(directory)/token") }
        #expect(eventually { checks.count >= 2 }, "only inotify can run the check within an hour")
    }

    @Test func withoutEventsTheCheckRunsEveryInterval() throws {
        let checks = Counter()
        let watcher = try FileWatcher { _ in }
        watcher.watch(files: ["/nonexistent-vigia-directory/file"], interval: .milliseconds(20)) { checks.bump() }
        try watcher.start()
        #expect(eventually { checks.count >= 3 })
        watcher.stop()
        let after = checks.count
        #expect(checks.count == after, "no check runs after stop returns")
    }

    @Test func directoryOfAPath() {
        #expect(FileWatcher.directory(of: "/etc/vigia/tls/tls.crt") == "/etc/vigia/tls")
        #expect(FileWatcher.directory(of: "/tls.crt") == "/")
        #expect(FileWatcher.directory(of: "tls.crt") == ".")
    }
}
