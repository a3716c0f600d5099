import COpenSSL
import Glibc
import Posix
import Synchronization

/// One loaded certificate + key + settings: an OpenSSL `SSL_CTX`, configured once and then
/// never changed, so any loop thread may create connections from it (OpenSSL makes SSL_new on
/// a shared, no-longer-modified SSL_CTX thread-safe). Rotation builds a new context and swaps
/// the reference (`TLSContextSource`); connections keep the context they started with.
public final class TLSContext: @unchecked Sendable {
    /// Owned; freed in deinit. Immutable after `init` (see the class comment).
    let raw: OpaquePointer
    /// The leaf certificate's subject (`/CN=…`), for logs.
    public let subject: String
    /// The leaf certificate's serial number in hex, for logs and rotation checks.
    public let serial: String

    /// Loads and checks the certificate chain and key; every failure names the file and
    /// OpenSSL's reasons.
    public init(configuration: TLSConfiguration) throws(TLSError) {
        for (what, path) in [("certificate", configuration.certificateFile), ("key", configuration.keyFile)] {
            do { _ = try FileStatus.identity(ofPath: path) } catch {
                throw TLSError("TLS \(what) file \(path): \(Self.reason(of: error))")
            }
        }
        vigia_err_clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError("SSL_CTX_new failed: \(Self.drainErrors())")
        }
        do throws(TLSError) {
            let floor = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
            guard vigia_ssl_ctx_set_min_proto_version(context, floor) == 1 else {
                throw TLSError("cannot set the minimum TLS version: \(Self.drainErrors())")
            }
            _ = SSL_CTX_set_options(context, vigia_ssl_server_options())
            // Busy connections keep their record buffers; the loop frees those of idle ones
            // (`EventLoop.releaseIdleTLSBuffers`). A library whose SSL_free_buffers is unsafe
            // frees them after every record instead, as before.
            let release = TLSConnection.canReleaseIdleBuffers ? 0 : vigia_ssl_release_buffers_mode()
            _ = vigia_ssl_ctx_set_mode(context, vigia_ssl_partial_write_modes() | release)
            vigia_ssl_ctx_set_read_ahead(context, 1)
            guard SSL_CTX_set_ciphersuites(context, TLSConfiguration.tls13CipherSuites) == 1 else {
                throw TLSError("cannot set the TLS 1.3 cipher suites: \(Self.drainErrors())")
            }
            guard SSL_CTX_set_cipher_list(context, configuration.cipherList) == 1 else {
                throw TLSError("tls.ciphers: OpenSSL accepts no cipher in '\(configuration.cipherList)': \(Self.drainErrors())")
            }
            guard SSL_CTX_use_certificate_chain_file(context, configuration.certificateFile) == 1 else {
                throw TLSError("cannot load the TLS certificate chain from \(configuration.certificateFile): \(Self.drainErrors())")
            }
            guard SSL_CTX_use_PrivateKey_file(context, configuration.keyFile, SSL_FILETYPE_PEM) == 1 else {
                let reasons = Self.drainErrors()
                if reasons.contains("values mismatch") {
                    throw TLSError("the TLS private key \(configuration.keyFile) does not match the certificate \(configuration.certificateFile): \(reasons)")
                }
                throw TLSError("cannot load the TLS private key from \(configuration.keyFile): \(reasons)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TLSError("the TLS private key \(configuration.keyFile) does not match the certificate \(configuration.certificateFile): \(Self.drainErrors())")
            }
            vigia_ssl_ctx_use_http11_alpn(context)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        raw = context
        var subjectBuffer = [CChar](repeating: 0, count: 512)
        var serialBuffer = [CChar](repeating: 0, count: 128)
        vigia_ssl_ctx_certificate_summary(context, &subjectBuffer, subjectBuffer.count, &serialBuffer, serialBuffer.count)
        subject = String(decoding: subjectBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        serial = String(decoding: serialBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { SSL_CTX_free(raw) }

    /// OpenSSL's error queue for this thread, as one line (and emptied).
    static func drainErrors() -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        vigia_err_drain(&buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "no reason given" : text
    }

    private static func reason(of error: SystemError) -> String {
        String(cString: strerror(error.errno))
    }
}

/// The current `TLSContext` of one listener, and its reloading. The server's `FileWatcher`
/// calls `reload` on its own thread when the certificate or key file changed (it follows
/// symlinks, so a Kubernetes secret's `..data` swap is seen): a new context is built and the
/// reference swapped. A new pair that fails to load is logged and the previous context keeps
/// serving. Loops only read `current` when they accept a connection: no stat and no `SSL_CTX`
/// built on a loop.
final class TLSContextSource: Sendable {
    let configuration: TLSConfiguration
    /// The context new connections use; held only for the reference read or swap.
    private let context: Mutex<TLSContext>
    /// The (certificate, key) identities seen just before the first load.
    let loadedIdentities: [FileStatus.Identity?]

    var files: [String] { [configuration.certificateFile, configuration.keyFile] }

    init(configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        loadedIdentities = FileWatcher.identities(of: [configuration.certificateFile, configuration.keyFile])
        context = Mutex(try TLSContext(configuration: configuration))
    }

    /// The context new connections use.
    var current: TLSContext { context.withLock { $0 } }

    /// Builds a context from the files as they are now and swaps it in (on the watcher thread).
    func reload(log: (String) -> Void) {
        do {
            let replacement = try TLSContext(configuration: configuration)
            context.withLock { $0 = replacement }
            log("TLS certificate reloaded: subject \(replacement.subject), serial \(replacement.serial)")
        } catch {
            log("TLS certificate reload failed; the previous certificate keeps serving: \(error)")
        }
    }
}
