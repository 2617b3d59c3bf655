#pragma once
// Per worker (not thread-safe): idle keep-alive connections to upstream servers, most recently
// used first. A connection is put back only after a complete, reusable response. While idle, the
// pool owns it: any byte, EOF or error from the server discards it, and it is closed after the
// pool's idle_timeout.

#include <cstdint>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "loop/timer.h"
#include "loop/uv_types.h"
#include "net/tcp_connection.h"
#include "upstream/server.h"

namespace sluice::upstream {

class ConnectionPool : private net::ConnectionHandler {
  public:
    explicit ConnectionPool(uv_loop_t* loop);
    ~ConnectionPool() override;

    // An idle connection to `server`, now owned by the caller (handler unset), or nullptr.
    net::TcpConnection* take(const ServerState* server);
    // Hands `conn` to the pool. Closed instead when `keepalive` connections are already idle.
    void put(const ServerState* server, net::TcpConnection* conn, uint64_t idle_timeout_ms,
             unsigned keepalive);
    void closeAll();
    size_t idleCount() const {  // idle connections, all servers
        size_t n = 0;
        for (const auto& [server, conns] : idle_) n += conns.size();
        return n;
    }
    // Closes idle connections to servers not in `servers` (removed by a reload).
    void retainOnly(const std::set<const ServerState*>& servers);

  private:
    struct Idle {
        net::TcpConnection* conn;
        const ServerState* server;
        uint64_t expires_ms;
    };
    void onData(net::TcpConnection& conn, std::string_view bytes) override;
    void onEof(net::TcpConnection& conn) override;
    void onError(net::TcpConnection& conn, int uv_error) override;
    void discard(net::TcpConnection& conn);
    void sweep();

    uv_loop_t* loop_;
    std::unordered_map<const ServerState*, std::vector<Idle>> idle_;
    loop::Timer sweeper_;
};

}  // namespace sluice::upstream
