import Glibc
import Testing
@testable import Posix

/// Whether descriptor `fd` is open in a child spawned now: posix_spawn keeps every descriptor
/// that lacks close-on-exec, as fork + exec in any library or test harness would.
private func isOpenInSpawnedChild(_ fd: Int32) throws -> Bool {
    let arguments = ["/bin/sh", "-c", "[ -e /proc/self/fd/\(fd) ]"]
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ)
    guard spawned == 0 else { throw SystemError(call: "posix_spawn", errno: spawned) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw SystemError(call: "waitpid", errno: errno) }
    }
    let exitCode = (status >> 8) & 0xFF
    guard status & 0x7F == 0, exitCode <= 1 else { throw SystemError(call: "child status \(status)", errno: 0) }
    return exitCode == 0
}

@Suite(.timeLimit(.minutes(10))) struct CloseOnExecTests {
    /// The server's sockets must not leak into children (a reload hook, a shell-out): a leaked
    /// listener keeps the port bound after the server exits, a leaked connection stays open.
    @Test func listeningAndAcceptedSocketsAreNotInheritedByChildProcesses() throws {
        let listener = try Socket.makeTCP(ipv6: false)
        defer { closeDescriptor(listener) }
        try Socket.bind(listener, to: Socket.Address(host: "127.0.0.1", port: 0))
        try Socket.listen(listener, backlog: 4)
        let client = try Socket.makeTCP(ipv6: false, nonBlocking: false)
        defer { closeDescriptor(client) }
        try Socket.connect(client, to: Socket.Address(host: "127.0.0.1", port: try Socket.localPort(listener)))
        var pending = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pending, 1, 10_000) == 1, "the connection reached the listener")
        let accepted = try #require(try Socket.accept(listener))
        defer { closeDescriptor(accepted) }

        #expect(try !isOpenInSpawnedChild(listener))
        #expect(try !isOpenInSpawnedChild(accepted))
        // The check itself can fail: dup(2) drops close-on-exec, and that copy is inherited.
        let inheritable = dup(accepted)
        defer { closeDescriptor(inheritable) }
        #expect(inheritable >= 0)
        #expect(try isOpenInSpawnedChild(inheritable))
    }
}
