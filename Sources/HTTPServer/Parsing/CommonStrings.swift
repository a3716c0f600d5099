import Glibc

/// Strings the parser meets on nearly every request, kept with their bytes, so that a token
/// equal to one (byte for byte, case included: a name keeps the case it arrived in) becomes
/// that string without being decoded again.
struct CommonStrings: Sendable {
    private let strings: [String]
    private let bytes: [[UInt8]]

    init(_ strings: String...) {
        self.strings = strings
        bytes = strings.map { Array($0.utf8) }
    }

    func match(_ token: UnsafeRawBufferPointer) -> String? {
        for k in bytes.indices where bytes[k].count == token.count {
            if bytes[k].withUnsafeBytes({ memcmp($0.baseAddress!, token.baseAddress!, token.count) == 0 }) { return strings[k] }
        }
        return nil
    }

    /// Methods the routes serve.
    static let methods = CommonStrings("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS")
    /// Header names clients send most, as they spell them.
    static let fieldNames = CommonStrings(
        "Host", "User-Agent", "Accept", "Content-Type", "Content-Length", "Connection", "Accept-Encoding",
        "X-Request-Id", "Authorization", "Expect", "Transfer-Encoding", "Inference-Header-Content-Length",
        "host", "user-agent", "accept", "content-type", "content-length", "connection", "accept-encoding",
        "x-request-id", "authorization")
}
