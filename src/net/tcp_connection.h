#pragma once
// A TCP stream (client or upstream side) over libuv with explicit backpressure.
//
// Contract:
// - Owned by exactly one owner at a time, which sets a Handler. destroy() closes the socket and
//   frees the object from the close callback; no Handler call happens after destroy().
// - Reads are delivered into a per-loop shared buffer: the bytes passed to onData are valid only
//   during the call; keep what you need (or pause and let the parser keep its position).
// - write() tries the socket first (uv_try_write) and copies only what the kernel did not take,
//   so bytes are copied at most once. pendingBytes() is what is still queued; onDrain fires when
//   it returns to zero after having been non-zero.
// - shutdownWrite() sends FIN after queued bytes (half-close).
// - TLS (startServerTls(), or connect() with a client context) is invisible to the Handler:
//   onData gets plaintext, write() takes plaintext, onConnected fires after the handshake, a
//   TLS failure is onError(UV_EPROTO) with tlsError() saying why, close_notify is onEof.
// - PROXY prelude (expectProxyHeader(), server side, before startReading()): the socket is read
//   until a whole PROXY v1/v2 header has arrived (in any number of pieces); nothing reaches the
//   TLS stream or onData before it. A header that is not valid is onError(UV_EPROTO) with
//   proxyError() saying why. A valid one sets peerAddress()/peerSockaddr()/localSockaddr() to
//   its source and destination (v1 UNKNOWN, v2 LOCAL: the socket's own), then onProxyHeader
//   fires; the bytes behind the header in the same read follow at once (onData, or the TLS
//   handshake) whether or not the handler reads. The caller times the wait (client timer).
// - Memory: an open, idle connection holds its uv_tcp_t, its addresses and a few counters. The
//   libuv requests (write, connect, shutdown), the write queue and the TLS idle handle exist
//   only while in use (allocated on demand, freed when done); reads use the per-loop buffer.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/proxy_header.h"
#include "tls/tls_stream.h"

namespace sluice::net {

class TcpConnection;

class ConnectionHandler {
  public:
    virtual ~ConnectionHandler() = default;
    virtual void onData(TcpConnection& conn, std::string_view bytes) = 0;
    virtual void onEof(TcpConnection& conn) = 0;
    // Read, write or connect error (libuv error code). The connection is unusable afterwards.
    virtual void onError(TcpConnection& conn, int uv_error) = 0;
    virtual void onDrain(TcpConnection& /*conn*/) {}
    virtual void onConnected(TcpConnection& /*conn*/) {}
    // The PROXY header (expectProxyHeader()) is complete; the addresses are the header's.
    virtual void onProxyHeader(TcpConnection& /*conn*/) {}
};

class TcpConnection {
  public:
    // An IPv4 or IPv6 address (a TCP socket has no other kind): 28 bytes, not sockaddr_storage's
    // 128.
    union SocketAddress {
        sockaddr sa;
        sockaddr_in in;
        sockaddr_in6 in6;
    };
    // What an idle plain connection is while parked (no TcpConnection, no libuv handle): its
    // socket and what unpark() needs to give back the same connection (addresses, possibly a
    // PROXY header's, counters, id). 88 bytes.
    struct Parked {
        SocketAddress peer{};
        SocketAddress local{};
        uint64_t id = 0;
        uint64_t bytes_read = 0;
        uint64_t bytes_written = 0;
        int fd = -1;
        int proxy_version = 0;
    };

    // Adopts an accepted, connected socket fd (non-blocking). `peer`: its peer address as
    // accept4() gave it (null: asked of the kernel). Returns nullptr on failure (fd closed).
    static TcpConnection* adopt(uv_loop_t* loop, int fd, const sockaddr* peer = nullptr);
    // Starts a non-blocking connect; onConnected or onError follows. Returns nullptr (and calls
    // no handler) when the connect cannot even start.
    // With `tls`, speaks TLS to `tls_host` (SNI and certificate check) over the connection.
    static TcpConnection* connect(uv_loop_t* loop, const sockaddr* addr, ConnectionHandler* handler,
                                  const tls::ClientContext* tls = nullptr,
                                  const std::string& tls_host = {});
    // Client side, right after connect(): `bytes` go out first, unencrypted, before the TLS
    // handshake or anything write() queues (a PROXY header for the server).
    void writePrelude(std::string_view bytes) { queue().pending.append(bytes); }
    // Server side: the peer's bytes are TLS from now on (call before startReading()).
    void startServerTls(const tls::ServerContext& ctx);
    // The TLS state (version, SNI, ALPN) or nullptr on a plain connection.
    const tls::TlsStream* tls() const { return tls_.get(); }
    // Whether the TLS handshake is still running (no plaintext exchanged yet).
    bool tlsHandshaking() const { return tls_ && !tls_->handshakeDone(); }
    const std::string& tlsError() const;

    // Reads a PROXY header before anything else (accept_proxy_protocol); see the contract.
    void expectProxyHeader();
    bool awaitingProxyHeader() const { return proxy_parser_ != nullptr; }
    // The header's version (1, 2) once received, 0 without one.
    int proxyVersion() const { return proxy_version_; }
    const char* proxyError() const { return proxy_error_; }

    void setHandler(ConnectionHandler* handler) { handler_ = handler; }
    ConnectionHandler* handler() const { return handler_; }

    void startReading();
    void stopReading();
    bool reading() const { return reading_; }

    // Queues bytes (several slices written as one vectored write). Returns false when the
    // connection is broken; the caller must treat that as the end of the connection (a hard
    // error of the immediate send is not also reported through onError).
    [[nodiscard]] bool write(std::string_view a, std::string_view b = {}, std::string_view c = {},
                             std::string_view d = {});
    size_t pendingBytes() const {
        return queue_ ? queue_->pending.size() + queue_->writing.size() : 0;
    }
    void shutdownWrite();
    bool writeShutdown() const { return shutdown_requested_; }
    // Connected and, for client TLS, past the handshake (what onConnected announces).
    bool connected() const { return connected_ && (!tls_client_ || tls_up_); }

    // Parking (an idle keep-alive client connection given up to save memory, net/ part):
    // parkable(): plain (no TLS), connected, nothing queued or in flight, no PROXY header or
    // shutdown pending, not failed or closing. parkSocket() fills `out` with a DUPLICATE of the
    // socket (the caller owns it) and this connection's state; the connection itself is
    // unchanged: destroy() it next (the socket stays open through the duplicate, so the peer
    // sees nothing). False (nothing duplicated) when not parkable or out of descriptors.
    bool parkable() const;
    [[nodiscard]] bool parkSocket(Parked& out) const;
    // The connection again, from a parked socket (ownership of `parked.fd` passes): the same
    // addresses, counters and id, not reading until startReading(). nullptr on failure (fd
    // closed).
    static TcpConnection* unpark(uv_loop_t* loop, const Parked& parked);

    // Closes the socket and frees this object later. Safe to call from inside a Handler callback.
    void destroy();
    // Like destroy(), but sends RST instead of FIN (abortive close, e.g. truncated response).
    void reset();

    const std::string& peerAddress() const { return peer_; }  // "ip" of the peer (no port)
    // The client's address and the address it connected to: the socket's, or a PROXY header's.
    const sockaddr& peerSockaddr() const { return peer_addr_.sa; }
    // The local address is asked of the kernel when first needed (a PROXY header to send), not
    // for every accepted connection.
    const sockaddr& localSockaddr() const;
    uint64_t id() const { return id_; }
    // Bytes over the socket so far (TLS: ciphertext), read and accepted for writing.
    uint64_t bytesRead() const { return bytes_read_; }
    uint64_t bytesWritten() const { return bytes_written_; }

  private:
    // What a connection holds only while bytes wait to be written (or TLS plaintext to be read).
    struct WriteQueue {
        std::string writing;      // bytes owned by the in-flight uv_write
        std::string pending;      // bytes queued behind it
        std::string tls_backlog;  // plaintext decrypted while the handler was not reading
    };

    explicit TcpConnection(uv_loop_t* loop);
    ~TcpConnection();
    WriteQueue& queue();
    // Frees the write queue once nothing is in it (the next write allocates it again).
    void releaseQueue();
    static void setAddress(SocketAddress& to, const sockaddr_storage& from);

    static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
    static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
    static void onWriteDone(uv_write_t* req, int status);
    static void onConnectDone(uv_connect_t* req, int status);
    static void onShutdownDone(uv_shutdown_t* req, int status);
    static void onClosed(uv_handle_t* handle);
    void startWrite();
    void fail(int uv_error);
    // The peer's address (`peer`: accept4's, else getpeername); the local one waits for
    // localSockaddr() unless `local_too`.
    void fillPeer(const sockaddr* peer, bool local_too);
    // Feeds the PROXY parser; true when the header is done and `bytes` (what follows it) is
    // to be delivered; false when more is needed or the connection failed or closed.
    bool takeProxyHeader(std::string_view& bytes);
    bool rawWrite(std::string_view* parts, size_t count);
    void updateReading();
    // Decrypts and delivers what the TLS stream holds; writes what it produced.
    void drainTls();
    // Writes the TLS stream's ciphertext; false when the socket is broken (no callback).
    bool writeTlsOutput();
    // writeTlsOutput(), reporting a broken socket through onError.
    bool flushTls();
    void scheduleTlsDrain();
    static void onTlsIdle(uv_idle_t* idle);
    void closeTlsIdle();

    uv_tcp_t handle_{};
    // Each allocated when issued, freed by its callback (libuv runs it, ECANCELED on a close,
    // before the handle's close callback).
    uv_write_t* write_req_ = nullptr;
    uv_connect_t* connect_req_ = nullptr;
    uv_shutdown_t* shutdown_req_ = nullptr;
    uv_idle_t* tls_idle_ = nullptr;  // TLS only: delivers plaintext buffered in tls_ when
                                     // reading resumes (freed in the destructor, once closed)
    std::unique_ptr<tls::TlsStream> tls_;
    std::unique_ptr<WriteQueue> queue_;
    ConnectionHandler* handler_ = nullptr;
    std::string peer_;
    SocketAddress peer_addr_{};
    mutable SocketAddress local_addr_{};  // AF_UNSPEC until known (localSockaddr())
    std::unique_ptr<ProxyHeaderParser> proxy_parser_;
    const char* proxy_error_ = "";
    int proxy_version_ = 0;
    uint64_t id_;
    uint64_t bytes_read_ = 0;
    uint64_t bytes_written_ = 0;
    bool reading_ = false;     // the handler wants bytes
    bool uv_reading_ = false;  // uv_read_start is active
    bool tls_idle_active_ = false;
    bool tls_client_ = false;
    bool tls_up_ = false;   // handshake done and noticed (client: onConnected delivered)
    int open_handles_ = 1;  // handle_ (+ tls_idle_): delete when all are closed
    bool write_in_flight_ = false;
    bool shutdown_requested_ = false;
    bool shutdown_sent_ = false;
    bool connected_ = false;
    bool closing_ = false;
    bool failed_ = false;
};

}  // namespace sluice::net
