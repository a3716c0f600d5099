import FoundationEssentials
import Glibc
import HTTPTestClient
import Synchronization
import Testing
@testable import Posix

@Suite(.timeLimit(.minutes(10))) struct FileWatcherTests {
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
        // The owner saw no file: the first look, once the watches exist, finds one.
        watcher.watch(files: ["\(directory)/token"], loaded: [nil], interval: .seconds(3600)) { checks.bump() }
        try watcher.start()
        defer { watcher.stop() }
        #expect(eventually { checks.count == 1 })
        try write("two", to: "\(directory)/.token.new")
        _ = try syscallBlocking("rename") { rename("\(directory)/.token.new", "\(directory)/token") }
        #expect(eventually { checks.count >= 2 }, "only inotify can run the check within an hour")
    }

    @Test func withoutEventsTheFilesAreStillLookedAtEveryInterval() throws {
        // A directory that does not exist yet has no inotify watch: only the interval sees it.
        let directory = "/tmp/vigia-watch-later-\(UInt64.random(in: 0...UInt64.max))"
        defer { _ = system("rm -rf \(directory)") }
        let checks = Counter()
        let watcher = try FileWatcher { _ in }
        watcher.watch(files: ["\(directory)/file"], loaded: [nil], interval: .milliseconds(20)) { checks.bump() }
        try watcher.start()
        _ = try syscallBlocking("mkdir") { mkdir(directory, 0o700) }
        try write("now", to: "\(directory)/file")
        #expect(eventually { checks.count >= 1 })
        watcher.stop()
        let after = checks.count
        try write("changed again", to: "\(directory)/file")
        #expect(checks.count == after, "no callback runs after stop returns")
    }

    @Test func anUnchangedFileIsNotReported() throws {
        let directory = try temporaryDirectory()
        defer { _ = system("rm -rf \(directory)") }
        try write("one", to: "\(directory)/token")
        let checks = Counter()
        let watcher = try FileWatcher { _ in }
        let loaded = FileWatcher.identities(of: ["\(directory)/token"])
        watcher.watch(files: ["\(directory)/token"], loaded: loaded, interval: .milliseconds(10)) { checks.bump() }
        try watcher.start()
        defer { watcher.stop() }
        try write("two!", to: "\(directory)/other")  // an event in the directory, not a change of the file
        // Renamed into place, as an operator replaces a token: written in place, a check between
        // the truncation and the write (a busy machine) saw two changes.
        try write("three", to: "\(directory)/token.new")
        #expect(rename("\(directory)/token.new", "\(directory)/token") == 0)
        #expect(eventually { checks.count == 1 }, "one change, one callback, whatever the looks in between")
    }

    @Test func directoryOfAPath() {
        #expect(FileWatcher.directory(of: "/etc/vigia/tls/tls.crt") == "/etc/vigia/tls")
        #expect(FileWatcher.directory(of: "/tls.crt") == "/")
        #expect(FileWatcher.directory(of: "tls.crt") == ".")
    }
}
