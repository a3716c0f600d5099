import Foundation
import Glibc
import Posix
import Synchronization
import Testing
@testable import HTTPServer

/// Runs the real server with an HTTPS listener (port 0) next to plain HTTP (port 0).
func withTLSServer(
    certificates: TestCertificates, loops: Int = 2, configure: (inout TLSConfiguration) -> Void = { _ in },
    logger: (@Sendable (String) -> Void)? = nil, _ body: (HTTPServer, _ plainPort: Int, _ tlsPort: Int) throws -> Void
) throws {
    // Built once: making 4 MiB per request in a debug build, on a loaded machine, can hold the
    // only loop long enough for the other connections' handshakes to time out.
    let big = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) }
    var tls = TLSConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile, port: 0)
    configure(&tls)
    try withServer(loops: loops, drainTimeout: 10, configure: { $0.tls = tls }, routes: { router in
        standardRoutes(&router)
        router.add("GET", "/big/{megabytes}") { request in
            let size = min(big.count, (Int(request.pathParameters["megabytes"] ?? "") ?? 1) << 20)
            return HTTPResponse(body: Array(big[..<size]))
        }
    }, logger: logger) { server, port in
        try body(server, port, try #require(server.tlsPort))
    }
}

@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct TLSTests {
    @Test func curlGetsTheResponseOverHTTPSWithTheConfiguredCertificate() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates) { _, _, tlsPort in
            let result = try runProcess("curl", [
                "-sS", "--cacert", certificates.caFile, "-w", " %{http_code} %{http_version}",
                "https://localhost:\(tlsPort)/hello",
            ])
            #expect(result.status == 0, "\(result.errorOutput)")
            #expect(result.output == "hello 200 1.1")
        }
    }

    @Test func curlKeepsOneTLSConnectionAliveForSeveralRequests() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates) { server, _, tlsPort in
            let url = "https://localhost:\(tlsPort)/items/"
            let result = try runProcess("curl", ["-sS", "--cacert", certificates.caFile, url + "1", url + "2", url + "3"])
            #expect(result.output == "item 1item 2item 3")
            #expect(server.counters.acceptedConnections.load(ordering: .relaxed) == 1)
        }
    }

    /// Forty requests, each its own TLS record, sent in one write: OpenSSL reads them all at once
    /// (read-ahead) and holds what the loop has not asked for, where epoll cannot see it; the
    /// loop must go back for it, or the connection stalls with requests unanswered.
    @Test func pipelinedRecordsBufferedInsideOpenSSLAreAllAnswered() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates, loops: 1) { server, _, tlsPort in
            let script = #"""
import socket, ssl, sys
port, cafile, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=cafile)
ctx.set_alpn_protocols(["http/1.1"])
raw = socket.create_connection(("127.0.0.1", port), timeout=10)
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
def receive():
    data = raw.recv(65536)
    if not data:
        raise EOFError("the server closed the connection")
    incoming.write(data)
while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        raw.sendall(outgoing.read())
        receive()
raw.sendall(outgoing.read())
for i in range(count):
    tls.write(f"GET /items/{i} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
raw.sendall(outgoing.read())  # every record in one send
text = b""
try:
    while text.count(b"HTTP/1.1 200 OK") < count or not text.endswith(f"item {count - 1}".encode()):
        try:
            text += tls.read(65536)
        except ssl.SSLWantReadError:
            receive()
    print("answered", text.count(b"HTTP/1.1 200 OK"))
except (socket.timeout, EOFError) as error:
    print("stalled after", text.count(b"HTTP/1.1 200 OK"), "responses:", error)
"""#
            let result = try runProcess(
                "python3", ["-c", script, String(tlsPort), certificates.caFile, "40"], timeout: 30)
            #expect(result.output == "answered 40\n", "\(result.output) \(result.errorOutput)")
            #expect(server.counters.acceptedConnections.load(ordering: .relaxed) == 1)
        }
    }

    /// Request bodies far larger than OpenSSL's read buffer, pipelined on keep-alive connections:
    /// a read that leaves nothing buffered in OpenSSL ends the event's reads, and what the socket
    /// still holds must make epoll report it again, never a stalled request.
    @Test func largePipelinedRequestBodiesOverTLSAreAllEchoed() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates, loops: 1) { _, _, tlsPort in
            let script = #"""
import socket, ssl, sys, threading, random
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
results = []
def run(seed):
    rng = random.Random(seed)
    bodies = [rng.randbytes(rng.choice([1, 100, 16384, 16385, 70000, 1 << 20])) for _ in range(6)]
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="localhost") as s:
        s.sendall(b"".join(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b) for b in bodies))
        data = b""
        echoed = []
        while len(echoed) < len(bodies):
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                length = int([l for l in data[:head_end].split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
                if len(data) >= head_end + 4 + length:
                    echoed.append(data[head_end + 4:head_end + 4 + length])
                    data = data[head_end + 4 + length:]
                    continue
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        results.append(echoed == bodies)
threads = [threading.Thread(target=run, args=(seed,)) for seed in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print("echoed", sum(results), "of", len(threads))
"""#
            let result = try runProcess("python3", ["-c", script, String(tlsPort), certificates.caFile], timeout: 120)
            #expect(result.output == "echoed 4 of 4\n", "\(result.output) \(result.errorOutput)")
        }
    }

    /// Responses far larger than the socket buffers: SSL_write takes part, says WANT_WRITE,
    /// and the loop resumes on writability; several such connections at once on one loop.
    @Test func largeResponsesOverTLSArriveWholeOnConcurrentConnections() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates, loops: 1) { _, _, tlsPort in
            let script = #"""
import socket, ssl, sys, threading
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
expected = bytes(i % 251 for i in range(4 << 20))
results = []
def fetch():
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="localhost") as s:
        s.sendall(b"GET /big/4 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
        results.append(data.split(b"\r\n\r\n", 1)[1] == expected)
threads = [threading.Thread(target=fetch) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(results)
"""#
            let result = try runProcess("python3", ["-c", script, String(tlsPort), certificates.caFile], timeout: 60)
            #expect(result.output == "[True, True, True, True]\n", "\(result.output) \(result.errorOutput)")
        }
    }

    @Test func pythonSSLClientNegotiatesTLS13AndHTTP11ALPN() throws {
        let certificates = try TestCertificates(commonName: "vigia-python", serial: 4242)
        try withTLSServer(certificates: certificates) { _, _, tlsPort in
            let answer = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile)
            #expect(answer["error"] == nil, "\(answer)")
            #expect(answer["version"] as? String == "TLSv1.3")
            #expect(answer["cipher"] as? String == "TLS_AES_128_GCM_SHA256", "the server's first TLS 1.3 suite")
            #expect(answer["alpn"] as? String == "http/1.1")
            #expect(answer["serial"] as? Int == 4242)
            #expect(answer["cn"] as? String == "vigia-python")
            #expect((answer["response"] as? String)?.hasPrefix("HTTP/1.1 200 OK\r\n") == true)
            #expect((answer["response"] as? String)?.hasSuffix("\r\n\r\nhello") == true)
        }
    }

    @Test func tls12ClientsAreServedByDefaultAndRefusedWhenTheFloorIs13() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates) { _, _, tlsPort in
            let answer = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile, maximumVersion: "TLSv1_2")
            #expect(answer["version"] as? String == "TLSv1.2", "\(answer)")
        }
        try withTLSServer(certificates: certificates, configure: { $0.minimumVersion = .tls13 }) { _, _, tlsPort in
            let answer = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile, maximumVersion: "TLSv1_2")
            // The server's protocol_version alert, not any failure (a refused connection or an
            // untrusted certificate would fail differently).
            #expect((answer["error"] as? String)?.contains("PROTOCOL_VERSION") == true, "\(answer)")
        }
    }

    /// A client that speaks only h2 gets a no_application_protocol alert rather than HTTP/1.1
    /// bytes it would misread; the same server serves http/1.1 clients.
    @Test func anH2OnlyClientIsRefusedWithTheALPNAlert() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates) { server, _, tlsPort in
            let refused = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile, alpn: ["h2"])
            #expect((refused["error"] as? String)?.contains("no application protocol") == true, "\(refused)")
            #expect(server.counters.tlsHandshakeFailures.load(ordering: .relaxed) == 1)
            let served = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile, alpn: ["h2", "http/1.1"])
            #expect(served["alpn"] as? String == "http/1.1", "\(served)")
            let noALPN = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile, alpn: [])
            #expect((noALPN["response"] as? String)?.hasSuffix("hello") == true, "a client without ALPN is served: \(noALPN)")
        }
    }

    /// Renegotiation is refused (a client could otherwise make a read want a write mid-stream,
    /// and renegotiation floods cost the server a handshake each): `openssl s_client` asks with
    /// its `R` command over TLS 1.2 and gets the no_renegotiation alert; the server carries on.
    @Test func aRenegotiationRequestIsRefusedAndTheServerCarriesOn() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates) { _, _, tlsPort in
            let driver = #"""
import select, subprocess, sys, time
port, cafile = sys.argv[1], sys.argv[2]
client = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_2", "-CAfile", cafile,
                           "-servername", "localhost", "-no_ign_eof"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
seen = b""
def wait_for(marker):  # the bound only stops a hang
    global seen
    deadline = time.monotonic() + 30
    while marker not in seen and time.monotonic() < deadline:
        if select.select([client.stdout], [], [], 1)[0]:
            chunk = client.stdout.read1(65536)
            if not chunk:
                break
            seen += chunk
    return marker in seen
print("handshake" if wait_for(b"Verify return code: 0 (ok)") else "no handshake")
client.stdin.write(b"R\n")
client.stdin.flush()
print("refused" if wait_for(b"no renegotiation") else "not refused")
client.kill()
client.wait()
sys.stderr.write(seen.decode(errors="replace")[-2000:])
"""#
            let result = try runProcess("python3", ["-c", driver, String(tlsPort), certificates.caFile], timeout: 90)
            #expect(result.output == "handshake\nrefused\n", "\(result.output) \(result.errorOutput)")
            #expect(result.errorOutput.contains("RENEGOTIATING"))
            let answer = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile)
            #expect((answer["response"] as? String)?.hasSuffix("hello") == true, "\(answer)")
        }
    }

    @Test func plainHTTPKeepsWorkingNextToHTTPS() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates) { _, plainPort, _ in
            let response = try TestClient(port: plainPort).request("GET", "/hello")
            #expect(response.status == 200)
            #expect(response.text == "hello")
        }
    }

    @Test func aMissingCertificateFileFailsStartWithThePathAndReason() throws {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1)
        configuration.tls = TLSConfiguration(certificateFile: "/nonexistent/tls.crt", keyFile: "/nonexistent/tls.key", port: 0)
        let server = HTTPServer(configuration: configuration, router: Router())
        #expect(throws: TLSError("TLS certificate file /nonexistent/tls.crt: No such file or directory")) {
            _ = try server.start()
        }
    }

    @Test func aKeyThatDoesNotMatchTheCertificateFailsStart() throws {
        let first = try TestCertificates(), second = try TestCertificates()
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1)
        configuration.tls = TLSConfiguration(certificateFile: first.certificateFile, keyFile: second.keyFile, port: 0)
        let server = HTTPServer(configuration: configuration, router: Router())
        do {
            _ = try server.start()
            Issue.record("start succeeded with a foreign key")
        } catch let error as TLSError {
            #expect(error.description.contains("does not match the certificate"), "\(error)")
        }
    }

    @Test func anUnparsableCertificateFailsStartNamingTheFile() throws {
        let certificates = try TestCertificates()
        try certificates.rotate(commonName: "x", serial: 2, garbage: true)
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1)
        configuration.tls = TLSConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile, port: 0)
        let server = HTTPServer(configuration: configuration, router: Router())
        do {
            _ = try server.start()
            Issue.record("start succeeded with a garbage certificate")
        } catch let error as TLSError {
            #expect(error.description.hasPrefix("cannot load the TLS certificate chain from \(certificates.certificateFile)"), "\(error)")
        }
    }

    /// Plain HTTP gets a plain 400 naming the problem (as nginx does); garbage is closed.
    @Test func plaintextAndGarbageOnTheTLSPortAreClosedWithoutHurtingOtherConnections() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates, loops: 1) { server, plainPort, tlsPort in
            // A TLS keep-alive connection opened first, used before and after the bad clients.
            let script = #"""
import socket, ssl, sys, os
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
good = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost")
def get(path):
    good.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
    data = b""
    while not data.endswith(b"item 7") and not data.endswith(b"item 8"):
        chunk = good.recv(65536)
        if not chunk:
            return "EOF"
        data += chunk
    return data.decode().split("\r\n")[0]
print(get("/items/7"))
for payload in [b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n", os.urandom(4096), b"\x16\x03\x01\x00\x05garbage"]:
    bad = socket.create_connection(("127.0.0.1", port), timeout=10)
    bad.sendall(payload)
    try:
        rest = bad.recv(65536)
        while rest and not rest.startswith(b"HTTP"):
            more = bad.recv(65536)
            if not more:
                break
            rest = more
        label = rest.split(b"\r\n")[0].decode() + (" (says HTTPS)" if b"speaks HTTPS" in rest else "") if rest.startswith(b"HTTP") else "closed"
    except ConnectionResetError:
        label = "closed"
    print("bad: " + label)
    bad.close()
print(get("/items/8"))
"""#
            let result = try runProcess("python3", ["-c", script, String(tlsPort), certificates.caFile])
            #expect(result.output == "HTTP/1.1 200 OK\nbad: HTTP/1.1 400 Bad Request (says HTTPS)\nbad: closed\nbad: closed\nHTTP/1.1 200 OK\n",
                    "\(result.output) \(result.errorOutput)")
            #expect(server.counters.tlsHandshakeFailures.load(ordering: .relaxed) == 3)
            #expect(try TestClient(port: plainPort).request("GET", "/hello").status == 200)
        }
    }

    @Test func aStalledHandshakeIsClosedAtTheHandshakeTimeout() throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates, configure: { $0.handshakeTimeout = 0.2 }) { server, _, tlsPort in
            let silent = try TestClient(port: tlsPort)
            let halfHello = try TestClient(port: tlsPort)
            try halfHello.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])  // a ClientHello record that never completes
            #expect(try silent.readsEOF())
            #expect(try halfHello.readsEOF())
            #expect(server.counters.tlsHandshakeTimeouts.load(ordering: .relaxed) == 2)
            // The loop is still serving TLS (a client stalled past the short timeout before
            // its handshake completed is closed too, and tries again).
            let answer = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile, attempts: 50)
            #expect((answer["response"] as? String)?.hasSuffix("hello") == true, "\(answer)")
        }
    }

    @Test func aRotatedCertificateIsServedToNewConnectionsWithoutARestart() throws {
        let certificates = try TestCertificates(commonName: "before-rotation", serial: 100)
        let log = LogLines()
        try withTLSServer(certificates: certificates, configure: { $0.reloadInterval = 0.05 }, logger: log.sink) { _, _, tlsPort in
            let oldCA = try Data(contentsOf: URL(fileURLWithPath: certificates.caFile))
            #expect(try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile)["serial"] as? Int == 100)

            try certificates.rotate(commonName: "after-rotation", serial: 200)
            #expect(log.waitFor("TLS certificate reloaded: subject /CN=after-rotation, serial C8"))
            let answer = try pythonTLSRequest(port: tlsPort, caFile: certificates.caFile)
            #expect(answer["serial"] as? Int == 200, "\(answer)")
            #expect(answer["cn"] as? String == "after-rotation")

            // A broken replacement is logged and the last good certificate keeps serving.
            let goodCA = try Data(contentsOf: URL(fileURLWithPath: certificates.caFile))
            #expect(goodCA != oldCA)
            try certificates.rotate(commonName: "broken", serial: 300, garbage: true)
            #expect(log.waitFor("TLS certificate reload failed; the previous certificate keeps serving"))
            let pinned = FileManager.default.temporaryDirectory.appending(path: "vigia-ca-\(UUID().uuidString).crt")
            try goodCA.write(to: pinned)
            defer { try? FileManager.default.removeItem(at: pinned) }
            #expect(try pythonTLSRequest(port: tlsPort, caFile: pinned.path)["serial"] as? Int == 200)
        }
    }
}
