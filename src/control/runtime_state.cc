#include "control/runtime_state.h"

#include <algorithm>

#include "config/address_resolver.h"
#include "upstream/balancer/slow_start.h"

namespace sluice::control {

const ServerOverride* findOverride(const RuntimeState& state, const std::string& pool,
                                   const std::string& name) {
    for (const auto& o : state.servers) {
        if (o.pool == pool && o.name == name) return &o;
    }
    return nullptr;
}

ServerOverride* findOverride(RuntimeState& state, const std::string& pool,
                             const std::string& name) {
    return const_cast<ServerOverride*>(findOverride(std::as_const(state), pool, name));
}

bool resolveAddress(const std::string& text, config::Address* address, std::string* error) {
    auto parsed = config::parseAddress(text, error);
    config::AddressResolver resolver;
    if (!parsed || !resolver.resolve(&*parsed, error)) return false;
    *address = std::move(*parsed);
    return true;
}

Applied apply(const config::Config& file, const RuntimeState& overrides,
              const ResolveAddress& resolve) {
    Applied result;
    auto config = std::make_shared<config::Config>(file);
    result.overrides.deleted = overrides.deleted;
    for (ServerOverride o : overrides.servers) {
        if (!o.added) {
            result.overrides.servers.push_back(std::move(o));
            continue;
        }
        const auto pool =
            std::find_if(config->pools.begin(), config->pools.end(),
                         [&](const config::PoolConfig& p) { return p.name == o.pool; });
        const bool pool_exists = pool != config->pools.end();
        const bool in_file = pool_exists && std::any_of(pool->servers.begin(), pool->servers.end(),
                                                        [&](const config::ServerConfig& s) {
                                                            return s.name == o.name;
                                                        });
        if (!pool_exists || in_file) {
            // The file wins: its definition replaces the runtime-added server.
            result.notes.push_back("server " + o.pool + "/" + o.name +
                                   (pool_exists ? " is now defined by the config file; its "
                                                  "runtime addition is dropped"
                                                : ": pool is gone; runtime-added server dropped"));
            o.added = false;
            o.address.clear();
            if (pool_exists && (o.state || o.weight))
                result.overrides.servers.push_back(std::move(o));
            continue;
        }
        config::ServerConfig server;
        std::string error;
        if (resolve(o.address, &server.address, &error)) {
            server.name = o.name;
            server.weight = o.weight.value_or(1);
            server.backup = o.backup;
            pool->servers.push_back(std::move(server));
        } else {
            result.notes.push_back("server " + o.pool + "/" + o.name + ": " + o.address + ": " +
                                   error);
        }
        result.overrides.servers.push_back(std::move(o));
    }
    // Deleted servers stay deleted until the next reload or restart; a runtime-added one is
    // never in this set (`del server` drops its override instead).
    for (auto& pool : config->pools) {
        std::erase_if(pool.servers, [&](const config::ServerConfig& s) {
            return overrides.deleted.count({pool.name, s.name}) > 0;
        });
    }
    result.config = std::move(config);
    return result;
}

void applyToServers(const routing::Snapshot& snapshot, const RuntimeState& overrides) {
    for (const auto& pool : snapshot.pools) {
        for (const auto& server : pool->servers) {
            const ServerOverride* o = findOverride(overrides, pool->name(), server.config.name);
            const auto admin = server.config.leaving ? upstream::AdminState::kDrain
                               : o && o->state       ? *o->state
                                                     : upstream::AdminState::kReady;
            // Back to ready from drain/maint: available again, its slow start begins.
            if (server.state->admin.exchange(admin) != upstream::AdminState::kReady &&
                admin == upstream::AdminState::kReady) {
                server.state->ramp_from_ms.store(upstream::steadyNowMs(),
                                                 std::memory_order_relaxed);
            }
            server.state->weight.store(o && o->weight ? *o->weight : server.config.weight);
        }
    }
}

}  // namespace sluice::control
