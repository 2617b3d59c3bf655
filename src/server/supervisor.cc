#include "server/supervisor.h"

#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <thread>
#include <variant>

#include "base/log.h"
#include "net/acceptor.h"
#include "proxy/http/access_log.h"
#include "server/systemd_notify.h"

namespace sluice::server {

Supervisor::Supervisor(config::Config config, LaunchInfo launch, Inheritance inherited)
    : config_(std::make_shared<const config::Config>(std::move(config))),
      launch_(std::move(launch)),
      inherited_(std::move(inherited)) {}

Supervisor::~Supervisor() {
    // A reload still reading the file (sluice stopped meanwhile: the loop ran dry) is waited
    // for; the task it posts finds the reader joined and does nothing (onReloadRead).
    if (reload_reader_.joinable()) reload_reader_.join();
    // Reloads still waiting for that read are answered now, while their control clients are
    // alive: a callback left pending kept its client (and so the loop) from closing.
    for (auto* reloads : {&reading_reloads_, &waiting_reloads_}) {
        std::vector<PendingReload> refused = std::move(*reloads);
        reloads->clear();
        for (auto& reload : refused) reload.done(shuttingDownOutcome());
    }
    upgrade_.reset();
    pool_watch_.reset();
    commands_.cancelWaits("sluice is stopping");  // its timers close on this loop
    control_.reset();
    admin_.reset();
    discovery_.reset();
    health_.reset();  // close its handles before the final loop turn below
    {
        // Closing the last watch of a signal restores its default action; blocked meanwhile and
        // ignored after, a late stop signal cannot kill a process that is already exiting.
        sigset_t stops, old;
        sigemptyset(&stops);
        for (int signum : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&stops, signum);
        pthread_sigmask(SIG_BLOCK, &stops, &old);
        signals_.clear();  // libuv restores each default action as it closes the last watch
        for (int signum : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) ::signal(signum, SIG_IGN);
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
    shutdown_timer_.reset();
    grace_timer_.reset();
    status_timer_.reset();
    loop_.runNoWait();  // the close callbacks of what was closed above
}

bool Supervisor::dropPrivileges() {
    const auto& global = config_->global;
    if (geteuid() != 0 || (global.user.empty() && global.group.empty())) return true;
    gid_t gid = 0;
    if (!global.group.empty()) {
        group* gr = getgrnam(global.group.c_str());
        if (!gr) {
            LOG_ERROR("group %s: no such group", global.group.c_str());
            return false;
        }
        gid = gr->gr_gid;
    }
    if (!global.user.empty()) {
        passwd* pw = getpwnam(global.user.c_str());
        if (!pw) {
            LOG_ERROR("user %s: no such user", global.user.c_str());
            return false;
        }
        if (global.group.empty()) gid = pw->pw_gid;
        if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
            LOG_ERROR("cannot drop privileges to %s: %s", global.user.c_str(),
                      std::strerror(errno));
            return false;
        }
    } else if (setgroups(0, nullptr) != 0 || setgid(gid) != 0) {
        LOG_ERROR("cannot switch to group %s: %s", global.group.c_str(), std::strerror(errno));
        return false;
    }
    return true;
}

namespace {

// Every client connection is a descriptor (two while proxied): the soft limit (often 1,024) goes
// up to the hard one, as nginx's worker_rlimit_nofile and HAProxy's ulimit-n do, so
// max_connections rather than the shell's default decides how many clients are held.
void raiseDescriptorLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    const rlim_t soft = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        LOG_WARN("cannot raise the descriptor limit from %llu: %s",
                 static_cast<unsigned long long>(soft), std::strerror(errno));
    }
}

}  // namespace

int Supervisor::run() {
    std::signal(SIGPIPE, SIG_IGN);
    raiseDescriptorLimit();
    worker_count_ = config_->global.workers;
    if (worker_count_ == 0) worker_count_ = std::max(1u, std::thread::hardware_concurrency());
    if (inherited_.active() && !inherited_.listeners.empty()) {
        // Every inherited socket keeps a worker accepting on it (a closed one would drop the
        // connections in its queue): as many workers as the old process had.
        const auto inherited_workers =
            static_cast<unsigned>(inherited_.listeners.begin()->second.size());
        if (inherited_workers != worker_count_) {
            LOG_WARN("global.workers changed: takes effect at the next restart (%u workers)",
                     inherited_workers);
            worker_count_ = inherited_workers;
        }
    }
    config_path_ = config_->path;
    file_config_ = config_;
    {
        control::Applied applied = commands_.start(*file_config_);
        for (const auto& note : applied.notes) LOG_WARN("state_file: %s", note.c_str());
        config_ = std::move(applied.config);
    }

    {
        auto built = tls::buildContexts(*config_, ticket_keys_);
        if (auto* errors = std::get_if<std::vector<std::string>>(&built)) {
            for (const auto& message : *errors) LOG_ERROR("%s", message.c_str());
            return 1;
        }
        tls_ = std::move(std::get<tls::Contexts>(built));
    }
    stats_ = std::make_unique<metrics::StatsRegistries>(worker_count_);
    snapshot_ = routing::buildSnapshot(config_, generation_, registry_, tls_, stats_.get());
    control::applyToServers(*snapshot_, commands_.overrides());
    const std::vector<config::Address> binds = bindsOf(*config_);
    std::vector<std::vector<ListenerSocket>> sockets;
    std::string error;
    if (!openSockets(*config_, binds, sockets, &error)) {
        LOG_ERROR("%s", error.c_str());
        return 1;
    }
    for (const auto& bind : binds) open_binds_.insert(net::bindKey(bind));
    // Inherited sockets of listeners the new configuration no longer has.
    for (auto& [key, fds] : inherited_.listeners) {
        for (int fd : fds) ::close(fd);
    }
    inherited_.listeners.clear();
    if (!startAdmin(&error)) {
        LOG_ERROR("%s", error.c_str());
        return 1;
    }
    if (!dropPrivileges()) return 1;

    control_ = std::make_unique<control::ControlServer>(loop_.raw(), commands_);
    const std::string& socket_path = config_->global.control_socket;
    const std::string socket_dir = socket_path.substr(0, socket_path.rfind('/') + 1);
    struct stat dir_stat {};
    if (inherited_.control_fd >= 0) {
        // Adopted from the old process once this one serves (takeOver()).
    } else if (!socket_dir.empty() && ::stat(socket_dir.c_str(), &dir_stat) != 0) {
        // No such directory (e.g. /run/sluice outside systemd): serve anyway; SIGHUP still
        // reloads. Anything else wrong with the socket (another sluice on it) is fatal.
        LOG_WARN("control socket %s disabled: directory %s does not exist", socket_path.c_str(),
                 socket_dir.c_str());
    } else if (!control_->listen(socket_path, config_->global.control_socket_mode, &error)) {
        LOG_ERROR("%s", error.c_str());
        return 1;
    }
    installSignals();
    for (unsigned w = 0; w < worker_count_; ++w) {
        workers_.push_back(std::make_unique<Worker>(w, counters_, config_->global.max_connections,
                                                    snapshot_, std::move(sockets[w])));
    }
    // Active checks on this (main) loop; servers present at start begin up.
    health_ = std::make_unique<health::HealthChecker>(loop_.raw());
    health_->seedInitial(std::move(inherited_.health));  // from the process this one upgrades
    health_->update(snapshot_, true);
    pool_watch_ = std::make_unique<PoolWatch>(loop_.raw(), [this] { return snapshot_; });
    // DNS discovery on this loop too; its servers join by publishing a new generation.
    discovery_ =
        std::make_unique<discovery::Discovery>(loop_.raw(), [this] { onDiscoveryChange(); });
    discovery_->configure(*config_);
    discovery_->adopt(snapshot_);
    running_workers_ = worker_count_;
    for (auto& worker : workers_) {
        worker->start([this] { loop_.post([this] { onWorkerExited(); }); },
                      [this] { loop_.post([this] { onWorkerServing(); }); });
    }
    LOG_INFO("sluice started: %zu listeners, %zu pools, %zu servers, %u workers, pid %d",
             config_->listeners.size(), config_->pools.size(), config_->serverCount(),
             worker_count_, static_cast<int>(getpid()));
    for (const auto& listener : config_->listeners) {
        LOG_INFO("listener %s: %s on %s", listener.name.c_str(),
                 std::string(nameOf(listener.mode)).c_str(), listener.bind.text.c_str());
    }

    // The task queue alone does not keep the loop alive (its handle is unref'd): the signal
    // handles do, until the last worker has exited and onWorkerExited() closes them.
    loop_.run();
    for (auto& worker : workers_) worker->join();
    workers_.clear();
    LOG_INFO("sluice stopped");
    return 0;
}

void Supervisor::installSignals() {
    for (int signum : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) {
        signals_.push_back(std::make_unique<loop::SignalWatch>(loop_.raw(), signum,
                                                               [this](int num) { onSignal(num); }));
    }
}

void Supervisor::logSighupReload(const control::ReloadOutcome& outcome) const {
    if (outcome.ok) {
        LOG_INFO("SIGHUP: configuration reloaded, generation %llu%s",
                 static_cast<unsigned long long>(outcome.generation),
                 outcome.problems.empty() ? "" : ", but some parts failed (see above)");
        return;
    }
    for (const auto& e : outcome.errors) LOG_ERROR("SIGHUP reload: %s", e.c_str());
    LOG_ERROR("SIGHUP: configuration not reloaded (%zu errors); still serving generation %llu",
              outcome.errors.size(), static_cast<unsigned long long>(generation_));
}

void Supervisor::onSignal(int signum) {
    switch (signum) {
        case SIGTERM:
            beginShutdown("SIGTERM");
            break;
        case SIGINT:
            beginShutdown("SIGINT");
            break;
        case SIGHUP:
            commands_.reloadLater(
                [this](const control::ReloadOutcome& outcome) { logSighupReload(outcome); });
            break;
        case SIGUSR1: {
            std::string error;
            bool ok = true;
            if (!log::reopen(&error)) {
                LOG_ERROR("SIGUSR1: reopening error log: %s", error.c_str());
                ok = false;
            }
            if (!proxy::accessLog().reopen(&error)) {
                LOG_ERROR("SIGUSR1: reopening access log: %s", error.c_str());
                ok = false;
            }
            if (ok) {
                LOG_INFO("SIGUSR1: log files reopened");
            } else {
                LOG_ERROR(
                    "SIGUSR1: log files not all reopened (see above); the old ones stay open");
            }
            break;
        }
        case SIGUSR2:
            upgrade([](const control::UpgradeOutcome& outcome) {
                if (outcome.ok) {
                    LOG_INFO("SIGUSR2: upgraded, pid %lld -> %lld (version %s)",
                             static_cast<long long>(outcome.old_pid),
                             static_cast<long long>(outcome.new_pid), outcome.version.c_str());
                } else {
                    LOG_ERROR("SIGUSR2: upgrade failed: %s; still serving", outcome.error.c_str());
                }
            });
            break;
        default:
            break;
    }
}

void Supervisor::onDiscoveryChange() {
    if (shutting_down_) return;
    // `set server` on a discovered server lasts until it leaves DNS (config.md).
    for (const auto& [pool, name] : discovery_->takeForgotten()) {
        if (control::findOverride(commands_.overrides(), pool, name)) {
            commands_.execute({"clear", "server", pool + "/" + name}, false);
        }
    }
    std::string error;
    if (!publish(config_, commands_.overrides(), &error)) {
        LOG_ERROR("discovery: servers not updated: %s", error.c_str());
    }
}

void Supervisor::beginShutdown(const char* why, bool handover) {
    if (shutting_down_) {
        LOG_WARN("%s again: closing remaining connections now", why);
        if (grace_timer_ && grace_timer_->active()) {
            grace_timer_.reset();
            beginDrain(why);
        }
        for (auto& worker : workers_) worker->abort();
        return;
    }
    shutting_down_ = true;
    handing_over_ = true;
    if (!handover) systemd::notify("STOPPING=1\nSTATUS=stopping: " + std::string(why));
    if (upgrade_ && !handover) upgrade_->cancel("sluice is shutting down");
    status_timer_.reset();
    const auto grace = static_cast<uint64_t>(config_->global.stop_grace.count());
    // The new process answers the admin endpoint now (SO_REUSEPORT shares its port): the old
    // one leaves it, or a share of the checks would see its /healthz 503 during an upgrade.
    if (handover) admin_.reset();
    if (handover || grace == 0) {
        beginDrain(why);
        return;
    }
    // stop_grace: accept and serve as usual while /healthz says 503, so that a balancer in
    // front moves traffic away before the listeners close.
    LOG_INFO("%s: graceful stop; serving on for stop_grace %llums, then draining", why,
             static_cast<unsigned long long>(grace));
    grace_timer_ = std::make_unique<loop::Timer>(loop_.raw(), [this, reason = std::string(why)] {
        beginDrain(reason + " (after stop_grace)");
    });
    grace_timer_->start(grace);
}

void Supervisor::beginDrain(const std::string& why) {
    commands_.cancelWaits("sluice is stopping");
    pool_watch_.reset();              // its timer must not keep the main loop alive
    if (control_) control_->close();  // the main loop must be able to run dry
    discovery_.reset();               // its timers and query sockets too
    if (health_) health_->stop();     // no new checks; handles close on the next loop turn
    const auto timeout = static_cast<uint64_t>(config_->global.shutdown_timeout.count());
    LOG_INFO("%s: graceful stop, draining for up to %llums", why.c_str(),
             static_cast<unsigned long long>(timeout));
    for (auto& worker : workers_) worker->stop();
    shutdown_timer_ = std::make_unique<loop::Timer>(loop_.raw(), [this] {
        LOG_WARN("shutdown_timeout reached: closing %lld remaining connections",
                 static_cast<long long>(counters_.open_connections.load()));
        for (auto& worker : workers_) worker->abort();
    });
    shutdown_timer_->start(timeout);
}

void Supervisor::onWorkerServing() {
    if (++serving_workers_ != worker_count_ || shutting_down_) return;
    // Every listener is bound (before the workers started) and every worker accepts on all of
    // its sockets: only now is the service ready.
    LOG_INFO("sluice ready: %u workers serving", worker_count_);
    if (inherited_.active()) {
        takeOver();  // the old process tells systemd (MAINPID=, READY=1)
    } else {
        systemd::notify("READY=1\nSTATUS=" + statusLine());
    }
    if (systemd::enabled()) {
        status_timer_ = std::make_unique<loop::Timer>(
            loop_.raw(), [this] { systemd::notify("STATUS=" + statusLine()); });
        status_timer_->start(5000, 5000);
    }
}

std::string Supervisor::statusLine() const {
    return "generation " + std::to_string(generation_) + ", " +
           std::to_string(counters_.open_connections.load()) + " connections, " +
           std::to_string(counters_.requests.load()) + " requests";
}

void Supervisor::onWorkerExited() {
    if (--running_workers_ > 0) return;
    // Every worker is done: let the main loop run dry.
    shutdown_timer_.reset();
    status_timer_.reset();
    admin_.reset();
    // The watches stay (caught, doing nothing) but let the loop run dry: destroying them would
    // restore the default actions, and a stop signal arriving before exit would kill the
    // process instead of finding nothing left to stop.
    for (auto& watch : signals_) watch->ignore();
}

control::ProcessStatus Supervisor::status() const {
    control::ProcessStatus s;
    s.pid = static_cast<int64_t>(getpid());
    s.uptime_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                  started_at_)
                     .count();
    s.config_file = config_path_;
    s.generation = generation_;
    s.workers = worker_count_;
    s.open_connections = counters_.open_connections.load();
    s.accepted = counters_.accepted.load();
    s.client_aborts = counters_.client_aborts.load();
    s.refused_per_ip = counters_.refused_per_ip.load();
    s.rate_limited = counters_.rate_limited.load();
    s.requests = counters_.requests.load();
    return s;
}

std::optional<control::CheckReport> Supervisor::lastCheck(const std::string& pool,
                                                          const std::string& server) const {
    const auto health = health_ ? health_->health(pool, server) : std::nullopt;
    if (!health) return std::nullopt;
    return control::CheckReport{health->last_result, health->last_change_unix_ms, health->checks,
                                health->checks_failed};
}

}  // namespace sluice::server
