#include "upstream/connection_pool.h"

#include <algorithm>

namespace sluice::upstream {
namespace {
constexpr uint64_t kSweepIntervalMs = 1000;
}

ConnectionPool::ConnectionPool(uv_loop_t* loop)
    : loop_(loop), sweeper_(loop, [this] { sweep(); }) {}

ConnectionPool::~ConnectionPool() { closeAll(); }

net::TcpConnection* ConnectionPool::take(const ServerState* server) {
    auto it = idle_.find(server);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    net::TcpConnection* conn = it->second.back().conn;
    it->second.pop_back();
    // Still reading (stopping now and starting again in the taker costs two epoll_ctl calls per
    // request); nothing can arrive before the taker, in the same loop callback, sets its handler.
    conn->setHandler(nullptr);
    return conn;
}

void ConnectionPool::put(const ServerState* server, net::TcpConnection* conn,
                         uint64_t idle_timeout_ms, unsigned keepalive) {
    auto& list = idle_[server];
    if (list.size() >= keepalive || idle_timeout_ms == 0) {
        conn->destroy();
        return;
    }
    conn->setHandler(this);
    conn->startReading();
    list.push_back({conn, server, loop::now(loop_) + idle_timeout_ms});
    if (!sweeper_.active()) sweeper_.start(kSweepIntervalMs, kSweepIntervalMs);
}

void ConnectionPool::closeAll() {
    for (auto& [server, list] : idle_) {
        for (auto& idle : list) idle.conn->destroy();
        list.clear();
    }
    idle_.clear();
    sweeper_.stop();
}

void ConnectionPool::retainOnly(const std::set<const ServerState*>& servers) {
    for (auto it = idle_.begin(); it != idle_.end();) {
        if (servers.count(it->first)) {
            ++it;
            continue;
        }
        for (auto& idle : it->second) idle.conn->destroy();
        it = idle_.erase(it);
    }
}

// An idle upstream must not speak: unsolicited bytes mean the connection cannot be trusted for
// the next request's response.
void ConnectionPool::onData(net::TcpConnection& conn, std::string_view) { discard(conn); }
void ConnectionPool::onEof(net::TcpConnection& conn) { discard(conn); }
void ConnectionPool::onError(net::TcpConnection& conn, int) { discard(conn); }

void ConnectionPool::discard(net::TcpConnection& conn) {
    for (auto& [server, list] : idle_) {
        auto it = std::find_if(list.begin(), list.end(),
                               [&](const Idle& idle) { return idle.conn == &conn; });
        if (it != list.end()) {
            list.erase(it);
            break;
        }
    }
    conn.destroy();
}

void ConnectionPool::sweep() {
    uint64_t now = loop::now(loop_);
    bool any = false;
    for (auto& [server, list] : idle_) {
        auto keep = std::remove_if(list.begin(), list.end(), [&](const Idle& idle) {
            if (idle.expires_ms > now) return false;
            idle.conn->destroy();
            return true;
        });
        list.erase(keep, list.end());
        any = any || !list.empty();
    }
    if (!any) sweeper_.stop();
}

}  // namespace sluice::upstream
