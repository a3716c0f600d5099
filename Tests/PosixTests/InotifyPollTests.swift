import CSystem
import Glibc
import Testing
@testable import Posix

@Suite(.timeLimit(.minutes(10))) struct InotifyTests {
    /// One raw `struct inotify_event` record: 16-byte head, NUL-padded name.
    func record(watch: Int32, mask: UInt32, cookie: UInt32, name: String, padTo length: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: watch.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: mask.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: cookie.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: UInt32(length).littleEndian) { bytes += $0 }
        bytes += Array(name.utf8) + [UInt8](repeating: 0, count: length - name.utf8.count)
        return bytes
    }

    @Test func parsesConsecutiveRecordsAndStripsNamePadding() {
        let bytes = record(watch: 1, mask: UInt32(IN_MOVED_TO) | UInt32(IN_ISDIR), cookie: 7, name: "12", padTo: 16)
            + record(watch: 2, mask: UInt32(IN_DELETE_SELF), cookie: 0, name: "", padTo: 0)
        let events = bytes.withUnsafeBytes { Inotify.parseEvents($0) }
        #expect(events == [
            Inotify.Event(watch: 1, mask: [.movedTo, .isDirectory], cookie: 7, name: "12"),
            Inotify.Event(watch: 2, mask: .deleteSelf, cookie: 0, name: ""),
        ])
    }

    @Test func dropsATruncatedTrailingRecordInsteadOfReadingPastIt() {
        let whole = record(watch: 1, mask: UInt32(IN_CREATE), cookie: 0, name: "a", padTo: 16)
        let truncated = record(watch: 1, mask: UInt32(IN_CREATE), cookie: 0, name: "b", padTo: 16).prefix(20)
        let events = (whole + truncated).withUnsafeBytes { Inotify.parseEvents($0) }
        #expect(events.map(\.name) == ["a"])
    }

    @Test func watchingAMissingDirectoryThrowsENOENT() throws {
        let fd = try Inotify.initialize()
        defer { closeDescriptor(fd) }
        #expect(throws: SystemError(call: "inotify_add_watch(/nonexistent/vigia)", errno: ENOENT)) {
            _ = try Inotify.addWatch(fd, path: "/nonexistent/vigia", mask: .create)
        }
    }

    @Test func reportsADirectoryRenamedIntoAWatchedDirectory() throws {
        var template = Array("/tmp/vigia-inotify-XXXXXX".utf8CString)
        let root = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer {
            _ = rmdir("\(root)/5")
            _ = rmdir(root)
        }
        let fd = try Inotify.initialize()
        defer { closeDescriptor(fd) }
        guard case .wouldBlock = try Inotify.readEvents(fd) else {
            Issue.record("a fresh inotify descriptor should have nothing to read")
            return
        }
        let watch = try Inotify.addWatch(fd, path: root, mask: [.movedTo, .create])
        #expect(mkdir("\(root)/.5.tmp", 0o755) == 0)
        #expect(rename("\(root)/.5.tmp", "\(root)/5") == 0)

        var descriptors = [Poll.Descriptor(fd: fd, interest: .readable)]
        #expect(try Poll.wait(&descriptors, timeout: .seconds(10)) == 1)
        guard case .done(let events) = try Inotify.readEvents(fd) else {
            Issue.record("poll said readable but read would block")
            return
        }
        #expect(events.contains(Inotify.Event(watch: watch, mask: [.create, .isDirectory], cookie: 0, name: ".5.tmp")))
        #expect(events.contains { $0.name == "5" && $0.mask.contains(.movedTo) && $0.watch == watch })
    }
}

@Suite(.timeLimit(.minutes(10))) struct PollTests {
    @Test func timesOutWithNothingReady() throws {
        let wakeup = try Poll.Wakeup()
        defer { wakeup.close() }
        var descriptors = [Poll.Descriptor(fd: wakeup.fd, interest: .readable)]
        #expect(try Poll.wait(&descriptors, timeout: .milliseconds(1)) == 0)
        #expect(descriptors[0].ready.isEmpty)
    }

    @Test func wakeupSignalsCoalesceIntoOneReadableDrain() throws {
        let wakeup = try Poll.Wakeup()
        defer { wakeup.close() }
        try wakeup.signal()
        try wakeup.signal()
        var descriptors = [Poll.Descriptor(fd: wakeup.fd, interest: .readable)]
        #expect(try Poll.wait(&descriptors, timeout: .zero) == 1)
        #expect(descriptors[0].ready.contains(.readable))
        #expect(try wakeup.drain())
        #expect(try !wakeup.drain())
    }

    @Test(arguments: [
        (Duration.zero, Int32(0)), (.nanoseconds(-5), 0), (.nanoseconds(1), 1), (.milliseconds(1), 1),
        (.microseconds(1500), 2), (.seconds(3), 3000), (.seconds(Int64.max / 2), Int32.max),
    ])
    func timeoutsRoundUpToWholeMilliseconds(duration: Duration, milliseconds: Int32) {
        #expect(Poll.milliseconds(duration) == milliseconds)
    }
}
