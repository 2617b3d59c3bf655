#pragma once
// One worker thread: its own event loop, its own SO_REUSEPORT listening socket per listener,
// its own proxy sessions, balancer state and idle upstream connections. The main thread talks
// to it only by post() (snapshots in, stop requests in) and shared atomics.

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "loop/event_loop.h"
#include "net/acceptor.h"
#include "proxy/proxy_context.h"

namespace sluice::server {

class Worker {
public:
    // `listen_fds[i]` is this worker's socket for listener i of `snapshot`.
    Worker(unsigned index, proxy::ProcessCounters& counters, uint64_t max_connections,
           std::shared_ptr<const routing::Snapshot> snapshot, std::vector<int> listen_fds);
    ~Worker();  // joins
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Starts the thread; `on_exit` runs on the worker thread when its loop has finished.
    void start(std::function<void()> on_exit);
    // Graceful stop: close listeners, let sessions finish (keep-alive ends).
    void stop();
    // Close every remaining session now (shutdown_timeout expired).
    void abort();
    void join();
    // Open client connections of this worker (approximate, read from another thread).
    unsigned index() const { return index_; }

private:
    class ListenerPort;  // one listener's acceptor + its accept handler
    void run();
    void accept(size_t listener, int fd);

    unsigned index_;
    proxy::ProcessCounters& counters_;
    uint64_t max_connections_;
    std::vector<int> pending_fds_;  // adopted on the worker thread at start
    std::unique_ptr<loop::EventLoop> loop_;
    std::unique_ptr<proxy::ProxyContext> ctx_;
    std::vector<std::unique_ptr<ListenerPort>> ports_;
    std::thread thread_;
    std::function<void()> on_exit_;
};

}  // namespace sluice::server
