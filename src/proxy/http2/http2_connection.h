#pragma once
// The downstream HTTP/2 connection: a client that chose h2 (ALPN on a TLS listener with
// http2 = true, or the prior-knowledge preface on a plain listener with h2c = true). It owns the
// client socket and an http2::ServerSession (the nghttp2 byte transformer) and makes one
// Http2Stream, which drives one Exchange, per request stream.
//
// Contract:
// - Created by HttpSession when the first bytes show HTTP/2 (HttpSession::takeHttp2); from then
//   on it is the connection's Session (drain, abort) and its only handler.
// - Output is written once per batch of events (flushSoon(): after this loop iteration's I/O),
//   at most ServerSession::kOutputHighWater at a time and never while the socket holds more
//   than kHighWater: a client that does not read stops its own streams, and reading from it
//   stops too (it fills its own buffers, not ours).
// - A stream's request uses the configuration that is current when it opens (after a reload,
//   new streams use the new one); the listener settings of the connection are those it was
//   accepted with.
// - Graceful stop (drain, reload of the listener away): GOAWAY with the last stream id; the
//   streams up to it finish, then the connection closes. abort(): streams are cancelled
//   silently, the connection closes. The client gone (EOF, error): every live exchange is
//   aborted for the client (499, client_abort).
// - idle_timeout with no open stream: GOAWAY(NO_ERROR) and close, like an idle HTTP/1.1
//   keep-alive connection.
// Retires itself (ProxyContext::retire) when the connection ends.

#include <memory>
#include <string_view>
#include <vector>

#include "http2/server_session.h"
#include "loop/after_io.h"
#include "loop/deadline_timer.h"
#include "net/tcp_connection.h"
#include "proxy/edge/connection_limiter.h"
#include "proxy/proxy_context.h"

namespace sluice::proxy {

class Http2Stream;

class Http2Connection final : public Session,
                              private net::ConnectionHandler,
                              private http2::SessionHandler {
  public:
    // Which protocol the first bytes of a connection on `listener` ask for: kHttp2 when the
    // client chose h2 by ALPN, or (h2c) sent the preface; kUndecided while `first` is a proper
    // prefix of the preface on an h2c listener.
    enum class Choice { kHttp1, kHttp2, kUndecided };
    static Choice choose(const config::ListenerConfig& listener, const net::TcpConnection& client,
                         std::string_view first);

    // Takes `client` (and its per-IP `lease`); `first`: the bytes read so far, the preface
    // first. `snapshot` is the one the connection was accepted with.
    static void start(ProxyContext& ctx, std::shared_ptr<WorkerSnapshot> snapshot, size_t listener,
                      net::TcpConnection* client, edge::ConnectionLimiter::Lease lease,
                      std::string_view first);

    void drain() override;
    void abort() override;

    // For the streams.
    ProxyContext& context() { return ctx_; }
    http2::ServerSession& session() { return *session_; }
    const net::TcpConnection& client() const { return *client_; }
    void flushSoon();
    // A stream's exchange or session stream ended: delete it once both have.
    void streamChanged(Http2Stream& stream);

  private:
    Http2Connection(ProxyContext& ctx, std::shared_ptr<WorkerSnapshot> snapshot, size_t listener,
                    net::TcpConnection* client, edge::ConnectionLimiter::Lease lease);
    ~Http2Connection() override;

    // net::ConnectionHandler
    void onData(net::TcpConnection& conn, std::string_view bytes) override;
    void onEof(net::TcpConnection& conn) override;
    void onError(net::TcpConnection& conn, int uv_error) override;
    void onDrain(net::TcpConnection& conn) override;

    // http2::SessionHandler
    http2::StreamHandler* onRequest(const http2::Request& request) override;

    void feed(std::string_view bytes);
    // Writes what the session has for the socket, then decides reading, the idle timer and
    // whether the connection is over.
    void flush();
    void onTimer();
    void clientGone();  // EOF or error: live exchanges are aborted for the client
    void finish();

    ProxyContext& ctx_;
    std::shared_ptr<WorkerSnapshot> snap_;  // the accept's: listener settings, limiter
    edge::ConnectionLimiter::Lease lease_;  // max_connections_per_ip slot (after snap_)
    size_t listener_index_;
    const config::ListenerConfig* listener_;
    net::TcpConnection* client_;
    std::vector<std::unique_ptr<Http2Stream>> streams_;  // live or not yet deleted
    std::unique_ptr<http2::ServerSession> session_;      // after streams_: destroyed first
    loop::DeadlineTimer timer_;                          // idle_timeout; the final GOAWAY
    loop::AfterIo flush_soon_;
    bool draining_ = false;
    bool closing_ = false;  // the session is done: the last bytes are flushing
    bool finished_ = false;
};

}  // namespace sluice::proxy
