#pragma once
// Active health checks for every server of every pool with a [pool.health_check], once per
// process, on the main thread's loop (not per worker).
//
// Contract:
// - Main thread only (the loop passed in). Verdicts are published through
//   upstream::ServerState::healthy (an atomic the workers read lock-free) and logged at warn:
//   `pool app server app2 is DOWN: HTTP 503 from /healthz (3/3 failed)`,
//   `pool app server app2 is UP: HTTP 200 (2/2 passed)`.
// - update(snapshot, initial) adopts a configuration generation; call it at start
//   (initial = true) and after every reload / runtime server change (initial = false), BEFORE the
//   snapshot is published to the workers: it synchronously marks servers new to the checker
//   down, so no worker ever sees a new server as up before its first passing check.
//     * initial: every checked server begins up; its first check runs at once and a failure
//       marks it down immediately (no `fall` count).
//     * later: a server already known (same pool + name, same ServerState) keeps its state,
//       runs and counters; a server the previous generation did not have begins down and joins
//       after its first passing check (also at once). A server that was present but whose pool
//       had no check until now keeps its current state and is checked at once like at start.
//     * servers of pools without a check are set up (no check = always up) and not probed;
//       servers gone from the snapshot are dropped (a running check is cancelled).
//   Changed check settings apply from the next check (a running check with the old settings is
//   cancelled when type, path, host, expect_status or timeout changed).
// - Servers whose admin state is maint are not checked; their health stays as it is. A check
//   that finishes after the server entered maint is discarded.
// - A check still running when the next one is due makes that slot skipped (no overlap).
// - stop() cancels every check and closes every handle (their close callbacks run on the next
//   loop iteration, so the loop can still run dry); afterwards update() does nothing.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.h"
#include "health/check_scheduler.h"
#include "health/health_state.h"
#include "health/probe.h"
#include "loop/timer.h"
#include "loop/uv_types.h"
#include "routing/snapshot.h"
#include "upstream/server.h"

namespace sluice::health {

// What `show servers` / `show stats` need about one checked server.
struct ServerHealth {
    std::string pool;
    std::string server;
    bool up = true;  // the checker's verdict (mirrors ServerState::healthy)
    bool check_running = false;
    std::string last_result;  // "" until the first check finished
    bool last_passed = false;
    int64_t last_check_unix_ms = 0;   // wall clock when the last check finished; 0 = never
    int64_t last_change_unix_ms = 0;  // wall clock of the last up/down change, or when the
                                      // checker began tracking the server (changes == 0)
    unsigned consecutive_passes = 0;
    unsigned consecutive_fails = 0;
    unsigned rise = 0;
    unsigned fall = 0;
    uint64_t checks = 0;  // finished checks
    uint64_t checks_failed = 0;
    uint64_t went_up = 0;  // state changes
    uint64_t went_down = 0;
};

class HealthChecker {
  public:
    explicit HealthChecker(uv_loop_t* loop, uint64_t seed = 0x5eed);
    ~HealthChecker();
    HealthChecker(const HealthChecker&) = delete;
    HealthChecker& operator=(const HealthChecker&) = delete;

    void update(std::shared_ptr<const routing::Snapshot> snapshot, bool initial);
    // Before the initial update(): the health a checked server (pool, name) begins with instead
    // of up (a binary upgrade carries the old process's verdicts over).
    void seedInitial(std::map<std::pair<std::string, std::string>, bool> health) {
        initial_health_ = std::move(health);
    }
    void stop();

    // nullopt when the server is unknown or its pool has no active check.
    std::optional<ServerHealth> health(const std::string& pool, const std::string& server) const;
    // Every checked server, in configuration order.
    std::vector<ServerHealth> all() const;

  private:
    using TargetId = CheckScheduler::TargetId;

    // Everything that shapes one probe; a change rebuilds the probe.
    struct ProbeSpec {
        config::HealthCheckType type = config::HealthCheckType::kHttp;
        std::string path;
        std::string host;  // Host header value
        std::vector<std::pair<int, int>> expect_status;
        config::Duration timeout{0};
        // The pool's TLS to its servers: checks speak TLS too (null: plain).
        std::shared_ptr<const tls::ClientContext> tls;
        std::string tls_host;
        config::ProxyProtocol proxy = config::ProxyProtocol::kNone;  // the pool's send_proxy
        bool operator==(const ProbeSpec&) const = default;
    };

    struct Target {
        TargetId id = 0;
        std::shared_ptr<upstream::ServerState> state;
        config::Address address;
        ProbeSpec spec;
        uint64_t interval_ms = 0;
        HealthState health;
        std::unique_ptr<Probe> probe;  // reused from check to check
        ServerHealth info;
    };

    static ProbeSpec specFor(const config::HealthCheckConfig& check,
                             const config::ServerConfig& server, const upstream::Pool& pool);
    std::unique_ptr<Probe> makeProbe(const ProbeSpec& spec);
    void arm();
    void onTimer();
    void startCheck(Target& target);
    void onResult(TargetId id, ProbeResult result);

    uv_loop_t* loop_;
    CheckScheduler scheduler_;
    std::unique_ptr<loop::Timer> timer_;
    std::map<std::pair<std::string, std::string>, TargetId> by_name_;
    std::unordered_map<TargetId, std::unique_ptr<Target>> targets_;
    std::vector<TargetId> order_;  // configuration order of the current generation
    // ServerStates of the previous generation (all pools): tells "present" from "added". Held,
    // so that an address can never be reused by a new state while it is listed here.
    std::set<std::shared_ptr<upstream::ServerState>> known_;
    TargetId next_id_ = 1;
    bool stopped_ = false;
    std::map<std::pair<std::string, std::string>, bool> initial_health_;
};

}  // namespace sluice::health
