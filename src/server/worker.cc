#include "server/worker.h"

#include <unistd.h>

#include "base/log.h"
#include "net/tcp_connection.h"
#include "proxy/http/http_session.h"
#include "proxy/tcp/tcp_session.h"

namespace sluice::server {

class Worker::ListenerPort final : public net::AcceptHandler {
public:
    ListenerPort(Worker& worker, size_t listener, int fd)
        : worker_(worker), listener_(listener), acceptor_(worker.loop_->raw(), fd, *this) {}

    bool canAccept() override {
        return static_cast<uint64_t>(worker_.counters_.open_connections.load(
                   std::memory_order_relaxed)) < worker_.max_connections_;
    }
    void onAccept(int fd) override { worker_.accept(listener_, fd); }

private:
    Worker& worker_;
    size_t listener_;
    net::Acceptor acceptor_;
};

Worker::Worker(unsigned index, proxy::ProcessCounters& counters, uint64_t max_connections,
               std::shared_ptr<const routing::Snapshot> snapshot, std::vector<int> listen_fds)
    : index_(index),
      counters_(counters),
      max_connections_(max_connections),
      pending_fds_(std::move(listen_fds)),
      loop_(std::make_unique<loop::EventLoop>()),
      ctx_(std::make_unique<proxy::ProxyContext>(loop_->raw(), counters)) {
    ctx_->adopt(std::make_shared<proxy::WorkerSnapshot>(loop_->raw(), std::move(snapshot),
                                                        0x9e3779b9u * (index + 1)));
}

Worker::~Worker() {
    join();
    for (int fd : pending_fds_) ::close(fd);
}

void Worker::start(std::function<void()> on_exit) {
    on_exit_ = std::move(on_exit);
    thread_ = std::thread([this] { run(); });
}

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::run() {
    for (size_t i = 0; i < pending_fds_.size(); ++i) {
        ports_.push_back(std::make_unique<ListenerPort>(*this, i, pending_fds_[i]));
    }
    pending_fds_.clear();
    loop_->run();
    // Loop ran dry: every session and listener is gone.
    ctx_.reset();
    loop_->closeQueue();
    loop_->run();  // close callbacks
    if (on_exit_) on_exit_();
}

void Worker::stop() {
    loop_->post([this] {
        ports_.clear();  // closes this worker's listening sockets
        ctx_->drainAll();
    });
}

void Worker::abort() {
    loop_->post([this] {
        ports_.clear();
        ctx_->abortAll();
    });
}

void Worker::accept(size_t listener, int fd) {
    net::TcpConnection* conn = net::TcpConnection::adopt(loop_->raw(), fd);
    if (!conn) return;
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
    const auto& config = *ctx_->current()->snapshot->config;
    if (config.listeners[listener].mode == config::ListenerMode::kTcp) {
        proxy::TcpSession::start(*ctx_, conn, listener);
    } else {
        proxy::HttpSession::start(*ctx_, conn, listener);
    }
}

}  // namespace sluice::server
