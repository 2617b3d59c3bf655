#include "metrics/generation_stats.h"

#include <set>

namespace sluice::metrics {
namespace {

constexpr size_t kUnsetSlot = static_cast<size_t>(-1);
thread_local size_t t_slot = kUnsetSlot;  // constant-initialized: no TLS guard on access

template <typename Stats>
size_t slotFor(const Stats& stats) {
    return t_slot == kUnsetSlot ? stats.mainSlot() : t_slot;
}

}  // namespace

int GenerationStats::poolIndex(std::string_view name) const {
    for (size_t i = 0; i < pool_names.size(); ++i) {
        if (pool_names[i] == name) return static_cast<int>(i);
    }
    return -1;
}

std::shared_ptr<const GenerationStats> bindGeneration(const config::Config& config,
                                                      StatsRegistries& registries) {
    auto stats = std::make_shared<GenerationStats>();
    std::set<std::string> listeners, pools;
    std::set<ServerKey> servers;
    for (const auto& listener : config.listeners) {
        stats->listeners.push_back(registries.listeners.obtain(listener.name));
        listeners.insert(listener.name);
    }
    for (const auto& pool : config.pools) {
        stats->pools.push_back(registries.pools.obtain(pool.name));
        stats->pool_names.push_back(pool.name);
        pools.insert(pool.name);
        auto& row = stats->servers.emplace_back();
        for (const auto& server : pool.servers) {
            ServerKey key{pool.name, server.name};
            row.push_back(registries.servers.obtain(key));
            servers.insert(std::move(key));
        }
    }
    registries.listeners.retainOnly(listeners);
    registries.pools.retainOnly(pools);
    registries.servers.retainOnly(servers);
    return stats;
}

void setWriterSlot(size_t slot) { t_slot = slot; }

void connectionOpened(const GenerationStats* stats, size_t listener) {
    if (!stats || listener >= stats->listeners.size()) return;
    ListenerStats& l = *stats->listeners[listener];
    l.connectionOpened(slotFor(l));
}

void requestRateLimited(const GenerationStats* stats, size_t listener) {
    if (!stats || listener >= stats->listeners.size()) return;
    ListenerStats& l = *stats->listeners[listener];
    l.rateLimited(slotFor(l));
}

void connectionClosed(const GenerationStats* stats, size_t listener, uint64_t bytes_received,
                      uint64_t bytes_sent) {
    if (!stats || listener >= stats->listeners.size()) return;
    ListenerStats& l = *stats->listeners[listener];
    const size_t slot = slotFor(l);
    l.connectionClosed(slot);
    l.bytesReceived(slot, bytes_received);
    l.bytesSent(slot, bytes_sent);
}

void recordExchange(const GenerationStats* stats, const Exchange& exchange) {
    if (!stats || exchange.listener >= stats->listeners.size()) return;
    ListenerStats& l = *stats->listeners[exchange.listener];
    const size_t slot = slotFor(l);
    l.request(slot, exchange.status);
    if (exchange.pool.empty()) return;
    const int p = stats->poolIndex(exchange.pool);
    if (p < 0) return;
    PoolStats& pool = *stats->pools[static_cast<size_t>(p)];
    pool.request(slot, exchange.status);
    pool.observeDuration(slot, exchange.duration_ms * 1000);
    const auto& servers = stats->servers[static_cast<size_t>(p)];
    if (exchange.server >= 0 && static_cast<size_t>(exchange.server) < servers.size()) {
        servers[static_cast<size_t>(exchange.server)]->request(slot, exchange.status);
    }
}

}  // namespace sluice::metrics
