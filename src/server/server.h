#pragma once
// The main thread: owns the configuration, the listening sockets it hands to workers, signals
// and graceful shutdown. run() returns the process exit status.

#include <uv.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_diff.h"
#include "control/control_server.h"
#include "control/state_file.h"
#include "health/health_checker.h"  // health: active checks
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "proxy/proxy_context.h"
#include "routing/snapshot.h"
#include "server/worker.h"
#include "tls/contexts.h"
#include "tls/ticket_keys.h"

namespace sluice::server {

// Level, error log and access log targets from `config` (at start and on every reload).
void applyLogConfig(const config::LogConfig& config);
// Every address the config listens on: listener binds, then TLS listeners' redirect_http.
std::vector<config::Address> bindsOf(const config::Config& config);

class Server final : public control::CommandHandler {
  public:
    explicit Server(config::Config config);
    ~Server() override;
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds, starts workers and serves until SIGTERM/SIGINT and the drain that follows.
    int run();

    struct ReloadOutcome {
        bool ok = false;
        std::vector<std::string> errors;  // "FILE:LINE:COL: message", or a bind error
        uint64_t generation = 0;
        config::ConfigDiff diff;
        std::vector<std::string> notes;  // e.g. runtime-added servers now defined by the file
    };
    // Re-reads the config file; on success publishes it to every worker atomically. On any
    // error nothing changes.
    ReloadOutcome reload();

    // control::CommandHandler: one control socket command (control_commands.cc).
    std::string execute(const std::vector<std::string>& args, bool json) override;

  private:
    std::string commandStatus(bool json);
    std::string commandReload(bool json);
    std::string commandShowPools(bool json);
    std::string commandShowServers(const std::string& pool, bool json);
    std::string commandShowStats(bool json);
    std::string commandServer(const std::vector<std::string>& args);

    // Runtime changes (runtime_overrides.cc).
    control::ServerOverride* findOverride(const std::string& pool, const std::string& name);
    // The file's config plus runtime-added servers, minus runtime-deleted ones.
    std::shared_ptr<const config::Config> withRuntimeServers(const config::Config& file,
                                                             std::vector<std::string>* notes);
    // Admin state and weight of every server of the current snapshot from the overrides.
    void applyOverrides();
    bool saveRuntimeState(std::string* error);
    void loadRuntimeState();
    // Publishes the file's config with the current runtime servers as a new generation.
    bool republish(std::string* error);

    // Opens one socket per worker for each bind key in `keys`: result[worker] lists them.
    bool openSockets(const std::vector<config::Address>& binds,
                     std::vector<std::vector<ListenerSocket>>& per_worker, std::string* error);
    // Makes `next` the running configuration: opens sockets for new binds (failing without
    // change), builds the snapshot, updates health checks, posts to the workers.
    // `tls`: the TLS contexts of `next`; null = keep the current ones (same listeners/pools).
    bool publish(std::shared_ptr<const config::Config> next, std::string* error,
                 const tls::Contexts* tls = nullptr);
    bool dropPrivileges();
    void installSignals();
    void onSignal(int signum);
    void beginShutdown(const char* why);
    void onWorkerExited();

    std::shared_ptr<const config::Config> file_config_;  // as the file says
    std::shared_ptr<const config::Config> config_;       // running: the file plus runtime changes
    control::RuntimeState runtime_;
    std::set<std::pair<std::string, std::string>> deleted_;  // file servers del'd at runtime
    std::unique_ptr<control::ControlServer> control_;
    std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
    std::string config_path_;
    std::set<std::string> open_binds_;  // bind keys with a listening socket in every worker
    uint64_t generation_ = 1;
    unsigned worker_count_ = 0;
    routing::ServerStateRegistry registry_;
    std::shared_ptr<const routing::Snapshot> snapshot_;
    // Session ticket keys live as long as the process: resumption survives reloads.
    std::shared_ptr<tls::TicketKeys> ticket_keys_ = std::make_shared<tls::TicketKeys>();
    tls::Contexts tls_;  // of config_
    proxy::ProcessCounters counters_;
    loop::EventLoop loop_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<uv_signal_t*> signals_;
    std::unique_ptr<loop::Timer> shutdown_timer_;
    std::unique_ptr<health::HealthChecker> health_;  // health: active checks (main thread)
    unsigned running_workers_ = 0;
    bool shutting_down_ = false;
};

}  // namespace sluice::server
