import COpenSSL

/// The TLS side of one accepted socket: an OpenSSL `SSL` reading and writing the
/// non-blocking descriptor itself. Every call returns at once; `wantRead`/`wantWrite` tell the
/// event loop which readiness to wait for before calling again. Loop-thread only (OpenSSL's
/// error queue is per thread, and the `SSL` is not shared).
final class TLSConnection {
    /// What a handshake step, read or write says besides progress.
    enum Status: Equatable {
        /// Call again when the socket is readable.
        case wantRead
        /// Call again when the socket is writable.
        case wantWrite
        /// The peer sent close_notify or closed TCP (unexpected EOF is allowed: HTTP framing
        /// already tells a truncated message from a whole one).
        case closed
        /// The client sent a plain HTTP request to the TLS port (OpenSSL's reason code).
        case plainHTTP
        /// A protocol error (garbage, no shared cipher) or a socket error; the connection is over.
        case failed(String)
    }

    /// Owned; freed in deinit.
    private let ssl: OpaquePointer
    /// Keeps the context alive for as long as this connection uses it (rotation may drop the
    /// source's reference meanwhile).
    let context: TLSContext
    private(set) var handshakeDone = false

    /// Whether the finished handshake resumed an earlier session (a ticket or a cached
    /// session id): no certificate signature, no key exchange with a new peer.
    var resumedSession: Bool { SSL_session_reused(ssl) == 1 }

    /// Whether OpenSSL holds bytes read from the socket that no `read` has returned yet (with
    /// read-ahead, a whole pipeline can arrive in one read(2)). epoll cannot report them.
    var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

    /// Whether `releaseBuffers` may call SSL_free_buffers with the running library (see
    /// `vigia_ssl_free_buffers_is_safe`); when not, contexts free buffers after every record.
    static let canReleaseIdleBuffers = vigia_ssl_free_buffers_is_safe() == 1

    /// Frees the record buffers of an idle session (about 34 KB; OpenSSL allocates them again
    /// at the next read or write). True when freed; false when the handshake is not done or a
    /// buffer holds data (part of a record, unread input, unsent output).
    func releaseBuffers() -> Bool {
        guard Self.canReleaseIdleBuffers, handshakeDone, !hasBufferedInput else { return false }
        return vigia_ssl_free_buffers(ssl) == 1
    }

    /// nil when OpenSSL cannot allocate a session (the caller closes the socket).
    init?(context: TLSContext, fd: Int32) {
        guard let ssl = SSL_new(context.raw) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.context = context
    }

    deinit { SSL_free(ssl) }

    /// One handshake step: nil when done, else what to wait for.
    func handshake() -> Status? {
        vigia_err_clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            handshakeDone = true
            return nil
        }
        return status(after: result)
    }

    /// Decrypted bytes into `buffer`: the count, or why none.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, status: Status?) {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return (0, nil) }
        vigia_err_clear()
        let result = SSL_read(ssl, base, Int32(clamping: buffer.count))
        if result > 0 { return (Int(result), nil) }
        return (0, status(after: result))
    }

    /// Encrypts and sends a prefix of `bytes`: the count taken, or why none.
    func write(_ bytes: UnsafeRawBufferPointer) -> (count: Int, status: Status?) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return (0, nil) }
        vigia_err_clear()
        let result = SSL_write(ssl, base, Int32(clamping: bytes.count))
        if result > 0 { return (Int(result), nil) }
        return (0, status(after: result))
    }

    /// Sends close_notify once, without waiting for the peer's (the socket is shut for
    /// writing right after, then closed after a linger).
    func sendCloseNotify() {
        guard handshakeDone else { return }
        vigia_err_clear()
        _ = SSL_shutdown(ssl)
        vigia_err_clear()
    }

    private func status(after result: Int32) -> Status {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            // With SSL_OP_IGNORE_UNEXPECTED_EOF a bare EOF is ZERO_RETURN; this is a socket
            // error (ECONNRESET, EPIPE): the peer is gone either way.
            return .failed("socket error (\(TLSContext.drainErrors()))")
        default:
            if vigia_err_peek_is_plain_http() == 1 {
                vigia_err_clear()
                return .plainHTTP
            }
            return .failed(TLSContext.drainErrors())
        }
    }
}
