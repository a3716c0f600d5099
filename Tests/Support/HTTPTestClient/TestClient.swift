import Glibc
import Posix

// A blocking HTTP/1.1 client for tests over real loopback sockets, shared by the
// HTTPServer and Service test targets.

/// A response as the test client read it.
public struct ClientResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

public struct ClientError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }
}

/// A small blocking HTTP/1.1 client on Glibc sockets. Reads time out (SO_RCVTIMEO) instead of
/// hanging a test run; nothing sleeps. The default timeout only bounds a hang: it is long
/// enough that a shared, overloaded CI machine stalling the process for seconds is not a failure.
public final class TestClient {
    public let fd: Int32
    private var buffer: [UInt8] = []

    public init(port: Int, receiveTimeout: Double = 30) throws {
        // `self.fd` is set only once the socket is connected: a class initializer that throws
        // after every stored property is set still runs `deinit`, which would close the
        // descriptor a second time, by then perhaps another thread's new socket.
        let socket = try Socket.makeTCP(ipv6: false, nonBlocking: false)
        do {
            try Socket.setReceiveTimeout(socket, seconds: receiveTimeout)
            try Socket.connect(socket, to: Socket.Address(host: "127.0.0.1", port: port))
        } catch {
            closeDescriptor(socket)
            throw error
        }
        fd = socket
    }

    deinit { closeDescriptor(fd) }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let result = try bytes.withUnsafeBytes { try Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[sent...])) }
            guard case .wrote(let n) = result else { throw ClientError(description: "send would block") }
            sent += n
        }
    }

    /// Reads more bytes into the buffer; false on EOF. Throws on timeout or reset.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let result = try chunk.withUnsafeMutableBytes { try Socket.read(fd, into: $0) }
        switch result {
        case .bytes(let n):
            buffer.append(contentsOf: chunk[..<n])
            return true
        case .eof: return false
        case .wouldBlock: throw ClientError(description: "read timed out")
        }
    }

    /// Reads exactly up to and including the next blank line; returns the head text.
    private func readHeadText() throws -> String {
        while true {
            if let end = findHeadEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                return head
            }
            guard try fill() else { throw ClientError(description: "connection closed before a full head") }
        }
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4)
        where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Reads one response; `forHEAD` skips the body Content-Length announces.
    public func readResponse(forHEAD: Bool = false) throws -> ClientResponse {
        let head = try readHeadText()
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw ClientError(description: "bad status line in \(head)")
        }
        let headers = try lines.map { line -> (name: String, value: String) in
            guard let colon = line.firstIndex(of: ":") else {
                throw ClientError(description: "header line without a colon: \(line) in \(head)")
            }
            return (String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
        }
        var response = ClientResponse(status: status, headers: headers, body: [])
        if !forHEAD, status >= 200, let length = response.header("Content-Length").flatMap(Int.init) {
            while buffer.count < length {
                guard try fill() else { throw ClientError(description: "closed mid-body") }
            }
            response.body = Array(buffer[..<length])
            buffer.removeFirst(length)
        }
        return response
    }

    /// True if the server closes the connection (EOF) with no further bytes before the timeout.
    public func readsEOF() throws -> Bool {
        if !buffer.isEmpty { return false }
        return try !fill()
    }
}

extension TestClient {
    /// Sends one request with Host and Content-Length set, and reads its response.
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws -> ClientResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + body)
        return try readResponse(forHEAD: method == "HEAD")
    }

    /// POSTs a JSON body.
    public func postJSON(_ path: String, _ json: String, headers: [(String, String)] = []) throws -> ClientResponse {
        try request("POST", path, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
    }
}
