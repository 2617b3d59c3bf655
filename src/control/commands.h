#pragma once
// The control commands (shared/design/control.md "Control socket protocol"): parses and checks
// one command line, reads or changes the running process through control::Process, keeps the
// runtime overrides and persists them in the state file, and formats the reply (text, or JSON
// with --json). Main thread only.
//
// - `reload` (and SIGHUP, through reload()) leaves the overrides exactly as they were when it
//   fails: the new ones are computed on a copy and kept only once the new generation is live.
// - `add` and `del` publish a new generation (apply() over the file); `set` and `clear` change
//   admin state and weight in place (applyToServers), without a new generation.
// - Every change is written to the state file (global.state_file of the running configuration);
//   a write that fails is logged and makes the reply an error (the change holds in the running
//   process until the next restart).
// - Replies are text, or JSON with --json for the commands that show something; an error is
//   "error: WHAT\n" plus one line per further error (reload), or with --json
//   {"error":"WHAT","errors":[...]} ("errors" only when there are more).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "control/control_server.h"
#include "control/process.h"
#include "control/runtime_state.h"
#include "loop/timer.h"

namespace sluice::control {

class Commands final : public CommandHandler {
  public:
    static constexpr uint64_t kIdlePollMs = 50;
    static constexpr uint64_t kDefaultWaitMs = 30000;
    explicit Commands(Process& process);
    Commands(const Commands&) = delete;
    Commands& operator=(const Commands&) = delete;

    // Reads the state file named by the file configuration and lays it over `file`: the
    // configuration to start with (its notes are for the log). A state file that cannot be read
    // is logged and the process starts without runtime changes.
    Applied start(const config::Config& file);

    // Every command that changes something is logged once at info with its outcome (the
    // reply's first line) and the caller's uid; a change that holds in the running process but
    // could not be written to the state file is an error reply.
    void setCaller(const Caller& caller) override { caller_ = caller; }
    // CommandHandler: one command line, already split into tokens.
    std::string execute(const std::vector<std::string>& args, bool json) override;
    // `upgrade` answers once the new process serves or has failed; `wait server POOL/NAME idle
    // [TIMEOUT]` once the server has no request or connection in flight (checked every
    // kIdlePollMs), or with "error: timeout ..." after TIMEOUT (default 30s).
    bool executeLater(const std::vector<std::string>& args, bool json, Reply reply) override;

    // Re-reads the configuration file and re-applies the overrides to it (`reload`, SIGHUP).
    ReloadOutcome reload();
    // The same, with the file read and checked off the main thread (Process::reloadLater):
    // `done` runs later on the main thread, the overrides already kept (or left, on failure).
    // What the control socket's `reload` and SIGHUP do.
    void reloadLater(std::function<void(const ReloadOutcome&)> done);

    const RuntimeState& overrides() const { return overrides_; }
    // Answers every pending `wait server` with an error (sluice stops) and frees its timer;
    // call before the loop ends.
    void cancelWaits(const std::string& why);

    // The `upgrade` reply for `outcome`: "ok: upgraded, pid OLD -> NEW (version V)" or
    // "error: upgrade failed: WHY" (as JSON with `json`).
    static std::string upgradeReply(const UpgradeOutcome& outcome, bool json);

  private:
    std::string run(const std::vector<std::string>& args, bool json);
    std::string reloadReply(bool json);
    std::string reloadReply(const ReloadOutcome& outcome, bool json);
    // What reload passes to Process: `next` receives the overrides for the new generation.
    Process::Derive reloadDerive(const std::shared_ptr<RuntimeState>& next);
    // After a reload: keeps `next` and saves the state file when it went live.
    void keepReloaded(RuntimeState next, ReloadOutcome* outcome);
    std::string serverCommand(const std::vector<std::string>& args);
    std::string addServer(const std::vector<std::string>& args, const std::string& pool,
                          const std::string& name);
    std::string deleteServer(const std::string& pool, const std::string& name);
    std::string clearServer(const std::string& pool, const std::string& name);
    std::string setServer(const std::vector<std::string>& args, const std::string& pool,
                          const std::string& name);
    // Publishes the file with `next` over it; on success `next` (as apply() leaves it) becomes
    // the overrides and is saved.
    bool republish(const RuntimeState& next, std::string* error);
    // Stores the overrides in the running servers and the state file.
    void commitInPlace();
    // False (and *save_error_ set) when the state file could not be written.
    bool save();
    // The audit line for `args` with reply `reply`.
    void audit(const std::vector<std::string>& args, const std::string& reply) const;

    bool waitIdle(const std::vector<std::string>& args, bool json, Reply reply);

    Process& process_;
    RuntimeState overrides_;
    Caller caller_;
    std::string save_error_;  // of the command being run
    // Pending `wait server` commands by serial; finished ones are freed at the next wait's
    // start or tick (never inside their own timer callback).
    struct Wait {
        std::unique_ptr<loop::Timer> timer;
        Reply reply;
        bool json = false;
    };
    std::map<uint64_t, Wait> waits_;
    std::vector<std::unique_ptr<loop::Timer>> finished_waits_;
    uint64_t next_wait_ = 0;
};

}  // namespace sluice::control
