// Server, runtime changes: overrides made over the control socket (admin state, weight, added
// and deleted servers), persisted in state_file and re-applied to every new generation.

#include <algorithm>

#include "base/log.h"
#include "config/address_resolver.h"
#include "server/server.h"

namespace sluice::server {
namespace {

upstream::AdminState parseAdmin(const std::string& state) {
    if (state == "drain") return upstream::AdminState::kDrain;
    if (state == "maint") return upstream::AdminState::kMaint;
    return upstream::AdminState::kReady;
}

}  // namespace

control::ServerOverride* Server::findOverride(const std::string& pool, const std::string& name) {
    for (auto& o : runtime_.servers) {
        if (o.pool == pool && o.name == name) return &o;
    }
    return nullptr;
}

std::shared_ptr<const config::Config> Server::withRuntimeServers(const config::Config& file,
                                                                 std::vector<std::string>* notes) {
    auto config = std::make_shared<config::Config>(file);
    config::AddressResolver resolver;
    for (auto it = runtime_.servers.begin(); it != runtime_.servers.end();) {
        control::ServerOverride& o = *it;
        config::PoolConfig* pool = nullptr;
        for (auto& p : config->pools) {
            if (p.name == o.pool) pool = &p;
        }
        if (o.added) {
            const bool in_file = pool && std::any_of(pool->servers.begin(), pool->servers.end(),
                                                     [&](const config::ServerConfig& s) {
                                                         return s.name == o.name;
                                                     });
            if (!pool || in_file) {
                // The file wins: its definition replaces the runtime-added server.
                if (notes) {
                    notes->push_back("server " + o.pool + "/" + o.name +
                                     (pool ? " is now defined by the config file; its runtime "
                                             "addition is dropped"
                                           : ": pool is gone; runtime-added server dropped"));
                }
                o.added = false;
                o.address.clear();
                if (!pool || (!o.state && !o.weight)) {
                    it = runtime_.servers.erase(it);
                    continue;
                }
            } else {
                std::string error;
                auto address = config::parseAddress(o.address, &error);
                if (address && resolver.resolve(&*address, &error)) {
                    config::ServerConfig server;
                    server.name = o.name;
                    server.address = *address;
                    server.weight = o.weight.value_or(1);
                    server.backup = o.backup;
                    pool->servers.push_back(std::move(server));
                } else if (notes) {
                    notes->push_back("server " + o.pool + "/" + o.name + ": " + o.address + ": " +
                                     error);
                }
            }
        }
        ++it;
    }
    // Servers deleted at runtime stay deleted for this run (the file brings them back at the
    // next reload or restart only when they are not runtime-added ones).
    for (auto& pool : config->pools) {
        std::erase_if(pool.servers, [&](const config::ServerConfig& s) {
            return deleted_.count({pool.name, s.name}) > 0;
        });
    }
    return config;
}

void Server::applyOverrides() {
    for (const auto& pool : snapshot_->pools) {
        for (const auto& server : pool->servers) {
            const control::ServerOverride* o = findOverride(pool->name(), server.config.name);
            server.state->admin.store(o && o->state ? parseAdmin(*o->state)
                                                    : upstream::AdminState::kReady);
            server.state->weight.store(o && o->weight ? *o->weight : server.config.weight);
        }
    }
}

bool Server::saveRuntimeState(std::string* error) {
    if (!control::writeStateFile(config_->global.state_file, runtime_, error)) {
        LOG_ERROR("state_file: %s", error->c_str());
        return false;
    }
    return true;
}

void Server::loadRuntimeState() {
    std::string error;
    control::RuntimeState state;
    if (!control::readStateFile(config_->global.state_file, &state, &error)) {
        LOG_ERROR("state_file: %s; starting without runtime changes", error.c_str());
        return;
    }
    runtime_ = std::move(state);
    if (!runtime_.servers.empty()) {
        LOG_INFO("state_file %s: %zu runtime change(s) re-applied",
                 config_->global.state_file.c_str(), runtime_.servers.size());
    }
}

}  // namespace sluice::server
