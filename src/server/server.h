#pragma once
// The main thread: owns the configuration, the listening sockets it hands to workers, signals
// and graceful shutdown. run() returns the process exit status.

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "proxy/proxy_context.h"
#include "routing/snapshot.h"
#include "server/worker.h"

namespace sluice::server {

class Server {
public:
    explicit Server(config::Config config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds, starts workers and serves until SIGTERM/SIGINT and the drain that follows.
    int run();

private:
    bool openListeners(unsigned workers, std::vector<std::vector<int>>& fds_per_worker);
    bool dropPrivileges();
    void installSignals();
    void onSignal(int signum);
    void beginShutdown(const char* why);
    void onWorkerExited();

    std::shared_ptr<const config::Config> config_;
    routing::ServerStateRegistry registry_;
    std::shared_ptr<const routing::Snapshot> snapshot_;
    proxy::ProcessCounters counters_;
    loop::EventLoop loop_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<uv_signal_t*> signals_;
    std::unique_ptr<loop::Timer> shutdown_timer_;
    unsigned running_workers_ = 0;
    bool shutting_down_ = false;
};

}  // namespace sluice::server
