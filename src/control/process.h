#pragma once
// The running process as control commands see it: what they read (status, the running snapshot,
// health checks) and the two ways they change it (publish a configuration, reload the file).
// Implemented by server::Supervisor on the main thread; tests use a fake. Main thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_diff.h"
#include "control/runtime_state.h"
#include "loop/uv_types.h"
#include "routing/snapshot.h"

namespace sluice::control {

struct ProcessStatus {
    int64_t pid = 0;
    int64_t uptime_s = 0;
    std::string config_file;
    uint64_t generation = 0;
    unsigned workers = 0;
    int64_t open_connections = 0;
    uint64_t accepted = 0;
    uint64_t requests = 0;        // served, all workers
    uint64_t client_aborts = 0;   // HTTP requests whose client left before the response (499)
    uint64_t refused_per_ip = 0;  // connections closed at once over max_connections_per_ip
    uint64_t rate_limited = 0;    // requests answered 429 by a [[listener.rate_limit]]
};

// What `show servers` prints about a server whose pool has an active health check.
struct CheckReport {
    std::string last_result;          // "" until the first check finished
    int64_t last_change_unix_ms = 0;  // wall clock of the last up/down change; 0 = never
    uint64_t checks = 0;              // finished checks (kept across reloads), failed included
    uint64_t checks_failed = 0;
};

// What a reload did (the `reload` reply, the SIGHUP log lines).
struct ReloadOutcome {
    bool ok = false;
    std::vector<std::string> errors;  // "FILE:LINE:COL: message", or a bind error
    uint64_t generation = 0;
    config::ConfigDiff diff;         // running configuration before -> after
    std::vector<std::string> notes;  // e.g. runtime-added servers now defined by the file
    // Parts that failed after the new generation went live (a log file that cannot be opened,
    // the state file that cannot be written): the reply is then an error all the same.
    std::vector<std::string> problems;
};

// What a binary upgrade did (the `upgrade` reply, the SIGUSR2 log line).
struct UpgradeOutcome {
    bool ok = false;
    std::string error;  // when !ok
    int64_t old_pid = 0;
    int64_t new_pid = 0;
    std::string version;  // of the new process
};

class Process {
  public:
    virtual ~Process() = default;

    virtual ProcessStatus status() const = 0;
    // The running generation: its configuration, pools and servers (never null).
    virtual std::shared_ptr<const routing::Snapshot> snapshot() const = 0;
    // The loop clock in ms: what ejection deadlines and availability are measured against.
    virtual uint64_t nowMs() const = 0;
    // nullopt when the server is unknown or its pool has no active check.
    virtual std::optional<CheckReport> lastCheck(const std::string& pool,
                                                 const std::string& server) const = 0;
    // The configuration as the file says, without runtime changes.
    virtual const config::Config& fileConfig() const = 0;

    // Makes `running` the running configuration, as a new generation; `overrides` are stored in
    // its servers (applyToServers) before any worker sees them. False with *error (a listener
    // that cannot be bound): then nothing changed.
    virtual bool publish(std::shared_ptr<const config::Config> running,
                         const RuntimeState& overrides, std::string* error) = 0;

    // Re-reads and checks the configuration file (certificates included). If it is valid, calls
    // `derive` with it for the running configuration and its overrides, publishes them as
    // publish() does and returns ok with the diff, the new generation and the notes (its own,
    // then derive's). On any error, lists every error and changes nothing.
    using Derive = std::function<Applied(const config::Config& file)>;
    virtual ReloadOutcome reload(const Derive& derive) = 0;
    // reload(), with the file read and checked off the main thread, which serves on meanwhile;
    // derive and `done` run later on the main thread (done exactly once). Reloads asked for
    // while a read is under way are answered by the next read, which starts after it.
    // The default: reload() at once.
    virtual void reloadLater(Derive derive, std::function<void(ReloadOutcome)> done) {
        done(reload(derive));
    }

    // Starts a zero-downtime binary upgrade (control.md); `done` runs later on the main thread,
    // exactly once, when the new process serves (and this one began to drain) or has failed
    // (this one serves on). The default: not supported.
    // The main thread's loop, for commands that wait (`wait server`); null: they are refused.
    virtual uv_loop_t* loop() { return nullptr; }

    virtual void upgrade(std::function<void(const UpgradeOutcome&)> done) {
        UpgradeOutcome outcome;
        outcome.error = "upgrade is not supported by this process";
        done(outcome);
    }
};

}  // namespace sluice::control
