import CSystem
import Glibc

/// A failed system call: the call's name and its errno. The only way errno leaves this layer.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// What a non-blocking call can say besides "done".
public enum IOResult<Value>: Sendable where Value: Sendable {
    case done(Value)
    case wouldBlock
}

/// Runs `body` (a raw syscall returning -1 on failure), retrying EINTR.
/// EAGAIN/EWOULDBLOCK become `.wouldBlock`; EBADF and EFAULT are bugs, not runtime errors.
@inline(__always)
public func syscall<T: FixedWidthInteger & Sendable>(
    _ name: @autoclosure () -> String, _ body: () -> T
) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result != -1 { return .done(result) }
        let err = csystem_errno()
        switch err {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        case EBADF, EFAULT: preconditionFailure("\(name()) hit \(err): a descriptor or pointer bug")
        default: throw SystemError(call: name(), errno: err)
        }
    }
}

/// Like `syscall` for calls that never return EAGAIN (or where it is an error).
@inline(__always)
public func syscallBlocking<T: FixedWidthInteger & Sendable>(
    _ name: @autoclosure () -> String, _ body: () -> T
) throws(SystemError) -> T {
    switch try syscall(name(), body) {
    case .done(let value): return value
    case .wouldBlock: throw SystemError(call: name(), errno: EAGAIN)
    }
}

/// close(2) is never retried on EINTR: on Linux the descriptor is gone either way.
public func closeDescriptor(_ fd: Int32) {
    _ = Glibc.close(fd)
}
