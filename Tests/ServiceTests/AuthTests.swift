import Foundation
import HTTPServer
import HTTPTestClient
import Logging
import Synchronization
import Testing
@testable import Service

private let adminToken = "admin-0123456789abcdef0123456789"
private let predictToken = "predict-0123456789abcdef012345"
private let otherPredictToken = "predict-fedcba9876543210fedcba"
private let unknownToken = "unknown-0123456789abcdef012345"
private let predictBody = #"{"instances":[\#(listingJSON)]}"#

private func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

/// A temporary tokens file, replaced by rename as operators (and Kubernetes) do.
private final class TokensFile {
    let path = FileManager.default.temporaryDirectory.appending(path: "vigia-tokens-\(UUID().uuidString)").path

    init(_ text: String) throws { try replace(with: text) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func replace(with text: String) throws {
        let staging = path + ".new"
        try Data(text.utf8).write(to: URL(fileURLWithPath: staging))
        guard rename(staging, path) == 0 else { throw ClientError(description: "rename failed") }
    }
}

@Suite(.timeLimit(.minutes(10))) struct AuthorizerTests {
    let tokens = TokenSet([(.admin, adminToken), (.predict, predictToken)])

    @Test func aMissingTokenIs401WithABearerChallenge() {
        guard case .denied(let error) = Authorizer.decide(requiring: .predict, authorization: nil, tokens: tokens) else {
            Issue.record("allowed without a token")
            return
        }
        #expect(error.status == .unauthorized)
        #expect(error.extraHeaders["WWW-Authenticate"] == #"Bearer realm="vigia""#)
    }

    @Test func anUnknownTokenOrAnotherSchemeIs401InvalidToken() {
        for header in ["Bearer \(unknownToken)", "Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer    "] {
            guard case .denied(let error) = Authorizer.decide(requiring: .predict, authorization: header, tokens: tokens) else {
                Issue.record("allowed with \(header)")
                continue
            }
            #expect(error.status == .unauthorized, "\(header)")
            #expect(error.extraHeaders["WWW-Authenticate"]?.hasPrefix(#"Bearer realm="vigia""#) == true)
        }
    }

    @Test func aTokenWithoutTheRoleIs403AndAdminImpliesEveryRole() {
        guard case .denied(let error) = Authorizer.decide(requiring: .admin, authorization: "Bearer \(predictToken)", tokens: tokens) else {
            Issue.record("a predict token passed an admin route")
            return
        }
        #expect(error.status == .forbidden)
        #expect(error.extraHeaders["WWW-Authenticate"] == #"Bearer realm="vigia", error="insufficient_scope", scope="admin""#)
        for role in AuthRole.allCases {
            #expect(Authorizer.decide(requiring: role, authorization: "Bearer \(adminToken)", tokens: tokens) == .allowed)
        }
        #expect(Authorizer.decide(requiring: .predict, authorization: "bearer \(predictToken)", tokens: tokens) == .allowed)
    }

    @Test func adminRoutesAre403WhenNoAdminTokenIsConfigured() {
        let onlyPredict = TokenSet([(.predict, predictToken)])
        #expect(Authorizer.decide(requiring: .admin, authorization: nil, tokens: onlyPredict)
            == .denied(HTTPError(.forbidden, detail: "admin API disabled: no admin token configured")))
    }

    @Test func tokensAreComparedByDigestAndNotKeptInPlaintext() {
        #expect(tokens.roles(of: Array(adminToken.utf8)) == [.admin])
        #expect(tokens.roles(of: Array((adminToken + "x").utf8)).isEmpty)
        #expect(!String(describing: tokens).contains(adminToken))
        #expect(TokenSet.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!TokenSet.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!TokenSet.constantTimeEqual([1, 2], [1, 2, 3]))
    }

    @Test func tokensFileHoldsRoleColonTokenLinesWithComments() throws {
        let parsed = try TokenSource.parseFile("# comment\n\nadmin:\(adminToken)\n  predict:\(predictToken)  \n", path: "t")
        #expect(parsed.map(\.role) == [.admin, .predict])
        #expect(parsed.map(\.token) == [adminToken, predictToken])
    }

    @Test func tokensFileErrorsNameTheLineButNeverTheToken() {
        #expect(throws: ConfigurationError(message: "t line 2: unknown role 'root' (predict, metrics or admin)")) {
            try TokenSource.parseFile("admin:\(adminToken)\nroot:\(predictToken)\n", path: "t")
        }
        #expect(throws: ConfigurationError(message: "t line 1: the token is shorter than 16 characters (generate one with `openssl rand -hex 32`)")) {
            try TokenSource.parseFile("predict:short\n", path: "t")
        }
        #expect(throws: ConfigurationError(message: "t line 1: expected role:token")) {
            try TokenSource.parseFile("\(adminToken)\n", path: "t")
        }
    }

    @Test func metricsIsProtectedOnlyWhenConfigured() throws {
        let metrics = Operation(method: "GET", path: "/metrics", operationId: "metrics", summary: "", responses: [])
        func authenticator(_ environment: [String: String]) throws -> Authenticator {
            let configuration = try ServiceConfiguration.resolve(file: nil, environment: environment)
            return Authenticator(settings: ServiceSettings(configuration).auth, configuration: configuration, logger: Logger(label: "t"))
        }
        let open = try authenticator([:])
        #expect(open.requirement(for: metrics) == nil)
        let protected = try authenticator(["VIGIA_AUTH_PROTECT_METRICS": "true"])
        #expect(protected.requirement(for: metrics) == .metrics)
    }
}

@Suite(.timeLimit(.minutes(10))) struct SecretConfigurationTests {
    @Test func aSecretKeyInTheConfigurationFileStopsStartUp() throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "vigia-secret-\(UUID().uuidString).json").path
        try Data(#"{"auth": {"admin_tokens": ["\#(adminToken)"]}}"#.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try ServiceConfiguration.resolve(file: path, environment: [:])
            Issue.record("a token in the file was accepted")
        } catch {
            #expect(error.message.contains("'auth.admin_tokens' is a secret and must not be in the configuration file"))
            #expect(!error.message.contains(adminToken))
        }
    }

    @Test func secretsComeFromTheirEnvironmentVariables() throws {
        let configuration = try ServiceConfiguration.resolve(
            file: nil, environment: ["VIGIA_AUTH_ADMIN_TOKENS": adminToken, "VIGIA_AUTH_PREDICT_TOKENS": "\(predictToken),\(otherPredictToken)"])
        let tokens = try TokenSource.fromConfiguration(configuration)
        #expect(tokens.map(\.role) == [.predict, .predict, .admin])
        #expect(ConfigurationKey.all.filter(\.isSecret).map(\.environmentName)
            == ["VIGIA_AUTH_ADMIN_TOKENS", "VIGIA_AUTH_PREDICT_TOKENS", "VIGIA_AUTH_METRICS_TOKENS"])
    }

    @Test func aShortEnvironmentTokenIsNamedByVariableNotValue() throws {
        let configuration = try ServiceConfiguration.resolve(file: nil, environment: ["VIGIA_AUTH_ADMIN_TOKENS": "tooshort"])
        #expect(throws: ConfigurationError(message: "VIGIA_AUTH_ADMIN_TOKENS entry 1: the token is shorter than 16 characters (generate one with `openssl rand -hex 32`)")) {
            try TokenSource.fromConfiguration(configuration)
        }
    }
}

@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct AuthEndToEndTests {
    @Test func adminRoutesAnswer401403OrServeByToken() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage, environment: ["VIGIA_AUTH_ADMIN_TOKENS": adminToken, "VIGIA_AUTH_PREDICT_TOKENS": predictToken]) { service, port in
            // Only the hashed copies in the authenticator remain; the configuration dropped them.
            #expect(service.configuration.value(of: .authAdminTokens) == [])
            #expect(service.configuration.value(of: .authPredictTokens) == [])
            let client = try TestClient(port: port)
            let missing = try client.request("POST", "/v1/admin/reload")
            #expect(missing.status == 401)
            #expect(missing.header("WWW-Authenticate") == #"Bearer realm="vigia""#)
            #expect(missing.header("Content-Type") == "application/problem+json")
            #expect(try json(missing)["status"] == 401)
            let unknown = try client.request("POST", "/v1/admin/reload", headers: bearer(unknownToken))
            #expect(unknown.status == 401)
            #expect(unknown.header("WWW-Authenticate") == #"Bearer realm="vigia", error="invalid_token""#)
            let wrongRole = try client.request("POST", "/v1/models/prohibited-items:rollback", headers: bearer(predictToken))
            #expect(wrongRole.status == 403)
            #expect(try json(wrongRole)["detail"] == "The bearer token does not have the admin role.")
            #expect(try client.request("POST", "/v1/admin/reload", headers: bearer(adminToken)).status == 202)
            // auth.enabled is false: predict is open, with or without a token; health is open.
            #expect(try client.postJSON(predictPath, predictBody).status == 200)
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(unknownToken)).status == 200)
            #expect(try client.request("GET", "/health/live").status == 200)
        }
    }

    @Test func adminRoutesAre403WhenNoAdminTokenIsConfigured() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try withService(storage: storage) { _, port in
            let response = try TestClient(port: port).request("DELETE", "/v1/models/prohibited-items/labels/canary", headers: bearer(adminToken))
            #expect(response.status == 403)
            #expect(try json(response)["detail"] == "admin API disabled: no admin token configured")
        }
    }

    @Test func withAuthEnabledPredictNeedsAPredictOrAdminToken() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let environment = ["VIGIA_AUTH_ENABLED": "true", "VIGIA_AUTH_ADMIN_TOKENS": adminToken, "VIGIA_AUTH_PREDICT_TOKENS": predictToken]
        try withService(storage: storage, environment: environment) { service, port in
            let client = try TestClient(port: port)
            let missing = try client.postJSON(predictPath, predictBody)
            #expect(missing.status == 401)
            #expect(missing.header("WWW-Authenticate") == #"Bearer realm="vigia""#)
            #expect(try client.postJSON("/v1/models/prohibited-items:explain", predictBody, headers: bearer(unknownToken)).status == 401)
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(predictToken)).status == 200)
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(adminToken)).status == 200)
            #expect(try client.request("GET", "/health/ready").status == 200)
            #expect(try client.request("GET", "/v1/models").status == 200)
            let predictOperation = try #require(service.operations.first { $0.operationId == "predict" })
            #expect(predictOperation.requiresAuth && predictOperation.requiredRole == .predict)
            #expect(predictOperation.responses.contains { $0.status == 401 })
        }
    }

    @Test func authEnabledWithoutAnyTokenFailsStartUp() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        #expect(throws: ConfigurationError(message: "auth.enabled is true but no token is configured: set auth.tokens_file or VIGIA_AUTH_PREDICT_TOKENS / VIGIA_AUTH_ADMIN_TOKENS")) {
            try withService(storage: storage, environment: ["VIGIA_AUTH_ENABLED": "true"]) { _, _ in }
        }
    }

    @Test func aChangedTokensFileIsPickedUpWithoutARestart() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let file = try TokensFile("# initial\npredict:\(predictToken)\n")
        let environment = ["VIGIA_AUTH_ENABLED": "true", "VIGIA_AUTH_TOKENS_FILE": file.path, "VIGIA_AUTH_RELOAD_INTERVAL_SECONDS": "0.05"]
        try withService(storage: storage, environment: environment) { _, port in
            let client = try TestClient(port: port)
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(predictToken)).status == 200)
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(otherPredictToken)).status == 401)
            try file.replace(with: "predict:\(otherPredictToken)\nadmin:\(adminToken)\n")
            #expect(eventually {
                (try? client.postJSON(predictPath, predictBody, headers: bearer(otherPredictToken)).status) == 200
            })
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(predictToken)).status == 401)
            #expect(try client.request("POST", "/v1/admin/reload", headers: bearer(adminToken)).status == 202)
        }
    }

    @Test func tokensNeverAppearInTheLogs() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let brokenToken = "broken-line-token-0123456789"
        let file = try TokensFile("predict:\(predictToken)\n")
        let log = CapturedLog()
        let environment = [
            "VIGIA_AUTH_ENABLED": "true", "VIGIA_AUTH_TOKENS_FILE": file.path, "VIGIA_AUTH_RELOAD_INTERVAL_SECONDS": "0.05",
            "VIGIA_AUTH_ADMIN_TOKENS": adminToken, "VIGIA_LOGGING_ACCESS_LOG": "true",
        ]
        try withService(storage: storage, environment: environment, logLevel: .trace, logSink: log.sink) { _, port in
            let client = try TestClient(port: port)
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(predictToken)).status == 200)
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(unknownToken)).status == 401)
            #expect(try client.request("POST", "/v1/admin/reload", headers: bearer(predictToken)).status == 403)
            #expect(try client.request("POST", "/v1/admin/reload", headers: bearer(adminToken)).status == 202)
            // A broken replacement: logged as a failure, the old tokens stay in force.
            try file.replace(with: "superuser:\(brokenToken)\n")
            #expect(eventually {
                _ = try? client.postJSON(predictPath, predictBody, headers: bearer(predictToken))
                return log.text.contains("auth tokens file reload failed")
            })
            #expect(try client.postJSON(predictPath, predictBody, headers: bearer(predictToken)).status == 200)
        }
        let text = log.text
        #expect(text.contains(#""http.status":401"#))
        for secret in [adminToken, predictToken, unknownToken, brokenToken] {
            #expect(!text.contains(secret), "a token leaked into the log")
        }
    }

    @Test func plainHTTPCanBeLimitedToHealthWhileTheAPIIsOnHTTPS() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let certificates = try TestCertificates()
        let environment = [
            "VIGIA_TLS_ENABLED": "true", "VIGIA_TLS_PORT": "0", "VIGIA_TLS_CERTIFICATE_FILE": certificates.certificateFile,
            "VIGIA_TLS_KEY_FILE": certificates.keyFile, "VIGIA_TLS_PLAIN_HTTP": "health_and_metrics",
        ]
        try withService(storage: storage, environment: environment) { service, port in
            let client = try TestClient(port: port)
            #expect(try client.request("GET", "/health/ready").status == 200)
            let refused = try client.postJSON(predictPath, predictBody)
            #expect(refused.status == 403)
            #expect(try json(refused)["detail"] == "This route is served over HTTPS only; plain HTTP serves health and metrics.")
            let url = "https://localhost:\(try #require(service.server.tlsPort))\(predictPath)"
            let served = try runProcess("curl", ["-sS", "--cacert", certificates.caFile, "-H", "Content-Type: application/json",
                                                 "-d", predictBody, "-w", "\n%{http_code}", url])
            #expect(served.output.hasSuffix("\n200"), "\(served.output) \(served.errorOutput)")
        }
    }

    @Test func predictOverHTTPSWithABearerToken() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let certificates = try TestCertificates()
        let environment = [
            "VIGIA_TLS_ENABLED": "true", "VIGIA_TLS_PORT": "0", "VIGIA_TLS_CERTIFICATE_FILE": certificates.certificateFile,
            "VIGIA_TLS_KEY_FILE": certificates.keyFile, "VIGIA_AUTH_ENABLED": "true", "VIGIA_AUTH_PREDICT_TOKENS": predictToken,
        ]
        try withService(storage: storage, environment: environment) { service, _ in
            let url = "https://localhost:\(try #require(service.server.tlsPort))\(predictPath)"
            let common = ["-sS", "--cacert", certificates.caFile, "-H", "Content-Type: application/json", "-d", predictBody, "-w", "\n%{http_code}"]
            let refused = try runProcess("curl", common + [url])
            #expect(refused.output.hasSuffix("\n401"), "\(refused.output) \(refused.errorOutput)")
            let served = try runProcess("curl", common + ["-H", "Authorization: Bearer \(predictToken)", url])
            #expect(served.output.hasSuffix("\n200"), "\(served.output) \(served.errorOutput)")
            #expect(served.output.contains(#""model_name":"prohibited-items""#))
        }
    }

    /// The tokens file's life at runtime, one rule with start-up: whatever start-up refuses
    /// (unparsable, or no token while auth.enabled) a reload refuses too, and a file that is
    /// gone (a secret swap in progress) changes nothing until it is back.
    @Test func aTokensFileDeletedEmptiedOrEditedInPlaceFollowsTheStartUpRule() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let file = try TokensFile("predict:\(predictToken)\n")
        let log = CapturedLog()
        let environment = ["VIGIA_AUTH_ENABLED": "true", "VIGIA_AUTH_TOKENS_FILE": file.path, "VIGIA_AUTH_RELOAD_INTERVAL_SECONDS": "0.05"]
        try withService(storage: storage, environment: environment, logLevel: .info, logSink: log.sink) { _, port in
            let client = try TestClient(port: port)
            func status(_ token: String) throws -> Int { try client.postJSON(predictPath, predictBody, headers: bearer(token)).status }
            func failures() -> Int { log.all.filter { $0.contains("auth tokens file reload failed") }.count }
            /// Requests (each may trigger the check) until a new reload failure is logged.
            func waitForRefusal(after count: Int) -> Bool {
                eventually { _ = try? status(predictToken); return failures() > count }
            }
            #expect(try status(predictToken) == 200)

            // Deleted: logged, the tokens in force stay.
            try FileManager.default.removeItem(atPath: file.path)
            #expect(waitForRefusal(after: 0))
            #expect(try status(predictToken) == 200)

            // Back with only comments: refused as start-up refuses it; the tokens stay.
            try file.replace(with: "# no tokens for now\n")
            #expect(waitForRefusal(after: 1))
            #expect(log.all.last { $0.contains("reload failed") }?.contains("auth.enabled is true but no token is configured") == true)
            #expect(try status(predictToken) == 200)

            // Edited in place (same inode, no rename): picked up.
            let handle = try #require(FileHandle(forWritingAtPath: file.path))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data("predict:\(otherPredictToken)\n".utf8))
            try handle.close()
            #expect(eventually { (try? status(otherPredictToken)) == 200 })
            #expect(try status(predictToken) == 401)
        }
    }

    @Test func aTokensFileMissingOrEmptyAtStartUpStopsIt() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        let missing = FileManager.default.temporaryDirectory.appending(path: "vigia-no-tokens-\(UUID().uuidString)").path
        #expect(throws: ConfigurationError(message: "auth.tokens_file \(missing): No such file or directory")) {
            try withService(storage: storage, environment: ["VIGIA_AUTH_TOKENS_FILE": missing]) { _, _ in }
        }
        let empty = try TokensFile("# no tokens\n")
        #expect(throws: ConfigurationError(message: "auth.enabled is true but no token is configured: set auth.tokens_file or VIGIA_AUTH_PREDICT_TOKENS / VIGIA_AUTH_ADMIN_TOKENS")) {
            try withService(storage: storage, environment: ["VIGIA_AUTH_ENABLED": "true", "VIGIA_AUTH_TOKENS_FILE": empty.path]) { _, _ in }
        }
        // Without auth.enabled an empty file is valid: predict stays open, admin is disabled.
        try storage.publish(version: 1)
        try withService(storage: storage, environment: ["VIGIA_AUTH_TOKENS_FILE": empty.path]) { _, port in
            let client = try TestClient(port: port)
            #expect(try client.postJSON(predictPath, predictBody).status == 200)
            #expect(try client.request("POST", "/v1/admin/reload", headers: bearer(adminToken)).status == 403)
        }
    }

    /// With auth.protect_metrics, /metrics needs a metrics (or admin) token; a predict token
    /// has no such right, and health stays open.
    @Test func protectedMetricsNeedAMetricsOrAdminToken() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let metricsToken = "metrics-0123456789abcdef0123456"
        let environment = [
            "VIGIA_AUTH_PROTECT_METRICS": "true", "VIGIA_AUTH_METRICS_TOKENS": metricsToken,
            "VIGIA_AUTH_PREDICT_TOKENS": predictToken, "VIGIA_AUTH_ADMIN_TOKENS": adminToken,
        ]
        try withService(storage: storage, environment: environment) { _, port in
            let client = try TestClient(port: port)
            #expect(try client.request("GET", "/metrics").status == 401)
            #expect(try client.request("GET", "/metrics", headers: bearer(unknownToken)).status == 401)
            #expect(try client.request("GET", "/metrics", headers: bearer(predictToken)).status == 403)
            let scraped = try client.request("GET", "/metrics", headers: bearer(metricsToken))
            #expect(scraped.status == 200 && scraped.text.contains("vigia_build_info"))
            #expect(try client.request("GET", "/metrics", headers: bearer(adminToken)).status == 200)
            #expect(try client.request("GET", "/health/ready").status == 200)
            #expect(try client.request("POST", "/v1/admin/reload", headers: bearer(metricsToken)).status == 403)
        }
    }
}
