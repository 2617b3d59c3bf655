#pragma once
// One TLS connection as a pure byte transformer over OpenSSL memory BIOs: ciphertext read from
// the socket goes in with feed(), plaintext comes out of read(); plaintext goes in with write(),
// ciphertext for the socket comes out of output(). No I/O, no blocking: the owner (a
// net::TcpConnection) moves the bytes.
//
// Contract:
// - The handshake runs inside read() (server) or after startHandshake() (client); after each
//   feed()/read() the owner writes output() to the socket, then consumeOutput().
// - write() before the handshake completes keeps the plaintext and encrypts it once the
//   handshake is done (it then appears in output()).
// - Any fatal error (bad handshake, bad record, verification failure) makes read() return
//   kError; error() then says why in one line ("certificate verify failed: ...").
// - shutdown() queues a close_notify alert in output().

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace sluice::tls {

class ServerContext;
class ClientContext;

class TlsStream {
  public:
    // A server-side stream using `ctx` (SNI picks among its certificates).
    static std::unique_ptr<TlsStream> server(const ServerContext& ctx);
    // A client-side stream to `host` (a name: sent as SNI and, with verification, checked
    // against the certificate; an IP literal: no SNI, checked against IP SANs).
    static std::unique_ptr<TlsStream> client(const ClientContext& ctx, const std::string& host);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    // Ciphertext received from the peer.
    void feed(std::string_view ciphertext);

    enum class Status {
        kData,      // n bytes of plaintext were stored
        kWantMore,  // nothing (more) to read until more ciphertext is fed
        kClosed,    // the peer sent close_notify
        kError,     // fatal; see error()
    };
    struct ReadResult {
        Status status;
        size_t n = 0;
    };
    // Advances the handshake if needed and decrypts up to `cap` bytes into `buf`.
    ReadResult read(char* buf, size_t cap);

    // Client side: produces the ClientHello in output().
    void startHandshake();
    // Encrypts `plaintext` (or keeps it until the handshake is done). False after a fatal error.
    bool write(std::string_view plaintext);
    // Same for the concatenation of `count` parts; small parts together make one TLS record.
    bool write(const std::string_view* parts, size_t count);
    // Queues close_notify.
    void shutdown();

    // Ciphertext waiting to be sent; valid until the next call on this stream.
    std::string_view output() const;
    void consumeOutput();

    bool handshakeDone() const { return handshake_done_; }
    // Whether fed ciphertext (or a record OpenSSL holds) is still undecrypted or undelivered:
    // read() may return data or a close without another feed().
    bool hasBufferedInput() const;
    bool failed() const { return failed_; }
    const std::string& error() const { return error_; }
    // After the handshake: "TLSv1.3", the SNI name the client sent ("" if none), the ALPN
    // protocol agreed ("" if none), and whether the session was resumed.
    std::string_view version() const;
    std::string_view serverName() const;
    std::string_view alpn() const;
    bool resumed() const;

  private:
    explicit TlsStream(SSL* ssl);
    bool finishHandshake();
    bool flushPending();
    void releaseInput();
    void setError(int ssl_result, const char* what);

    SSL* ssl_;
    BIO* in_;              // ciphertext from the peer (owned by ssl_)
    BIO* out_;             // ciphertext to the peer (owned by ssl_)
    std::string pending_;  // plaintext written before the handshake completed
    std::string error_;
    bool handshake_done_ = false;
    bool failed_ = false;
    bool shutdown_requested_ = false;  // shutdown() before the handshake: after it completes
    // Server side: the SSL* may call back into the context (SNI, ALPN, tickets); keep it alive.
    std::shared_ptr<const ServerContext> server_ctx_;
    friend struct TlsStreamAccess;  // tests: the SSL* (sessions, peer certificate)
};

}  // namespace sluice::tls
