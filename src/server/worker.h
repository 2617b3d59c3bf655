#pragma once
// One worker thread: its own event loop, its own SO_REUSEPORT listening socket per listener,
// its own proxy sessions, balancer state and idle upstream connections. The main thread talks
// to it only by post() (snapshots in, stop requests in) and shared atomics.

#include <sys/socket.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/acceptor.h"
#include "proxy/proxy_context.h"

namespace sluice::server {

// A listening socket for one worker, identified by its bind key (net::bindKey).
struct ListenerSocket {
    std::string key;
    int fd = -1;
};

class Worker {
  public:
    Worker(unsigned index, proxy::ProcessCounters& counters, uint64_t max_connections,
           std::shared_ptr<const routing::Snapshot> snapshot, std::vector<ListenerSocket> sockets);
    ~Worker();  // joins
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Starts the thread; `on_serving` runs on the worker thread once every socket it was given
    // accepts, `on_exit` when its loop has finished.
    void start(std::function<void()> on_exit, std::function<void()> on_serving = {});
    // New configuration generation: sessions started from now on use `snapshot` (keep-alive
    // clients at their next request); `added` sockets start accepting, `removed` ones close.
    // Idle upstream connections to servers no longer in the snapshot are closed.
    void adopt(std::shared_ptr<const routing::Snapshot> snapshot, std::vector<ListenerSocket> added,
               std::vector<std::string> removed);
    // Graceful stop: close listeners at once, let sessions finish; keep-alive ends at once
    // (responses carry Connection: close). Idle sessions are closed kAcceptedSettleMs later: a
    // connection accepted just before whose request has not been read yet would otherwise look
    // idle and be closed (reset) unanswered, and a keep-alive client in mid-cycle leaves on its
    // own after its next response instead of racing our close with its next request.
    void stop();
    static constexpr uint64_t kAcceptedSettleMs = 500;
    // Close every remaining session now (shutdown_timeout expired).
    void abort();
    void join();
    unsigned index() const { return index_; }

  private:
    class ListenerPort;  // one listener's acceptor + its accept handler
    void run();
    void openPort(const ListenerSocket& socket);
    void accept(const std::string& key, int fd, const sockaddr* peer);

    unsigned index_;
    proxy::ProcessCounters& counters_;
    uint64_t max_connections_;
    std::vector<ListenerSocket> pending_sockets_;  // adopted on the worker thread at start
    std::unique_ptr<loop::EventLoop> loop_;
    std::unique_ptr<proxy::ProxyContext> ctx_;
    std::map<std::string, std::unique_ptr<ListenerPort>> ports_;  // by bind key
    std::thread thread_;
    std::function<void()> on_exit_;
    std::function<void()> on_serving_;
    std::unique_ptr<loop::Timer> drain_timer_;  // stop(): drains the sessions when it fires
    bool stopping_ = false;
    uint64_t generation_seed_;
};

}  // namespace sluice::server
