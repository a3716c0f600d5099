#ifndef VIGIA_COPENSSL_SHIM_H
#define VIGIA_COPENSSL_SHIM_H
// The system OpenSSL (libssl-dev, 3.0+) for the HTTPServer's TLS transport. Swift imports
// OpenSSL's functions directly; these static inline wrappers exist only for what it cannot
// import: function-like macros (SSL_CTX_set_min_proto_version, SSL_CTX_set_mode, …) and the
// ERR_* queue, drained into one readable message. No _GNU_SOURCE here (it would make this
// module's view of libc conflict with Glibc's).
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <string.h>

/// SSL_CTX_set_min_proto_version (a macro over SSL_CTX_ctrl); 1 on success.
static inline int vigia_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

/// SSL_CTX_set_mode (a macro); returns the new mode bits.
static inline long vigia_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

/// SSL_CTX_set_read_ahead (a macro): read as many bytes as the socket has, not one record's
/// header and then its body, so a request costs one read(2) instead of two. What is read
/// beyond the record being returned stays buffered inside OpenSSL, where epoll cannot see it:
/// the event loop asks SSL_has_pending before it stops reading a connection.
static inline void vigia_ssl_ctx_set_read_ahead(SSL_CTX *ctx, int yes) {
    SSL_CTX_set_read_ahead(ctx, yes);
}

/// The mode bits the non-blocking transport needs: SSL_write may take part of a buffer, and a
/// retried write may pass the same bytes from a moved (reallocated) buffer.
static inline long vigia_ssl_partial_write_modes(void) {
    return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
}

/// SSL_MODE_RELEASE_BUFFERS: a connection's record buffers (about 34 KB) freed whenever they
/// drain, and allocated again for the next record: a malloc and a free per record.
static inline long vigia_ssl_release_buffers_mode(void) {
    return SSL_MODE_RELEASE_BUFFERS;
}

/// Whether the running library's SSL_free_buffers is free of CVE-2024-4741 (a use after free
/// when called with part of a record buffered): fixed in 3.0.14, 3.1.6, 3.2.2 and 3.3.1.
static inline int vigia_ssl_free_buffers_is_safe(void) {
    unsigned long v = OpenSSL_version_num();
    unsigned long major_minor = (v >> 20) & 0xFFF;  /* 0xMNN: major, then minor */
    unsigned long patch = (v >> 4) & 0xFF;
    if (major_minor < 0x300) return 0;
    if (major_minor == 0x300) return patch >= 14;
    if (major_minor == 0x301) return patch >= 6;
    if (major_minor == 0x302) return patch >= 2;
    if (major_minor == 0x303) return patch >= 1;
    return 1;
}

/// SSL_free_buffers: 1 when the read and write buffers were freed (OpenSSL allocates them
/// again at the next read or write), 0 when either holds data.
static inline int vigia_ssl_free_buffers(SSL *ssl) {
    return SSL_free_buffers(ssl);
}

/// Options: no renegotiation (a client cannot make a read want a write mid-stream), no
/// compression (CRIME), server cipher preference, and a peer's EOF without close_notify read
/// as a plain EOF (HTTP framing already tells a truncated message from a whole one).
static inline uint64_t vigia_ssl_server_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE
        | SSL_OP_IGNORE_UNEXPECTED_EOF;
}

/// SSL_CTX_set_session_cache_mode (a macro).
static inline long vigia_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

/// Drains OpenSSL's per-thread error queue into `buffer` ("reason; reason; …"), so a failure
/// reports every reason and a stale error never leaks into the next call on this thread.
static inline void vigia_err_drain(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = '\0';
    size_t used = 0;
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        char line[256];
        ERR_error_string_n(code, line, sizeof line);
        size_t length = strlen(line);
        if (used > 0 && used + 2 < size) { memcpy(buffer + used, "; ", 2); used += 2; }
        if (used + length >= size) length = size - used - 1;
        memcpy(buffer + used, line, length);
        used += length;
        buffer[used] = '\0';
    }
}

/// Whether the error at the head of the queue says the peer spoke plain HTTP (or an HTTPS
/// proxy request) to the TLS port: OpenSSL's reason codes, not its error text.
static inline int vigia_err_peek_is_plain_http(void) {
    unsigned long code = ERR_peek_error();
    if (code == 0 || ERR_GET_LIB(code) != ERR_LIB_SSL) return 0;
    int reason = ERR_GET_REASON(code);
    return reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST;
}

/// Clears the error queue before an SSL_* I/O call (SSL_get_error reads it afterwards).
/// ERR_clear_error resets every slot of the queue whatever it holds (about 840 instructions
/// in OpenSSL 3, and it runs before each read and write); the queue is nearly always empty,
/// which a peek tells for far less.
static inline void vigia_err_clear(void) {
    if (ERR_peek_error() != 0) ERR_clear_error();
}

/// The leaf certificate's subject and serial, for logs and tests ("" when none).
static inline void vigia_ssl_ctx_certificate_summary(SSL_CTX *ctx, char *subject, size_t subjectSize, char *serial, size_t serialSize) {
    subject[0] = '\0';
    serial[0] = '\0';
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    if (cert == NULL) return;
    X509_NAME_oneline(X509_get_subject_name(cert), subject, (int)subjectSize);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    if (bn == NULL) return;
    char *hex = BN_bn2hex(bn);
    if (hex != NULL) {
        strncpy(serial, hex, serialSize - 1);
        serial[serialSize - 1] = '\0';
        OPENSSL_free(hex);
    }
    BN_free(bn);
}

/// The ALPN selection callback: picks `http/1.1` when the client offers it; a client that
/// offers only other protocols (h2 alone) is refused with a no_application_protocol alert.
static inline int vigia_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                    const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char http11[] = "\x08http/1.1";
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, http11, sizeof http11 - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/// Installs `vigia_alpn_select` on the context.
static inline void vigia_ssl_ctx_use_http11_alpn(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, vigia_alpn_select, NULL);
}

#endif
