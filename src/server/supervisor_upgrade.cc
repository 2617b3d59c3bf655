// Supervisor, binary upgrade half (control.md "Zero-downtime binary upgrade"): starting the
// successor with every listening socket, and, in the successor, taking over once it serves.

#include <unistd.h>

#include "base/log.h"
#include "server/supervisor.h"
#include "server/systemd_notify.h"

namespace sluice::server {

void Supervisor::upgrade(std::function<void(const control::UpgradeOutcome&)> done) {
    control::UpgradeOutcome outcome;
    outcome.old_pid = static_cast<int64_t>(getpid());
    if (shutting_down_) {
        outcome.error = "sluice is shutting down";
    } else if (upgrade_) {
        outcome.error = "an upgrade is already in progress (pid " +
                        std::to_string(static_cast<long>(upgrade_->pid())) + ")";
    } else if (serving_workers_ < worker_count_) {
        outcome.error = "this process does not serve yet";
    } else if (launch_.exe.empty()) {
        outcome.error = "the executable this process was started from is unknown";
    }
    if (!outcome.error.empty()) {
        LOG_INFO("upgrade refused: %s", outcome.error.c_str());
        done(outcome);
        return;
    }
    std::string health;
    if (health_) {
        for (const auto& server : health_->all()) {
            health +=
                server.pool + "\t" + server.server + "\t" + (server.up ? "up" : "down") + "\n";
        }
    }
    upgrade_ = std::make_unique<UpgradeChild>(
        loop_.raw(), [this, done](bool ok, pid_t pid, const std::string& text) {
            onUpgradeDone(ok, pid, text, done);
        });
    std::string error;
    if (!upgrade_->start(launch_, listener_fds_, control_ ? control_->listenerFd() : -1, health,
                         &error)) {
        upgrade_.reset();
        outcome.error = error;
        LOG_ERROR("upgrade failed: %s; still serving", error.c_str());
        done(outcome);
        return;
    }
    LOG_INFO("upgrade: started %s as pid %ld; serving on until it is ready", launch_.exe.c_str(),
             static_cast<long>(upgrade_->pid()));
}

void Supervisor::onUpgradeDone(bool ok, pid_t pid, const std::string& text,
                               const std::function<void(const control::UpgradeOutcome&)>& done) {
    // The child object goes on the next loop turn: this runs inside one of its callbacks.
    loop_.post([this] { upgrade_.reset(); });
    control::UpgradeOutcome outcome;
    outcome.old_pid = static_cast<int64_t>(getpid());
    if (!ok) {
        outcome.error = text;
        LOG_ERROR("upgrade failed: %s; still serving", text.c_str());
        done(outcome);
        return;
    }
    outcome.ok = true;
    outcome.new_pid = static_cast<int64_t>(pid);
    outcome.version = text;
    systemd::notify("MAINPID=" + std::to_string(static_cast<long>(pid)) +
                    "\nREADY=1\nSTATUS=upgraded: pid " + std::to_string(static_cast<long>(pid)) +
                    " serves");
    // The socket file stays: the new process serves it now.
    if (control_) control_->release();
    LOG_INFO("upgrade: pid %ld -> %ld (version %s) serves; this one stops accepting and drains",
             static_cast<long>(getpid()), static_cast<long>(pid), text.c_str());
    done(outcome);
    beginShutdown("upgrade", /*handover=*/true);
}

void Supervisor::takeOver() {
    inherited_.signalReady();
    const int control_fd = std::exchange(inherited_.control_fd, -1);
    if (control_fd >= 0) {
        std::string error;
        if (!control_->adopt(control_fd, config_->global.control_socket, &error)) {
            LOG_ERROR("%s", error.c_str());
        }
    }
    LOG_INFO("upgrade: this process (pid %ld) serves; the old one drains",
             static_cast<long>(getpid()));
}

}  // namespace sluice::server
