#if canImport(JSON)
import JSON
#endif

/// Strings the parser meets on nearly every request: a token equal to one byte for byte
/// (case included: a name keeps the case it arrived in) becomes that string without being
/// decoded again. Matched as the JSON walker matches member names (`KnownMembers`).
enum CommonStrings {
    /// Methods the routes serve.
    static let methods = KnownMembers("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS")
    /// Header names clients send most, as they spell them.
    static let fieldNames = KnownMembers(
        "Host", "User-Agent", "Accept", "Content-Type", "Content-Length", "Connection", "Accept-Encoding",
        "X-Request-Id", "Authorization", "Expect", "Transfer-Encoding", "Inference-Header-Content-Length",
        "host", "user-agent", "accept", "content-type", "content-length", "connection", "accept-encoding",
        "x-request-id", "authorization")

    /// The string of `common` whose bytes are `token`'s, or nil.
    static func match(_ token: UnsafeRawBufferPointer, in common: KnownMembers) -> String? {
        common.index(of: token.assumingMemoryBound(to: UInt8.self)).map { common.names[$0] }
    }
}
