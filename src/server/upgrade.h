#pragma once
// Zero-downtime binary upgrade (shared/design/control.md "Zero-downtime binary upgrade"), both
// halves: the running (old) process starts its successor with an UpgradeChild, and the new
// process reads what it inherited with Inheritance::fromEnvironment().
//
// Hand-over protocol (all through inherited descriptors named in the environment):
// - SLUICE_UPGRADE_FDS="KEY=FD,FD;KEY=FD,..."  every listening socket, by bind key
//   (net::bindKey), one per old worker; the new process binds none of these again.
// - SLUICE_UPGRADE_CONTROL_FD=FD  the control socket's listening socket (absent: none).
// - SLUICE_UPGRADE_HEALTH_FD=FD   a memfd with one "POOL\tSERVER\tup|down" line per checked
//   server: the health the new process starts from.
// - SLUICE_UPGRADE_READY_FD=FD    write end of a pipe: the new process writes
//   "ready PID VERSION\n" once every worker serves, then closes it. EOF before that line (it
//   exited) or no line within kReadyTimeoutMs (it is killed) is a failed upgrade: the old process
//   keeps serving.
// Runtime changes travel in the state file, which the new process reads at start as usual.

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "loop/fd_watch.h"
#include "loop/timer.h"
#include "loop/uv_types.h"

namespace sluice::server {

// How this process was started: what an upgrade executes again. `exe` is /proc/self/exe read
// at start, so a binary replaced on disk since then is the one started.
struct LaunchInfo {
    std::string exe;
    std::vector<std::string> argv;
    static LaunchInfo current(int argc, char** argv);
};

using HealthSeeds = std::map<std::pair<std::string, std::string>, bool>;  // (pool, server) -> up

// What a process started by an upgrade received. Empty (active() false) for a normal start.
struct Inheritance {
    std::map<std::string, std::vector<int>> listeners;  // bind key -> fds
    int control_fd = -1;
    int ready_fd = -1;
    HealthSeeds health;
    bool active() const { return ready_fd >= 0; }

    // Reads and removes the SLUICE_UPGRADE_* variables; marks every inherited fd close-on-exec.
    // A malformed value is an error (returns false with *error).
    static bool fromEnvironment(Inheritance* out, std::string* error);
    // Tells the old process that this one serves (writes the ready line, closes the pipe).
    void signalReady();
};

// The old process's side of one upgrade: forks and executes `launch` with the descriptors
// inherited, waits (on `loop`, without blocking it) for the ready line. `done` runs once on the
// loop thread: (true, pid, version) or (false, 0, error text). Destroying it before then kills
// and reaps the child.
class UpgradeChild {
  public:
    static constexpr uint64_t kReadyTimeoutMs = 60000;
    using Done = std::function<void(bool ok, pid_t pid, const std::string& version_or_error)>;

    UpgradeChild(uv_loop_t* loop, Done done);
    ~UpgradeChild();
    UpgradeChild(const UpgradeChild&) = delete;
    UpgradeChild& operator=(const UpgradeChild&) = delete;

    // False with *error when the child could not even be started (then `done` never runs).
    bool start(const LaunchInfo& launch, const std::map<std::string, std::vector<int>>& listeners,
               int control_fd, const std::string& health_text, std::string* error);
    pid_t pid() const { return pid_; }
    // Gives up on a new process not ready yet: kills and reaps it; `done` gets (false, why).
    void cancel(const std::string& why) { fail(why); }

  private:
    void readSome();
    void fail(const std::string& why);
    void finish(bool ok, const std::string& text);
    void closePipe();

    uv_loop_t* loop_;
    Done done_;
    pid_t pid_ = -1;
    int read_fd_ = -1;
    std::unique_ptr<loop::FdWatch> watch_;  // read_fd_, while it is open
    std::string received_;
    loop::Timer timeout_;
    bool finished_ = false;
};

}  // namespace sluice::server
