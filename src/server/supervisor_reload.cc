// Supervisor, reload half: publishing a new generation to the workers without dropping a
// connection, and re-reading the config file.

#include <unistd.h>

#include <variant>

#include "base/log.h"
#include "config/config_loader.h"
#include "net/acceptor.h"
#include "proxy/http/access_log.h"
#include "server/supervisor.h"
#include "server/systemd_notify.h"
#include "tls/contexts.h"

namespace sluice::server {

bool Supervisor::openSockets(const config::Config& config,
                             const std::vector<config::Address>& binds,
                             std::vector<std::vector<ListenerSocket>>& per_worker,
                             std::string* error) {
    per_worker.assign(worker_count_, {});
    // Listener `freebind`: its bind (and its redirect_http) may be an address not on this host.
    std::set<std::string> freebind;
    for (const auto& listener : config.listeners) {
        if (!listener.freebind) continue;
        freebind.insert(net::bindKey(listener.bind));
        if (listener.tls && listener.tls->redirect_http) {
            freebind.insert(net::bindKey(*listener.tls->redirect_http));
        }
    }
    for (const auto& bind : binds) {
        const std::string key = net::bindKey(bind);
        // Handed over by the process this one upgrades: used as they are, never bound again.
        std::vector<int> inherited;
        if (auto it = inherited_.listeners.find(key); it != inherited_.listeners.end()) {
            inherited = std::move(it->second);
            inherited_.listeners.erase(it);
        }
        for (unsigned w = 0; w < worker_count_; ++w) {
            int fd = w < inherited.size() ? inherited[w]
                                          : net::openListenSocket(bind, error, freebind.count(key));
            if (fd < 0) {
                for (auto& sockets : per_worker) {
                    for (const auto& socket : sockets) ::close(socket.fd);
                }
                per_worker.assign(worker_count_, {});
                return false;
            }
            per_worker[w].push_back({key, fd});
        }
    }
    for (const auto& sockets : per_worker) {
        for (const auto& socket : sockets) listener_fds_[socket.key].push_back(socket.fd);
    }
    return true;
}

std::vector<config::Address> bindsOf(const config::Config& config) {
    std::vector<config::Address> binds;
    for (const auto& listener : config.listeners) binds.push_back(listener.bind);
    for (const auto& listener : config.listeners) {
        if (listener.tls && listener.tls->redirect_http)
            binds.push_back(*listener.tls->redirect_http);
    }
    return binds;
}

bool Supervisor::publishGeneration(std::shared_ptr<const config::Config> next,
                                   const control::RuntimeState& overrides, std::string* error,
                                   const tls::Contexts* tls) {
    // Discovered servers join the running configuration here; config_ stays without them.
    std::shared_ptr<const config::Config> running = next;
    if (discovery_) {
        discovery_->configure(*running);
        next = discovery_->withServers(running, overrides.deleted);
    }
    // Listening sockets whose bind is unchanged stay open in every worker: no connection is
    // refused during a reload. New binds open first, so a bind error changes nothing.
    std::set<std::string> wanted;
    std::vector<config::Address> added_binds;
    for (const auto& bind : bindsOf(*next)) {
        const std::string key = net::bindKey(bind);
        if (wanted.insert(key).second && !open_binds_.count(key)) added_binds.push_back(bind);
    }
    std::vector<std::vector<ListenerSocket>> added;
    if (!openSockets(*next, added_binds, added, error)) return false;
    std::vector<std::string> removed;
    for (const auto& key : open_binds_) {
        if (!wanted.count(key)) removed.push_back(key);
    }

    if (tls) tls_ = *tls;
    auto snapshot = routing::buildSnapshot(next, ++generation_, registry_, tls_, stats_.get());
    snapshot_ = snapshot;
    // Runtime admin states and weights hold from the first request on.
    control::applyToServers(*snapshot, overrides);
    // Servers new to this generation start down when their pool has an active check; this
    // must happen before any worker can pick them.
    if (health_) health_->update(snapshot, false);
    if (discovery_) discovery_->adopt(snapshot);  // servers that left DNS drain
    for (unsigned w = 0; w < worker_count_; ++w) {
        workers_[w]->adopt(snapshot, std::move(added[w]), removed);
    }
    for (const auto& key : removed) listener_fds_.erase(key);
    open_binds_ = std::move(wanted);
    config_ = std::move(running);
    return true;
}

bool Supervisor::publish(std::shared_ptr<const config::Config> running,
                         const control::RuntimeState& overrides, std::string* error) {
    return publishGeneration(std::move(running), overrides, error, nullptr);
}

std::vector<std::string> applyLogConfig(const config::LogConfig& config) {
    // Log files reopen on every reload (and on SIGUSR1), so logrotate's move is picked up.
    log::setLevel(config.level);
    std::vector<std::string> problems;
    std::string error;
    if (!log::setTarget(config.error_log, &error)) problems.push_back("error_log: " + error);
    if (!proxy::accessLog().open(config, &error)) problems.push_back("access_log: " + error);
    for (const auto& problem : problems) LOG_ERROR("%s", problem.c_str());
    return problems;
}

control::ReloadOutcome Supervisor::reload(const Derive& derive) {
    if (shutting_down_) return shuttingDownOutcome();
    // The service manager sees the reload from start to end, failed or not.
    systemd::notify(systemd::reloadingState());
    control::ReloadOutcome outcome = applyReload(config::loadConfig(config_path_), derive);
    systemd::notify("READY=1\nSTATUS=" + statusLine());
    return outcome;
}

void Supervisor::reloadLater(Derive derive, std::function<void(control::ReloadOutcome)> done) {
    if (shutting_down_) {
        done(shuttingDownOutcome());
        return;
    }
    waiting_reloads_.push_back(PendingReload{std::move(derive), std::move(done)});
    if (!reload_reader_.joinable()) startReloadRead();
}

void Supervisor::startReloadRead() {
    // This read answers every reload asked for so far: it starts after all of them.
    reading_reloads_ = std::move(waiting_reloads_);
    waiting_reloads_.clear();
    systemd::notify(systemd::reloadingState());
    // loadConfig touches nothing of the running process (it reads the file and resolves
    // hostnames), so it runs on its own thread: on the main thread, parsing a large file held
    // up the control socket and the health checks, whose timeouts then fired on responses that
    // had arrived in time but were not read yet.
    reload_reader_ = std::thread([this, path = config_path_] {
        auto loaded = std::make_shared<Loaded>(config::loadConfig(path));
        loop_.post([this, loaded] { onReloadRead(std::move(*loaded)); });
    });
}

void Supervisor::onReloadRead(Loaded loaded) {
    // Run by the final loop turn of ~Supervisor, which has joined the reader: sluice stops.
    if (!reload_reader_.joinable()) return;
    reload_reader_.join();  // it has posted this task: it is ending
    std::vector<PendingReload> answered = std::move(reading_reloads_);
    reading_reloads_.clear();
    control::ReloadOutcome outcome;
    if (shutting_down_) {
        outcome = shuttingDownOutcome();  // STOPPING=1 is out: no READY=1 after it
    } else {
        outcome = applyReload(std::move(loaded), answered[0].derive);
        systemd::notify("READY=1\nSTATUS=" + statusLine());
    }
    for (auto& reload : answered) reload.done(outcome);
    if (waiting_reloads_.empty()) return;
    if (!shutting_down_) {
        startReloadRead();
        return;
    }
    std::vector<PendingReload> refused = std::move(waiting_reloads_);
    waiting_reloads_.clear();
    for (auto& reload : refused) reload.done(shuttingDownOutcome());
}

control::ReloadOutcome Supervisor::shuttingDownOutcome() {
    control::ReloadOutcome outcome;
    outcome.errors.push_back("sluice is shutting down");
    return outcome;
}

control::ReloadOutcome Supervisor::applyReload(Loaded loaded, const Derive& derive) {
    const std::string listen_before = config_->admin.listen ? config_->admin.listen->text : "";
    control::ReloadOutcome outcome = applyFile(std::move(loaded), derive);
    ++(outcome.ok ? admin_facts_.reloads_ok : admin_facts_.reloads_error);
    const std::string listen_after = config_->admin.listen ? config_->admin.listen->text : "";
    if (outcome.ok && listen_after != listen_before) {
        outcome.notes.push_back("admin.listen changed: takes effect at the next restart");
    }
    return outcome;
}

control::ReloadOutcome Supervisor::applyFile(Loaded loaded, const Derive& derive) {
    control::ReloadOutcome outcome;
    if (auto* errors = std::get_if<config::ConfigErrors>(&loaded)) {
        outcome.errors = std::move(errors->messages);
        return outcome;
    }
    auto file = std::make_shared<const config::Config>(std::move(std::get<config::Config>(loaded)));
    // Certificates, keys and CA files are re-read now; any problem keeps the old ones serving.
    auto built = tls::buildContexts(*file, ticket_keys_);
    if (auto* errors = std::get_if<std::vector<std::string>>(&built)) {
        outcome.errors = std::move(*errors);
        return outcome;
    }
    if (file->global.workers != file_config_->global.workers) {
        outcome.notes.push_back("global.workers changed: takes effect at the next restart");
    }
    control::Applied next = derive(*file);
    outcome.notes.insert(outcome.notes.end(), next.notes.begin(), next.notes.end());
    outcome.diff = config::diffConfigs(*config_, *next.config);
    std::string error;
    if (!publishGeneration(std::move(next.config), next.overrides, &error,
                           &std::get<tls::Contexts>(built))) {
        outcome.errors.push_back(error);
        return outcome;
    }
    file_config_ = std::move(file);
    outcome.problems = applyLogConfig(config_->log);
    outcome.ok = true;
    outcome.generation = generation_;
    return outcome;
}

}  // namespace sluice::server
