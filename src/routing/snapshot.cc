#include "routing/snapshot.h"

#include <set>

namespace sluice::routing {

namespace {
// A server is the same across a reload only at the same resolved address: one whose address
// changed is a new server (fresh state, and no pooled connection to the old address is used).
std::string addressKey(const config::Address& address) {
    return std::string(reinterpret_cast<const char*>(&address.sockaddr), address.sockaddr_len);
}
}  // namespace

std::shared_ptr<upstream::ServerState> ServerStateRegistry::obtain(
    const std::string& pool, const config::ServerConfig& server) {
    auto& slot = states_[{pool, server.name, addressKey(server.address)}];
    if (!slot) {
        slot = std::make_shared<upstream::ServerState>();
        slot->weight.store(server.weight);
    }
    return slot;
}

void ServerStateRegistry::retainOnly(const config::Config& config) {
    std::set<Key> keep;
    for (const auto& pool : config.pools) {
        for (const auto& server : pool.servers) {
            keep.insert({pool.name, server.name, addressKey(server.address)});
        }
    }
    for (auto it = states_.begin(); it != states_.end();) {
        it = keep.count(it->first) ? std::next(it) : states_.erase(it);
    }
}

int Snapshot::poolIndex(const std::string& name) const {
    for (size_t i = 0; i < pools.size(); ++i) {
        if (pools[i]->name() == name) return static_cast<int>(i);
    }
    return -1;
}

std::shared_ptr<const Snapshot> buildSnapshot(std::shared_ptr<const config::Config> config,
                                              uint64_t generation, ServerStateRegistry& registry,
                                              const tls::Contexts& tls,
                                              metrics::StatsRegistries* stats) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->generation = generation;
    snapshot->listener_tls = tls.listeners;
    snapshot->listener_tls.resize(config->listeners.size());
    for (size_t p = 0; p < config->pools.size(); ++p) {
        const config::PoolConfig& pool_config = config->pools[p];
        auto pool = std::make_shared<upstream::Pool>();
        pool->config = pool_config;
        if (p < tls.pools.size()) pool->tls = tls.pools[p];
        for (const auto& server_config : pool_config.servers) {
            pool->servers.push_back(
                {server_config, registry.obtain(pool_config.name, server_config)});
        }
        snapshot->pools.push_back(std::move(pool));
    }
    registry.retainOnly(*config);
    if (stats) snapshot->stats = metrics::bindGeneration(*config, *stats);
    snapshot->config = std::move(config);
    return snapshot;
}

}  // namespace sluice::routing
