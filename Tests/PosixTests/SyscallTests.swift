import CSystem
import Glibc
import Testing
@testable import Posix

@Suite(.timeLimit(.minutes(10))) struct SyscallTests {
    @Test func failedCallThrowsTypedErrorWithItsName() {
        #expect(throws: SystemError(call: "open", errno: ENOENT)) {
            _ = try syscallBlocking("open") { Glibc.open("/nonexistent/vigia", O_RDONLY) }
        }
    }

    @Test func emptyNonBlockingPipeReadsAsWouldBlock() throws {
        var fds: [Int32] = [0, 0]
        _ = try syscallBlocking("pipe") { pipe(&fds) }
        _ = try syscallBlocking("fcntl") { fcntl(fds[0], F_SETFL, O_NONBLOCK) }
        defer { closeDescriptor(fds[0]); closeDescriptor(fds[1]) }
        var byte: UInt8 = 0
        let result = try syscall("read") { Glibc.read(fds[0], &byte, 1) }
        guard case .wouldBlock = result else {
            Issue.record("expected wouldBlock, got \(result)")
            return
        }
    }
}
