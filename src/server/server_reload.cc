// Server, reload half: re-reading the config file and publishing a new generation to the
// workers without dropping a connection.

#include <unistd.h>

#include <variant>

#include "base/log.h"
#include "config/config_loader.h"
#include "net/acceptor.h"
#include "proxy/http/access_log.h"
#include "server/server.h"
#include "tls/contexts.h"

namespace sluice::server {

bool Server::openSockets(const std::vector<config::Address>& binds,
                         std::vector<std::vector<ListenerSocket>>& per_worker, std::string* error) {
    per_worker.assign(worker_count_, {});
    for (const auto& bind : binds) {
        for (unsigned w = 0; w < worker_count_; ++w) {
            int fd = net::openListenSocket(bind, error);
            if (fd < 0) {
                for (auto& sockets : per_worker) {
                    for (const auto& socket : sockets) ::close(socket.fd);
                }
                per_worker.assign(worker_count_, {});
                return false;
            }
            per_worker[w].push_back({net::bindKey(bind), fd});
        }
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

bool Server::publish(std::shared_ptr<const config::Config> next, std::string* error,
                     const tls::Contexts* tls) {
    // Listening sockets whose bind is unchanged stay open in every worker: no connection is
    // refused during a reload. New binds open first, so a bind error changes nothing.
    std::set<std::string> wanted;
    std::vector<config::Address> added_binds;
    for (const auto& bind : bindsOf(*next)) {
        const std::string key = net::bindKey(bind);
        if (wanted.insert(key).second && !open_binds_.count(key)) added_binds.push_back(bind);
    }
    std::vector<std::vector<ListenerSocket>> added;
    if (!openSockets(added_binds, added, error)) return false;
    std::vector<std::string> removed;
    for (const auto& key : open_binds_) {
        if (!wanted.count(key)) removed.push_back(key);
    }

    if (tls) tls_ = *tls;
    auto snapshot = routing::buildSnapshot(next, ++generation_, registry_, tls_);
    snapshot_ = snapshot;
    applyOverrides();  // runtime admin states and weights hold from the first request on
    // Servers new to this generation start down when their pool has an active check; this
    // must happen before any worker can pick them.
    if (health_) health_->update(snapshot, false);
    for (unsigned w = 0; w < worker_count_; ++w) {
        workers_[w]->adopt(snapshot, std::move(added[w]), removed);
    }
    open_binds_ = std::move(wanted);
    config_ = std::move(next);
    return true;
}

void applyLogConfig(const config::LogConfig& config) {
    // Log files reopen on every reload (and on SIGUSR1), so logrotate's move is picked up.
    static constexpr log::Level kLevels[] = {log::Level::kError, log::Level::kWarn,
                                             log::Level::kInfo, log::Level::kDebug};
    log::setLevel(kLevels[static_cast<int>(config.level)]);
    std::string error;
    if (!log::setTarget(config.error_log, &error)) LOG_ERROR("error_log: %s", error.c_str());
    if (!proxy::accessLog().open(config, &error)) LOG_ERROR("access_log: %s", error.c_str());
}

Server::ReloadOutcome Server::reload() {
    ReloadOutcome outcome;
    if (shutting_down_) {
        outcome.errors.push_back("sluice is shutting down");
        return outcome;
    }
    auto loaded = config::loadConfig(config_path_);
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
    // A reload re-reads what exists from the file: runtime deletions of file servers end here.
    auto saved_deleted = std::move(deleted_);
    deleted_.clear();
    auto saved_runtime = runtime_;
    auto next = withRuntimeServers(*file, &outcome.notes);
    outcome.diff = config::diffConfigs(*config_, *next);
    std::string error;
    if (!publish(std::move(next), &error, &std::get<tls::Contexts>(built))) {
        deleted_ = std::move(saved_deleted);
        runtime_ = std::move(saved_runtime);
        outcome.errors.push_back(error);
        return outcome;
    }
    file_config_ = std::move(file);
    if (!(runtime_ == saved_runtime)) saveRuntimeState(&error);
    applyLogConfig(config_->log);
    outcome.ok = true;
    outcome.generation = generation_;
    return outcome;
}

}  // namespace sluice::server
