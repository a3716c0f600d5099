import HTTPServer
import Inference

/// What a bearer token may do. `admin` implies every other role; `predict` and `metrics`
/// grant only themselves.
public enum AuthRole: String, Sendable, CaseIterable, Comparable {
    /// POST …:predict and …:explain (when `auth.enabled`).
    case predict
    /// GET /metrics (when `auth.protect_metrics`).
    case metrics
    /// Reload, labels, pin, unpin, rollback (always).
    case admin

    /// True when a token with this role may call a route that requires `required`.
    public func grants(_ required: AuthRole) -> Bool { self == .admin || self == required }

    public static func < (a: AuthRole, b: AuthRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The accepted tokens, as SHA-256 digests with their roles: the plaintext is dropped as soon
/// as it is read, so a heap dump or a debugger shows no usable token. Immutable; a reload
/// builds a new set.
public struct TokenSet: Sendable {
    struct Entry: Sendable {
        let digest: [UInt8]
        let role: AuthRole
    }

    private let entries: [Entry]

    public init(_ tokens: [(role: AuthRole, token: String)]) {
        entries = tokens.map { Entry(digest: SHA256.hash(Array($0.token.utf8)), role: $0.role) }
    }

    init(entries: [Entry]) { self.entries = entries }

    var allEntries: [Entry] { entries }

    public var count: Int { entries.count }

    /// True when some token has exactly this role.
    public func hasToken(withRole role: AuthRole) -> Bool { entries.contains { $0.role == role } }

    /// The roles `token` carries (empty when unknown). Every entry is compared, each in
    /// constant time, so the time taken does not depend on which entry (if any) matches.
    public func roles(of token: some Collection<UInt8>) -> Set<AuthRole> {
        let digest = SHA256.hash(token)
        var roles = Set<AuthRole>()
        for entry in entries where Self.constantTimeEqual(entry.digest, digest) { roles.insert(entry.role) }
        return roles
    }

    /// Byte-wise comparison without an early exit: every byte pair is looked at.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// Reading tokens from their sources. Errors name the file and line or the variable and
/// position, never the token.
public enum TokenSource {
    /// Tokens shorter than this are refused: a guessable token is no protection.
    public static let minimumLength = 16

    /// Parses a tokens file: one `role:token` per line (roles `predict`, `metrics`, `admin`);
    /// blank lines and lines starting with `#` are skipped; surrounding whitespace is trimmed.
    ///
    ///     # vigia tokens (mode 0600)
    ///     admin:3f1c…  (generate with `openssl rand -hex 32`)
    ///     predict:9ab2…
    public static func parseFile(_ text: String, path: String) throws(ConfigurationError) -> [(role: AuthRole, token: String)] {
        var tokens: [(role: AuthRole, token: String)] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = ServiceConfiguration.trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw ConfigurationError(message: "\(path) line \(index + 1): expected role:token")
            }
            let roleName = String(line[..<colon])
            guard let role = AuthRole(rawValue: roleName) else {
                throw ConfigurationError(message: "\(path) line \(index + 1): unknown role '\(roleName.prefix(20))' (predict, metrics or admin)")
            }
            let token = String(line[line.index(after: colon)...])
            try check(token, at: "\(path) line \(index + 1)")
            tokens.append((role, token))
        }
        return tokens
    }

    /// Tokens from the `auth.*_tokens` keys (set only from `VIGIA_AUTH_*_TOKENS`).
    public static func fromConfiguration(_ configuration: ServiceConfiguration) throws(ConfigurationError) -> [(role: AuthRole, token: String)] {
        var tokens: [(role: AuthRole, token: String)] = []
        var keys = KeyReader(configuration)
        for role in AuthRole.allCases {
            let key = ConfigurationKey.tokens(for: role)
            for (position, token) in keys.strings(key).enumerated() {
                try check(token, at: "\(key.environmentName) entry \(position + 1)")
                tokens.append((role, token))
            }
        }
        return tokens
    }

    /// A token is visible ASCII without spaces or commas (it travels in a header and in a
    /// comma-separated variable) and at least `minimumLength` long.
    static func check(_ token: String, at place: String) throws(ConfigurationError) {
        guard token.utf8.count >= minimumLength else {
            throw ConfigurationError(message: "\(place): the token is shorter than \(minimumLength) characters (generate one with `openssl rand -hex 32`)")
        }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") }) else {
            throw ConfigurationError(message: "\(place): the token must be visible ASCII without spaces or commas")
        }
    }
}
