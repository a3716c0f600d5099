import Foundation
import Glibc
import Posix
import Testing
@testable import HTTPServer

/// TLS sessions: resumption, and the connection limit on the TLS port.
@Suite(.timeLimit(.minutes(10))) struct TLSSessionTests {
    /// Two connections from one client process; the second offers the first's session.
    static let resumingClient = #"""
import json, socket, ssl, sys
port, cafile, maxv = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
if maxv:
    ctx.maximum_version = getattr(ssl.TLSVersion, maxv)
def fetch(session):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return s.session, s.session_reused, s.version(), data.endswith(b"hello")
session, first_reused, version, first_ok = fetch(None)
_, second_reused, _, second_ok = fetch(session)
print(json.dumps({"version": version, "first": [first_reused, first_ok], "second": [second_reused, second_ok]}))
"""#

    @Test(arguments: ["", "TLSv1_2"])
    func aReturningClientResumesItsSessionAndSkipsTheFullHandshake(maximumVersion: String) throws {
        let certificates = try TestCertificates()
        try withTLSServer(certificates: certificates) { server, _, tlsPort in
            let result = try runProcess(
                "python3", ["-c", Self.resumingClient, String(tlsPort), certificates.caFile, maximumVersion], timeout: 60)
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
                                      "\(result.output) \(result.errorOutput)")
            #expect(answer["version"] as? String == (maximumVersion.isEmpty ? "TLSv1.3" : "TLSv1.2"))
            #expect(answer["first"] as? [Bool] == [false, true])
            #expect(answer["second"] as? [Bool] == [true, true], "the second connection resumed: \(answer)")
            #expect(server.counters.tlsFullHandshakes.load(ordering: .relaxed) == 1)
            #expect(server.counters.tlsResumedHandshakes.load(ordering: .relaxed) == 1)
        }
    }

    @Test func tlsConnectionsOverMaxConnectionsAreClosedAndCounted() throws {
        let certificates = try TestCertificates()
        var tls = TLSConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile, port: 0)
        tls.handshakeTimeout = 30
        try withServer(loops: 1, configure: { $0.tls = tls; $0.maxConnections = 1 }, routes: standardRoutes) { server, port in
            let holder = try TestClient(port: port)
            #expect(try holder.request("GET", "/hello").status == 200)
            let tlsPort = try #require(server.tlsPort)
            let refused = try TestClient(port: tlsPort)
            #expect(try refused.readsEOF(), "closed without a handshake")
            #expect(server.counters.rejectedConnections.load(ordering: .relaxed) == 1)
            #expect(server.counters.tlsFullHandshakes.load(ordering: .relaxed) == 0)
            #expect(server.counters.openConnections.load(ordering: .relaxed) == 1)
        }
    }

    /// A keep-alive connection idle for longer than the sweep has its record buffers freed,
    /// and its next requests (one alone, then three pipelined in one write) are served as
    /// before on the same connection: OpenSSL allocates the buffers again.
    @Test func idleConnectionsGiveTheirBuffersBackAndCarryOn() throws {
        let script = #"""
import socket, ssl, sys, time
port, cafile, pause = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
ctx = ssl.create_default_context(cafile=cafile)
with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        def answers(requests, expected):
            s.sendall(b"".join(f"GET /items/{i} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode() for i in requests))
            data = b""
            while data.count(b"HTTP/1.1 200 OK") < expected or not data.endswith(f"item {requests[-1]}".encode()):
                chunk = s.recv(65536)
                if not chunk:
                    return "closed"
                data += chunk
            return data.count(b"HTTP/1.1 200 OK")
        results = [answers([1], 1)]
        time.sleep(pause)
        results.append(answers([2], 1))
        time.sleep(pause)
        results.append(answers([3, 4, 5], 3))
        print(results)
"""#
        let certificates = try TestCertificates()
        #expect(TLSConnection.canReleaseIdleBuffers, "the system OpenSSL predates the SSL_free_buffers fix (CVE-2024-4741)")
        try withTLSServer(certificates: certificates, loops: 1) { server, _, tlsPort in
            let pause = String(EventLoop.idleTLSBufferSeconds * 2.5)
            let result = try runProcess("python3", ["-c", script, String(tlsPort), certificates.caFile, pause], timeout: 60)
            #expect(result.output == "[1, 1, 3]\n", "\(result.output) \(result.errorOutput)")
            #expect(server.counters.acceptedConnections.load(ordering: .relaxed) == 1)
            #expect(server.counters.tlsIdleBufferReleases.load(ordering: .relaxed) == 2, "freed once per pause")
        }
    }
}
