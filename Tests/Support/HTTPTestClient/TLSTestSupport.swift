import Foundation

// TLS test helpers shared by the HTTPServer and Service tests: certificates made with the
// `openssl` CLI at test time (never committed), and the real clients the issue asks for
// (curl, Python's ssl module) run as child processes with a deadline.

/// What a child process printed and how it ended.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var output: String
    public var errorOutput: String
}

/// Runs `executable` (looked up on PATH, or a path) with `arguments`, `input` on its stdin
/// (none: /dev/null) and `environment` added to this process's; kills it after `timeout` seconds.
public func runProcess(
    _ executable: String, _ arguments: [String], input: [UInt8]? = nil, environment: [String: String] = [:],
    timeout: Double = 20
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let stdin = input.map { _ in Pipe() }
    process.standardInput = stdin ?? FileHandle.nullDevice
    try process.run()
    if let stdin, let input {
        // Written from another thread, so a child that answers before reading everything
        // cannot leave this one blocked on a full pipe; a child that exits early is EPIPE
        // (SIGPIPE ignored, as the server under test ignores it), not a dead test run.
        signal(SIGPIPE, SIG_IGN)
        DispatchQueue.global().async {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
            try? stdin.fileHandleForWriting.close()
        }
    }
    let done = DispatchSemaphore(value: 0)
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { outData = output.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { errData = errors.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async {
        process.waitUntilExit()
        done.signal()
    }
    if done.wait(timeout: .now() + timeout) == .timedOut {
        process.terminate()
        done.wait()
    }
    group.wait()
    return ProcessResult(
        status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
        errorOutput: String(decoding: errData, as: UTF8.self))
}

/// A directory of test-only certificates, laid out like a mounted Kubernetes secret:
/// `tls.crt` and `tls.key` are symlinks through `..data`, which points at a versioned
/// directory; `rotate` swaps `..data` atomically, as the kubelet does.
public final class TestCertificates {
    public let directory: URL
    public private(set) var generation = 0

    public var certificateFile: String { directory.appending(path: "tls.crt").path }
    public var keyFile: String { directory.appending(path: "tls.key").path }
    /// The CA file clients trust: the current self-signed leaf itself.
    public var caFile: String { directory.appending(path: "..data/tls.crt").path }

    /// Makes a self-signed P-256 certificate for `localhost` and 127.0.0.1.
    public init(commonName: String = "vigia-test-1", serial: Int = 1) throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "vigia-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try rotate(commonName: commonName, serial: serial)
        try FileManager.default.createSymbolicLink(atPath: certificateFile, withDestinationPath: "..data/tls.crt")
        try FileManager.default.createSymbolicLink(atPath: keyFile, withDestinationPath: "..data/tls.key")
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Writes a new certificate + key into a fresh versioned directory and points `..data` at
    /// it with one rename. `garbage` writes an unparsable certificate instead.
    public func rotate(commonName: String, serial: Int, garbage: Bool = false) throws {
        generation += 1
        let name = "..v\(generation)"
        let version = directory.appending(path: name)
        try FileManager.default.createDirectory(at: version, withIntermediateDirectories: true)
        if garbage {
            try Data("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n".utf8)
                .write(to: version.appending(path: "tls.crt"))
            try Data("not a key\n".utf8).write(to: version.appending(path: "tls.key"))
        } else {
            let result = try runProcess("openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", version.appending(path: "tls.key").path, "-out", version.appending(path: "tls.crt").path,
                "-days", "2", "-subj", "/CN=\(commonName)", "-set_serial", String(serial),
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
            guard result.status == 0 else { throw ClientError(description: "openssl req failed: \(result.errorOutput)") }
        }
        let link = directory.appending(path: "..data_tmp").path
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: name)
        guard rename(link, directory.appending(path: "..data").path) == 0 else {
            throw ClientError(description: "rename of ..data failed")
        }
    }
}

/// A Python `ssl` client: connects to 127.0.0.1:`port` verifying `localhost` against `caFile`,
/// offers ALPN `alpn` (h2 and http/1.1 by default), optionally caps the version, sends
/// `request` (raw HTTP) and prints one JSON line: version, alpn, serial, subject CN, and the
/// response text; or {"error": …, "attempts": n} when the handshake fails. With `attempts` > 1
/// a handshake the server closed (EOF or reset: its handshake timer fired while this client
/// stalled) is tried again on a new connection, up to that many times.
public func pythonTLSRequest(
    port: Int, caFile: String, request: String = "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    maximumVersion: String? = nil, alpn: [String] = ["h2", "http/1.1"], attempts: Int = 1
) throws -> [String: Any] {
    let script = #"""
import json, socket, ssl, sys
port, cafile, request, maxv = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
alpn, attempts = [p for p in sys.argv[5].split(",") if p], int(sys.argv[6])
ctx = ssl.create_default_context(cafile=cafile)
ctx.set_alpn_protocols(alpn)
if maxv:
    ctx.maximum_version = getattr(ssl.TLSVersion, maxv)
for attempt in range(1, attempts + 1):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                cert = s.getpeercert()
                s.sendall(request.encode())
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                subject = dict(x[0] for x in cert["subject"])
                print(json.dumps({"version": s.version(), "alpn": s.selected_alpn_protocol(), "cipher": s.cipher()[0],
                                  "serial": int(cert["serialNumber"], 16), "cn": subject.get("commonName"),
                                  "response": data.decode("utf-8", "replace"), "attempts": attempt}))
                break
    except (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError) as e:
        if attempt == attempts:
            print(json.dumps({"error": str(e), "attempts": attempt}))
    except (ssl.SSLError, OSError) as e:
        print(json.dumps({"error": str(e), "attempts": attempt}))
        break
"""#
    let arguments = [script, String(port), caFile, request, maximumVersion ?? "", alpn.joined(separator: ","), String(attempts)]
    let result = try runProcess("python3", ["-c"] + arguments, timeout: 20 + 10 * Double(attempts))
    guard let data = result.output.data(using: .utf8),
          let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw ClientError(description: "python client: \(result.output) \(result.errorOutput)") }
    return object
}
