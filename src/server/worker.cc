#include "server/worker.h"

#include <unistd.h>

#include <set>

#include "base/log.h"
#include "metrics/generation_stats.h"
#include "net/tcp_connection.h"
#include "proxy/http/http_session.h"
#include "proxy/tcp/tcp_session.h"

namespace sluice::server {

class Worker::ListenerPort final : public net::AcceptHandler {
  public:
    ListenerPort(Worker& worker, std::string key, int fd)
        : worker_(worker),
          key_(std::move(key)),
          acceptor_(worker.loop_->raw(), fd, *this, "worker " + std::to_string(worker.index_)) {}

    bool canAccept() override {
        return static_cast<uint64_t>(worker_.counters_.open_connections.load(
                   std::memory_order_relaxed)) < worker_.max_connections_;
    }
    void onAccept(int fd, const sockaddr* peer) override { worker_.accept(key_, fd, peer); }

  private:
    Worker& worker_;
    std::string key_;
    net::Acceptor acceptor_;
};

Worker::Worker(unsigned index, proxy::ProcessCounters& counters, uint64_t max_connections,
               std::shared_ptr<const routing::Snapshot> snapshot,
               std::vector<ListenerSocket> sockets)
    : index_(index),
      counters_(counters),
      max_connections_(max_connections),
      pending_sockets_(std::move(sockets)),
      loop_(std::make_unique<loop::EventLoop>()),
      ctx_(std::make_unique<proxy::ProxyContext>(loop_->raw(), counters)),
      generation_seed_(0x9e3779b97f4a7c15ULL * (index + 1)) {
    ctx_->adopt(std::make_shared<proxy::WorkerSnapshot>(loop_->raw(), std::move(snapshot),
                                                        generation_seed_));
}

Worker::~Worker() {
    join();
    for (const auto& socket : pending_sockets_) ::close(socket.fd);
}

void Worker::start(std::function<void()> on_exit, std::function<void()> on_serving) {
    on_exit_ = std::move(on_exit);
    on_serving_ = std::move(on_serving);
    thread_ = std::thread([this] { run(); });
}

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::run() {
    metrics::setWriterSlot(index_);  // this thread counts into slot `index_` of every scope
    for (const auto& socket : pending_sockets_) openPort(socket);
    pending_sockets_.clear();
    if (on_serving_) on_serving_();
    loop_->run();
    // Loop ran dry: every session and listener is gone.
    drain_timer_.reset();
    ctx_.reset();
    loop_->closeQueue();
    loop_->run();  // close callbacks
    if (on_exit_) on_exit_();
}

void Worker::openPort(const ListenerSocket& socket) {
    ports_[socket.key] = std::make_unique<ListenerPort>(*this, socket.key, socket.fd);
}

void Worker::adopt(std::shared_ptr<const routing::Snapshot> snapshot,
                   std::vector<ListenerSocket> added, std::vector<std::string> removed) {
    loop_->post([this, snapshot = std::move(snapshot), added = std::move(added),
                 removed = std::move(removed)]() mutable {
        if (stopping_ || ctx_->draining()) {
            for (const auto& socket : added) ::close(socket.fd);
            return;
        }
        generation_seed_ += 0x632be59bd9b4e019ULL;
        ctx_->adopt(
            std::make_shared<proxy::WorkerSnapshot>(loop_->raw(), snapshot, generation_seed_));
        for (const auto& key : removed) ports_.erase(key);
        for (const auto& socket : added) openPort(socket);
        std::set<const upstream::ServerState*> servers;
        for (const auto& pool : snapshot->pools) {
            for (const auto& server : pool->servers) servers.insert(server.state.get());
        }
        ctx_->connectionPool().retainOnly(servers);
    });
}

void Worker::stop() {
    loop_->post([this] {
        if (stopping_) return;
        stopping_ = true;
        ports_.clear();  // closes this worker's listening sockets
        // Responses from now on carry Connection: close, so busy keep-alive clients leave on
        // their own before the idle ones are closed.
        ctx_->markDraining();
        drain_timer_ = std::make_unique<loop::Timer>(loop_->raw(), [this] { ctx_->drainAll(); });
        drain_timer_->start(kAcceptedSettleMs);
    });
}

void Worker::abort() {
    loop_->post([this] {
        stopping_ = true;
        ports_.clear();
        drain_timer_.reset();
        ctx_->abortAll();
    });
}

void Worker::accept(const std::string& key, int fd, const sockaddr* peer) {
    net::TcpConnection* conn = net::TcpConnection::adopt(loop_->raw(), fd, peer);
    if (!conn) return;
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
    // The listener behind this socket in the current generation (its mode may have changed).
    const auto& listeners = ctx_->current()->snapshot->config->listeners;
    for (size_t i = 0; i < listeners.size(); ++i) {
        const auto& tls = listeners[i].tls;
        if (tls && tls->redirect_http && net::bindKey(*tls->redirect_http) == key) {
            proxy::HttpSession::start(*ctx_, conn, i, /*redirect=*/true);
            return;
        }
        if (net::bindKey(listeners[i].bind) != key) continue;
        if (listeners[i].mode == config::ListenerMode::kTcp) {
            proxy::TcpSession::start(*ctx_, conn, i);
        } else {
            proxy::HttpSession::start(*ctx_, conn, i);
        }
        return;
    }
    conn->destroy();  // the socket's listener was removed a moment ago
}

}  // namespace sluice::server
