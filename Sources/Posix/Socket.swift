import CSystem
import Glibc

/// What a non-blocking read can say: some bytes, nothing yet, or the peer closed its side.
public enum ReadResult: Sendable, Equatable {
    case bytes(Int)
    case wouldBlock
    case eof
}

/// What a non-blocking write can say: how many bytes the kernel took, or none for now.
public enum WriteResult: Sendable, Equatable {
    case wrote(Int)
    case wouldBlock
}

/// TCP socket calls (socket(2), setsockopt(2), bind(2), listen(2), accept4(2), read/send/sendmsg,
/// shutdown(2), getsockname(2), connect(2)). Every descriptor made here is close-on-exec.
public enum Socket {
    /// Which half of a connection `shutdown` closes.
    public enum Direction: Sendable {
        case write, both

        var raw: Int32 {
            switch self {
            case .write: Int32(SHUT_WR)
            case .both: Int32(SHUT_RDWR)
            }
        }
    }

    /// An IPv4 or IPv6 socket address parsed from a numeric host string (no DNS: a service binds
    /// to addresses, and a name that needs resolving is a configuration error, reported as EINVAL).
    public struct Address: Sendable {
        /// Raw sockaddr bytes (sockaddr_in or sockaddr_in6).
        var storage: sockaddr_storage
        var length: socklen_t
        public var isIPv6: Bool { Int32(storage.ss_family) == AF_INET6 }

        /// `host` is dotted IPv4 (`127.0.0.1`, `0.0.0.0`) or IPv6 (`::1`, `::`, `[::1]`).
        public init(host: String, port: Int) throws(SystemError) {
            guard (0...65535).contains(port) else { throw SystemError(call: "address(port)", errno: EINVAL) }
            var host = host
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            var storage = sockaddr_storage()
            let netPort = in_port_t(UInt16(port).bigEndian)
            if host.contains(":") {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = netPort
                guard inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1 else {
                    throw SystemError(call: "inet_pton(\(host))", errno: EINVAL)
                }
                withUnsafeBytes(of: sin6) { src in
                    withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) }
                }
                self.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            } else {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = netPort
                guard inet_pton(AF_INET, host, &sin.sin_addr) == 1 else {
                    throw SystemError(call: "inet_pton(\(host))", errno: EINVAL)
                }
                withUnsafeBytes(of: sin) { src in
                    withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) }
                }
                self.length = socklen_t(MemoryLayout<sockaddr_in>.size)
            }
            self.storage = storage
        }

        func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
            withUnsafePointer(to: storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
            }
        }
    }

    /// A new non-blocking, close-on-exec TCP socket of the address's family.
    public static func makeTCP(ipv6: Bool, nonBlocking: Bool = true) throws(SystemError) -> Int32 {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        return try syscallBlocking("socket") { Glibc.socket(ipv6 ? AF_INET6 : AF_INET, type, 0) }
    }

    private static func setFlag(_ fd: Int32, _ level: Int32, _ option: Int32, _ name: String) throws(SystemError) {
        var one: Int32 = 1
        _ = try syscallBlocking("setsockopt(\(name))") {
            setsockopt(fd, level, option, &one, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// SO_REUSEADDR: rebinding a port with connections in TIME_WAIT works after a restart.
    public static func setReuseAddress(_ fd: Int32) throws(SystemError) {
        try setFlag(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR")
    }

    /// SO_REUSEPORT: several listeners share one port and the kernel spreads connections.
    public static func setReusePort(_ fd: Int32) throws(SystemError) {
        try setFlag(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT")
    }

    /// TCP_NODELAY: small responses leave at once instead of waiting for Nagle's timer.
    public static func setNoDelay(_ fd: Int32) throws(SystemError) {
        try setFlag(fd, Int32(IPPROTO_TCP), TCP_NODELAY, "TCP_NODELAY")
    }

    /// SO_RCVTIMEO on a blocking socket: a read gives up (EAGAIN) after `seconds`.
    public static func setReceiveTimeout(_ fd: Int32, seconds: Double) throws(SystemError) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        _ = try syscallBlocking("setsockopt(SO_RCVTIMEO)") {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    public static func bind(_ fd: Int32, to address: Address) throws(SystemError) {
        _ = try syscallBlocking("bind") { address.withSockaddr { Glibc.bind(fd, $0, $1) } }
    }

    public static func listen(_ fd: Int32, backlog: Int) throws(SystemError) {
        _ = try syscallBlocking("listen") { Glibc.listen(fd, Int32(clamping: backlog)) }
    }

    /// Makes a listener stop taking new connections without resetting any: connection
    /// requests (SYN) are dropped by a socket filter, handshakes already under way complete into
    /// the accept queue. Accept what is queued, then close the listener: a client whose SYN was
    /// dropped retries it and is refused by then (ECONNREFUSED), never reset after connecting.
    /// Closing a listener with connections still in its queue resets them, and their clients
    /// may already have written a request; this is how a drain avoids that.
    public static func dropConnectionRequests(_ fd: Int32) throws(SystemError) {
        _ = try syscallBlocking("setsockopt(SO_ATTACH_FILTER)") { csystem_drop_connection_requests(fd) }
    }

    /// A blocking connect (used by clients and tests; the server never connects).
    public static func connect(_ fd: Int32, to address: Address) throws(SystemError) {
        _ = try syscallBlocking("connect") { address.withSockaddr { Glibc.connect(fd, $0, $1) } }
    }

    /// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; nil when no connection is waiting.
    /// EMFILE/ENFILE/ENOBUFS/ENOMEM are thrown: the caller must back off, not retry at once.
    public static func accept(_ fd: Int32) throws(SystemError) -> Int32? {
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        switch try syscall("accept4", { csystem_accept4(fd, nil, nil, flags) }) {
        case .done(let client): return client
        case .wouldBlock: return nil
        }
    }

    /// read(2) into `buffer`. ECONNRESET and friends are thrown.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadResult {
        switch try syscall("read", { Glibc.read(fd, buffer.baseAddress, buffer.count) }) {
        case .done(0): return buffer.isEmpty ? .bytes(0) : .eof
        case .done(let n): return .bytes(n)
        case .wouldBlock: return .wouldBlock
        }
    }

    /// send(2) with MSG_NOSIGNAL: a peer that went away gives EPIPE, never SIGPIPE.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> WriteResult {
        switch try syscall("send", { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }) {
        case .done(let n): return .wrote(n)
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Gathered write (sendmsg(2) with MSG_NOSIGNAL, i.e. writev without SIGPIPE).
    /// At most 1024 (IOV_MAX on Linux) buffers are passed; the caller loops on the count written.
    public static func writev(_ fd: Int32, _ buffers: [UnsafeRawBufferPointer]) throws(SystemError) -> WriteResult {
        var iovecs = buffers.prefix(1024).map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        let result = try iovecs.withUnsafeMutableBufferPointer { (iov) throws(SystemError) -> IOResult<Int> in
            var message = msghdr()
            message.msg_iov = iov.baseAddress
            message.msg_iovlen = iov.count
            return try syscall("sendmsg") { Glibc.sendmsg(fd, &message, Int32(MSG_NOSIGNAL)) }
        }
        switch result {
        case .done(let n): return .wrote(n)
        case .wouldBlock: return .wouldBlock
        }
    }

    /// shutdown(2). ENOTCONN (the peer is already gone) is not an error worth reporting.
    public static func shutdown(_ fd: Int32, _ direction: Direction) {
        _ = try? syscallBlocking("shutdown") { Glibc.shutdown(fd, direction.raw) }
    }

    /// The port the socket is bound to (after binding port 0, the one the kernel chose).
    public static func localPort(_ fd: Int32) throws(SystemError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemError) -> Int32 in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) -> Int32 in
                try syscallBlocking("getsockname") { getsockname(fd, sa, &length) }
            }
        }
        // sin_port and sin6_port sit at the same offset, right after the family.
        let port = withUnsafeBytes(of: storage) { $0.load(fromByteOffset: 2, as: UInt16.self) }
        return Int(UInt16(bigEndian: port))
    }
}

extension SystemError {
    /// EMFILE, ENFILE, ENOBUFS, ENOMEM: the process or system ran out of descriptors or
    /// memory. An accept loop must back off on these, not retry at once (it would spin).
    public var isResourceExhaustion: Bool {
        errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM
    }
}
