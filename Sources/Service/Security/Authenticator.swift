import FoundationEssentials
import Glibc
import HTTPServer
import Logging
import Posix
import Synchronization

/// The outcome of checking one request's bearer token against a route's required role.
public enum AuthDecision: Sendable, Equatable {
    case allowed
    /// 401 or 403 with its problem and `WWW-Authenticate` header.
    case denied(HTTPError)
}

/// The pure part of authorization: route requirement + `Authorization` header + token set →
/// decision. Statuses (RFC 6750):
/// - no admin token configured at all and the route needs admin → 403 "admin API disabled";
/// - no `Authorization: Bearer …` → 401 with `WWW-Authenticate: Bearer realm="vigia"`;
/// - a token that is not known → 401 with `error="invalid_token"`;
/// - a known token without the role → 403 with `error="insufficient_scope"`.
public enum Authorizer {
    static let realm = #"Bearer realm="vigia""#

    public static func decide(requiring role: AuthRole, authorization: String?, tokens: TokenSet) -> AuthDecision {
        if role == .admin, !tokens.hasToken(withRole: .admin) {
            return .denied(HTTPError(.forbidden, detail: "admin API disabled: no admin token configured"))
        }
        guard let authorization, let token = bearerToken(authorization) else {
            return .denied(HTTPError(
                .unauthorized, detail: "This route needs a bearer token: Authorization: Bearer <token> (role \(role.rawValue)).",
                headers: ["WWW-Authenticate": realm]))
        }
        let roles = tokens.roles(of: token)
        if roles.isEmpty {
            return .denied(HTTPError(
                .unauthorized, detail: "The bearer token is not valid.",
                headers: ["WWW-Authenticate": realm + #", error="invalid_token""#]))
        }
        guard roles.contains(where: { $0.grants(role) }) else {
            return .denied(HTTPError(
                .forbidden, detail: "The bearer token does not have the \(role.rawValue) role.",
                headers: ["WWW-Authenticate": realm + #", error="insufficient_scope", scope="\#(role.rawValue)""#]))
        }
        return .allowed
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1); nil otherwise.
    static func bearerToken(_ value: String) -> Substring.UTF8View? {
        let bytes = Substring(value).utf8
        let scheme = "bearer ".utf8
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ ($0 | 0x20) == $1 || ($1 == 0x20 && $0 == 0x20) })
        else { return nil }
        let token = bytes.dropFirst(scheme.count).drop(while: { $0 == 0x20 })
        return token.isEmpty ? nil : token
    }
}

/// The tokens in force and the auth settings, shared by every loop thread. Environment tokens
/// are fixed at start; file tokens are re-read when the file changes, by the background file
/// watcher (on inotify events in its directory and every `auth.reload_interval_seconds`),
/// never on a request: a request only reads the current token set. A changed file that does
/// not parse is logged (without its content) and the previous file tokens stay in force.
public final class Authenticator: Sendable {
    private struct State {
        var environmentTokens = TokenSet([])
        var combined = TokenSet([])
        /// The tokens file's identity seen just before it was loaded at start-up.
        var fileIdentity: FileStatus.Identity?
    }

    /// Predict and explain need a token (`auth.enabled`).
    public let predictRequiresToken: Bool
    /// GET /metrics needs a token (`auth.protect_metrics`).
    public let protectMetrics: Bool
    /// The tokens file, if any; `watch` has the file watcher re-read it.
    public let tokensFile: String?
    /// How often the watcher re-checks the file when no event arrives.
    public let reloadInterval: Duration
    /// The `VIGIA_AUTH_*_TOKENS` tokens, hashed at construction (or why they are invalid,
    /// thrown by `load`), so the configuration can drop the plaintext.
    private let environmentTokens: Result<TokenSet, ConfigurationError>
    private let logger: Logger
    /// Guards the token sets; held only to read or swap them.
    private let state = Mutex(State())

    /// - Parameter configuration: read for the tokens only (`auth.*_tokens`).
    public init(settings: ServiceSettings.Auth, configuration: ServiceConfiguration, logger: Logger) {
        self.logger = logger
        environmentTokens = Result { () throws(ConfigurationError) in TokenSet(try TokenSource.fromConfiguration(configuration)) }
        predictRequiresToken = settings.enabled
        protectMetrics = settings.protectMetrics
        tokensFile = settings.tokensFile
        reloadInterval = settings.reloadInterval
    }

    /// Reads the environment tokens and the tokens file; called once at start-up. A missing
    /// or malformed file, a bad token, or `auth.enabled` without any token stops start-up.
    public func load() throws(ConfigurationError) {
        let environment = try environmentTokens.get()
        var file = TokenSet([])
        var identity: FileStatus.Identity?
        if let tokensFile {
            (file, identity) = try Self.read(tokensFile)
        }
        let combined = try usable(TokenSet(merging: environment, file))
        state.withLock { state in
            state.environmentTokens = environment
            state.combined = combined
            state.fileIdentity = identity
        }
        logger.info("auth tokens loaded", metadata: Self.summary(combined, predictRequiresToken: predictRequiresToken))
    }

    /// The one rule start-up and every reload apply: with `auth.enabled`, at least one token
    /// (a tokens file emptied at runtime would otherwise lock every client out; it is refused
    /// like a file that does not parse, and the previous tokens stay).
    private func usable(_ tokens: TokenSet) throws(ConfigurationError) -> TokenSet {
        if predictRequiresToken, tokens.count == 0 {
            throw ConfigurationError(
                message: "auth.enabled is true but no token is configured: set auth.tokens_file or VIGIA_AUTH_PREDICT_TOKENS / VIGIA_AUTH_ADMIN_TOKENS")
        }
        return tokens
    }

    /// Which role `operation` needs: its own when it always requires auth (admin routes) or
    /// predict routes when `auth.enabled`; `metrics` for GET /metrics when protected; else nil.
    public func requirement(for operation: Operation) -> AuthRole? {
        if operation.requiresAuth { return operation.requiredRole ?? .admin }
        if protectMetrics, operation.path == "/metrics" { return .metrics }
        return nil
    }

    /// Checks `request` against `role` with the current tokens (no file access).
    public func authorize(_ request: HTTPRequest, requiring role: AuthRole) -> AuthDecision {
        let tokens = state.withLock { $0.combined }
        return Authorizer.decide(requiring: role, authorization: request.headers["Authorization"], tokens: tokens)
    }

    /// Registers the tokens file with `watcher`, which calls `reload` on its own thread when
    /// the file's identity changes (a rename over it, or an edit in place that changes its
    /// size, mtime or ctime; a file gone or back). Nothing to do without a tokens file.
    public func watch(with watcher: FileWatcher) {
        guard let tokensFile else { return }
        let loaded = state.withLock { $0.fileIdentity }
        watcher.watch(files: [tokensFile], loaded: [loaded], interval: reloadInterval) { [self] in reload() }
    }

    /// Re-reads the tokens file. A replacement that does not parse, leaves no token while
    /// `auth.enabled`, or a file that is gone (a secret swap in progress) is logged and the
    /// previous tokens stay; the watcher calls again once the file changes or comes back.
    /// Runs on the file watcher's thread, never on a request.
    public func reload() {
        guard let tokensFile else { return }
        do {
            let (file, _) = try Self.read(tokensFile)
            let environment = state.withLock { $0.environmentTokens }
            let combined = try usable(TokenSet(merging: environment, file))
            state.withLock { $0.combined = combined }
            logger.notice("auth tokens file reloaded", metadata: ["auth.tokens_file": .string(tokensFile)])
        } catch {
            logger.error("auth tokens file reload failed; the previous tokens stay in force", metadata: [
                "auth.tokens_file": .string(tokensFile), "error": .string(error.message),
            ])
        }
    }

    private static func read(_ path: String) throws(ConfigurationError) -> (TokenSet, FileStatus.Identity?) {
        let identity: FileStatus.Identity
        do { identity = try FileStatus.identity(ofPath: path) } catch {
            throw ConfigurationError(message: "auth.tokens_file \(path): \(String(cString: strerror(error.errno)))")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(message: "auth.tokens_file \(path): cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self)
        return (TokenSet(try TokenSource.parseFile(text, path: path)), identity)
    }

    private static func summary(_ tokens: TokenSet, predictRequiresToken: Bool) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["auth.enabled": .stringConvertible(predictRequiresToken)]
        for role in AuthRole.allCases { metadata["auth.\(role.rawValue)_tokens_present"] = .stringConvertible(tokens.hasToken(withRole: role)) }
        return metadata
    }
}

extension TokenSet {
    /// Both sets' entries.
    init(merging a: TokenSet, _ b: TokenSet) {
        self.init(entries: a.allEntries + b.allEntries)
    }
}
