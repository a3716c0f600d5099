/// An HTTPS listener: certificate and key files, protocol floor, ciphers and timeouts. The
/// server listens for TLS on `port` next to its plain-HTTP port (probes can stay on plain
/// HTTP while the API is reached over HTTPS).
public struct TLSConfiguration: Sendable, Equatable {
    /// The lowest protocol version accepted.
    public enum MinimumVersion: String, Sendable, Equatable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// Mozilla's "intermediate" TLS 1.2 list: ECDHE key exchange, AEAD ciphers only (no CBC,
    /// no RSA key exchange, no SHA-1 MACs). TLS 1.3 suites are OpenSSL's defaults (all AEAD).
    public static let modernCipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// TLS 1.3 suites in the server's order of preference, Mozilla's "intermediate" order:
    /// AES-128-GCM first (10 AES rounds a block, where OpenSSL's default first suite,
    /// AES-256-GCM, takes 14), then AES-256-GCM and ChaCha20-Poly1305 for clients that ask.
    public static let tls13CipherSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    /// PEM certificate chain (leaf first), e.g. a cert-manager secret's `tls.crt`.
    public var certificateFile: String
    /// PEM private key of the leaf, e.g. `tls.key`.
    public var keyFile: String
    /// TCP port of the HTTPS listener; 0 lets the kernel choose (tests). Default 8443.
    public var port: Int = 8443
    /// Default TLS 1.2.
    public var minimumVersion: MinimumVersion = .tls12
    /// OpenSSL cipher list for TLS 1.2; default `modernCipherList`.
    public var cipherList: String = TLSConfiguration.modernCipherList
    /// A client that has not finished its handshake after this many seconds is disconnected;
    /// default 10.
    public var handshakeTimeout: Double = 10
    /// How often the certificate and key files are checked for replacement (stat, following
    /// symlinks); default every 5 seconds.
    public var reloadInterval: Double = 5

    public init(certificateFile: String, keyFile: String, port: Int = 8443) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.port = port
    }
}

/// Why TLS could not be set up: a file that cannot be read or parsed, a key that does not
/// match its certificate, a cipher list OpenSSL rejects. The description names the file or key.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
