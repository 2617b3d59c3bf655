#pragma once
// One attempt of a request on one upstream connection, from the connector's hand-over
// (connected or pooled) to the end of the attempt. It owns the connection: the connection goes
// back to the worker's pool only through finish(true) after a complete, reusable exchange;
// ending the attempt any other way (finish(false), destruction) closes it, so a connection with
// an unread or half-sent exchange is never reused. The response parser and held-back bytes stay
// with the HTTP connection (their capacity outlives attempts).

#include <string_view>

#include "config/config.h"
#include "http/message.h"
#include "net/tcp_connection.h"
#include "upstream/connection_pool.h"

namespace sluice::proxy {

class UpstreamRequest {
  public:
    // Takes `conn` and makes `handler` its handler; reading starts.
    UpstreamRequest(net::TcpConnection* conn, bool reused, net::ConnectionHandler& handler);
    ~UpstreamRequest();
    UpstreamRequest(const UpstreamRequest&) = delete;
    UpstreamRequest& operator=(const UpstreamRequest&) = delete;

    net::TcpConnection& conn() const { return *conn_; }
    bool reused() const { return reused_; }  // came from the pool (may have gone stale)

    // The serialized request head, then `rest` (empty, or the last chunk and trailers of a
    // chunked body already known to be empty: the whole request was read before this attempt).
    // False: the connection is broken.
    [[nodiscard]] bool sendHead(std::string_view head, std::string_view rest);
    // Request body bytes in the request's `framing` (the head announced it: a chunk each when
    // chunked). False: the connection is broken.
    [[nodiscard]] bool sendBody(http::BodyFraming framing, std::string_view data);
    // Hands the connection over (a tunnel after 101); the caller owns it now.
    net::TcpConnection* release() {
        net::TcpConnection* conn = conn_;
        conn_ = nullptr;
        return conn;
    }
    // Ends the attempt: with `reusable` (and a pool to give it to) the connection is idle in
    // `pool` for `server`, otherwise closed.
    void finish(bool reusable, upstream::ConnectionPool& pool, const upstream::ServerState* server,
                const config::PoolConfig& config);

  private:
    net::TcpConnection* conn_;  // null once finish()ed
    bool reused_;
};

}  // namespace sluice::proxy
