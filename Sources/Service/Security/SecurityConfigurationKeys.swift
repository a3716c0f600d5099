import HTTPServer

extension ConfigurationKey {
    /// TLS and auth keys. Tokens are secrets: environment only (`VIGIA_AUTH_*_TOKENS`,
    /// comma-separated) or `auth.tokens_file`; never in the configuration file.
    public static let tlsEnabled = ConfigurationKey(path: "tls.enabled", kind: .boolean, defaultValue: false,
        summary: "Serve HTTPS on tls.port next to plain HTTP on server.port (e.g. probes on plain, the API on HTTPS).")

    public static let tlsPort = ConfigurationKey(path: "tls.port", kind: .integer(0...65535), defaultValue: 8443,
        summary: "TCP port of the HTTPS listener; 0 picks a free port.")

    public static let tlsCertificateFile = ConfigurationKey(path: "tls.certificate_file", kind: .string, defaultValue: "/etc/vigia/tls/tls.crt",
        summary: "PEM certificate chain, leaf first (a cert-manager secret's tls.crt). Replaced files are picked up without a restart.")

    public static let tlsKeyFile = ConfigurationKey(path: "tls.key_file", kind: .string, defaultValue: "/etc/vigia/tls/tls.key",
        summary: "PEM private key of the certificate (tls.key).")

    public static let tlsMinVersion = ConfigurationKey(path: "tls.min_version", kind: .choice(["1.2", "1.3"]), defaultValue: "1.2",
        summary: "Lowest TLS version accepted.")

    public static let tlsCiphers = ConfigurationKey(path: "tls.ciphers", kind: .string, defaultValue: .string(TLSConfiguration.modernCipherList),
        summary: "OpenSSL cipher list for TLS 1.2 (TLS 1.3 uses OpenSSL's AEAD suites).")

    public static let tlsPlainHttp = ConfigurationKey(path: "tls.plain_http", kind: .choice(["all", "health_and_metrics"]), defaultValue: "all",
        summary: "With TLS on, what plain HTTP on server.port serves: every route, or only /health/* and /metrics (the rest answers 403).")

    public static let tlsHandshakeTimeoutSeconds = ConfigurationKey(path: "tls.handshake_timeout_seconds", kind: .number(0.01...3600), defaultValue: 10,
        summary: "A client that has not completed its TLS handshake after this long is disconnected.")

    public static let tlsReloadIntervalSeconds = ConfigurationKey(path: "tls.reload_interval_seconds", kind: .number(0.01...3600), defaultValue: 5,
        summary: "How often the certificate and key files are checked for replacement.")

    public static let authEnabled = ConfigurationKey(path: "auth.enabled", kind: .boolean, defaultValue: false,
        summary: "Predict and explain need a predict (or admin) bearer token. Admin routes always need an admin token.")

    public static let authTokensFile = ConfigurationKey(path: "auth.tokens_file", kind: .optionalString, defaultValue: "",
        summary: "File of `role:token` lines (roles: predict, metrics, admin; # comments). Changes are picked up without a restart.")

    public static let authReloadIntervalSeconds = ConfigurationKey(path: "auth.reload_interval_seconds", kind: .number(0.01...3600), defaultValue: 5,
        summary: "How often auth.tokens_file is checked for changes when no inotify event says so.")

    public static let authProtectMetrics = ConfigurationKey(path: "auth.protect_metrics", kind: .boolean, defaultValue: false,
        summary: "GET /metrics needs a metrics (or admin) token.")

    public static let authAdminTokens = ConfigurationKey(path: "auth.admin_tokens", kind: .stringList, defaultValue: [],
        summary: "Secret, environment only: admin tokens (comma-separated).", isSecret: true)

    public static let authPredictTokens = ConfigurationKey(path: "auth.predict_tokens", kind: .stringList, defaultValue: [],
        summary: "Secret, environment only: predict tokens (comma-separated).", isSecret: true)

    public static let authMetricsTokens = ConfigurationKey(path: "auth.metrics_tokens", kind: .stringList, defaultValue: [],
        summary: "Secret, environment only: metrics tokens (comma-separated).", isSecret: true)

    /// The secret key holding `role`'s tokens.
    static func tokens(for role: AuthRole) -> ConfigurationKey {
        switch role {
        case .admin: authAdminTokens
        case .predict: authPredictTokens
        case .metrics: authMetricsTokens
        }
    }

    static let securityKeys: [ConfigurationKey] = [
        tlsEnabled,
        tlsPort,
        tlsCertificateFile,
        tlsKeyFile,
        tlsMinVersion,
        tlsCiphers,
        tlsPlainHttp,
        tlsHandshakeTimeoutSeconds,
        tlsReloadIntervalSeconds,
        authEnabled,
        authTokensFile,
        authReloadIntervalSeconds,
        authProtectMetrics,
        authAdminTokens,
        authPredictTokens,
        authMetricsTokens,
    ]
}

extension ServiceConfiguration {
    /// A copy with every secret key back at its default (empty), for keeping around after
    /// the `Authenticator` has hashed the tokens.
    public func redactingSecrets() -> ServiceConfiguration {
        var copy = self
        for key in ConfigurationKey.all where key.isSecret {
            try? copy.set(key, value: key.defaultValue, source: "redacted")
        }
        return copy
    }
}
