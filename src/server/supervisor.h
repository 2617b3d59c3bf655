#pragma once
// The main thread's process object: owns the configuration, the listening sockets it hands to
// workers, signals, graceful shutdown, the health checker and the control socket. Control
// commands (control::Commands) reach it through control::Process. run() returns the process
// exit status.

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "admin/admin_server.h"
#include "admin/pages.h"
#include "admin/routes.h"
#include "config/config.h"
#include "config/config_loader.h"
#include "control/commands.h"
#include "control/control_server.h"
#include "control/process.h"
#include "discovery/discovery.h"
#include "health/health_checker.h"
#include "loop/event_loop.h"
#include "loop/signal_watch.h"
#include "loop/timer.h"
#include "metrics/stats_registry.h"
#include "proxy/proxy_context.h"
#include "routing/snapshot.h"
#include "server/pool_watch.h"
#include "server/upgrade.h"
#include "server/worker.h"
#include "tls/contexts.h"
#include "tls/ticket_keys.h"

namespace sluice::server {

// Level, error log and access log targets from `config` (on every reload); what could not be
// opened (logged too; the old target stays).
std::vector<std::string> applyLogConfig(const config::LogConfig& config);
// Every address the config listens on: listener binds, then TLS listeners' redirect_http.
std::vector<config::Address> bindsOf(const config::Config& config);

class Supervisor final : private control::Process, private admin::Source {
  public:
    // `launch`: what an upgrade executes; `inherited`: what this process received from the one
    // it upgrades (empty for a normal start).
    explicit Supervisor(config::Config config, LaunchInfo launch = {}, Inheritance inherited = {});
    ~Supervisor() override;
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Binds, starts workers and serves until SIGTERM/SIGINT and the drain that follows.
    int run();
    // True from the moment a graceful stop (its stop_grace included) or an upgrade hand-over
    // begins: /healthz answers 503 from then on.
    bool handingOver() const override { return handing_over_; }

  private:
    // control::Process (supervisor_reload.cc for publish and reload).
    control::ProcessStatus status() const override;
    std::shared_ptr<const routing::Snapshot> snapshot() const override { return snapshot_; }
    uint64_t nowMs() const override { return loop_.now(); }
    uv_loop_t* loop() override { return loop_.raw(); }
    std::optional<control::CheckReport> lastCheck(const std::string& pool,
                                                  const std::string& server) const override;
    const config::Config& fileConfig() const override { return *file_config_; }
    bool publish(std::shared_ptr<const config::Config> running,
                 const control::RuntimeState& overrides, std::string* error) override;
    // Both between RELOADING=1 and READY=1 for the service manager; reloadLater reads the
    // file on reload_reader_ while the main thread serves on.
    control::ReloadOutcome reload(const Derive& derive) override;
    void reloadLater(Derive derive, std::function<void(control::ReloadOutcome)> done) override;
    using Loaded = std::variant<config::Config, config::ConfigErrors>;  // what loadConfig gives
    void startReloadRead();
    void onReloadRead(Loaded loaded);  // main thread, once reload_reader_ has read the file
    static control::ReloadOutcome shuttingDownOutcome();
    // Checks TLS files, derives and publishes `loaded`; counts the reload for the admin page.
    control::ReloadOutcome applyReload(Loaded loaded, const Derive& derive);
    control::ReloadOutcome applyFile(Loaded loaded, const Derive& derive);  // the reload itself
    void upgrade(std::function<void(const control::UpgradeOutcome&)> done) override;
    void onUpgradeDone(bool ok, pid_t pid, const std::string& text,
                       const std::function<void(const control::UpgradeOutcome&)>& done);
    // An upgraded process that serves: tells its predecessor, takes over the control socket.
    void takeOver();

    // admin::Source (supervisor_admin.cc).
    std::string metricsText() override;
    std::string statusJson() override;
    // Starts the admin endpoint when [admin] listen is set; false with *error.
    bool startAdmin(std::string* error);

    // Opens one socket per worker for each bind in `binds`: per_worker[worker] lists them.
    // `config` says which binds are freebind.
    bool openSockets(const config::Config& config, const std::vector<config::Address>& binds,
                     std::vector<std::vector<ListenerSocket>>& per_worker, std::string* error);
    // Makes `next` the running configuration: opens sockets for new binds (failing without
    // change), builds the snapshot, stores the overrides in its servers, updates health checks,
    // posts to the workers. `tls`: the TLS contexts of `next`; null = keep the current ones
    // (same listeners and pools).
    bool publishGeneration(std::shared_ptr<const config::Config> next,
                           const control::RuntimeState& overrides, std::string* error,
                           const tls::Contexts* tls);
    bool dropPrivileges();
    void installSignals();
    void onSignal(int signum);
    void logSighupReload(const control::ReloadOutcome& outcome) const;
    // `handover`: an upgrade's new process serves now (no STOPPING=1: the service goes on).
    void beginShutdown(const char* why, bool handover = false);
    // After stop_grace (or at once): close listeners and drain.
    void beginDrain(const std::string& why);
    void onWorkerServing();
    void onWorkerExited();
    // "generation N, C connections, R requests": the service manager's STATUS= line.
    std::string statusLine() const;
    // [pool.discovery] found or lost servers: publish again with the current set.
    void onDiscoveryChange();

    std::shared_ptr<const config::Config> file_config_;  // as the file says
    std::shared_ptr<const config::Config> config_;       // running: the file plus runtime changes
    control::Commands commands_{*this};                  // holds the runtime overrides
    std::unique_ptr<control::ControlServer> control_;
    std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
    std::string config_path_;
    std::set<std::string> open_binds_;  // bind keys with a listening socket in every worker
    std::map<std::string, std::vector<int>> listener_fds_;  // bind key -> one fd per worker
    LaunchInfo launch_;
    Inheritance inherited_;
    std::unique_ptr<UpgradeChild> upgrade_;  // while an upgrade waits for its new process
    uint64_t generation_ = 1;
    unsigned worker_count_ = 0;
    routing::ServerStateRegistry registry_;
    std::shared_ptr<const routing::Snapshot> snapshot_;
    // Session ticket keys live as long as the process: resumption survives reloads.
    std::shared_ptr<tls::TicketKeys> ticket_keys_ = std::make_shared<tls::TicketKeys>();
    tls::Contexts tls_;  // of config_
    proxy::ProcessCounters counters_;
    // Counting scopes by listener, pool and pool/server name, kept across generations.
    std::unique_ptr<metrics::StatsRegistries> stats_;
    admin::ProcessFacts admin_facts_;
    std::unique_ptr<admin::AdminServer>
        admin_;  // [admin] listen; closed when the last worker exits
    loop::EventLoop loop_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::unique_ptr<loop::SignalWatch>> signals_;
    std::unique_ptr<loop::Timer> shutdown_timer_;
    std::unique_ptr<loop::Timer> grace_timer_;         // while stop_grace runs
    std::unique_ptr<health::HealthChecker> health_;    // active checks (main thread)
    std::unique_ptr<PoolWatch> pool_watch_;            // "no available server" warnings
    std::unique_ptr<discovery::Discovery> discovery_;  // DNS discovery (main thread, c-ares)
    unsigned running_workers_ = 0;
    unsigned serving_workers_ = 0;               // workers whose sockets all accept
    std::unique_ptr<loop::Timer> status_timer_;  // STATUS= refresh, under systemd only
    bool shutting_down_ = false;
    struct PendingReload {
        Derive derive;
        std::function<void(control::ReloadOutcome)> done;
    };
    std::thread reload_reader_;                   // reads the file for reading_reloads_
    std::vector<PendingReload> reading_reloads_;  // answered by the read under way
    std::vector<PendingReload> waiting_reloads_;  // asked for since it started: the next read
    bool handing_over_ = false;  // a graceful stop or an upgrade hand-over has begun
};

}  // namespace sluice::server
