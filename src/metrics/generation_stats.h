#pragma once
// The counting scopes of one configuration generation, by index, and the one-call recorders the
// data path uses (admin.md's families; scope_stats.h for what each scope counts).
//
// Built on the main thread with every generation (bindGeneration) from the process's
// StatsRegistries, so a listener, pool or pool/server that stays in the configuration keeps its
// counters; stored in routing::Snapshot::stats and read by workers through their snapshot.
//
// Writers: each worker thread calls setWriterSlot(its index) once when it starts; every recorder
// below then writes that worker's slot (a thread_local read, no lock, no allocation). On any
// other thread (the main thread) the recorders write the scopes' mainSlot(). Every recorder
// accepts a null `stats` (a snapshot built without counting, as in unit tests) and does nothing.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "metrics/stats_registry.h"

namespace sluice::metrics {

struct GenerationStats {
    std::vector<std::shared_ptr<ListenerStats>> listeners;  // same order as config->listeners
    std::vector<std::shared_ptr<PoolStats>> pools;          // same order as config->pools
    std::vector<std::string> pool_names;                    // same order
    std::vector<std::vector<std::shared_ptr<ServerStats>>> servers;  // [pool][server]

    // Index of pool `name`, or -1.
    int poolIndex(std::string_view name) const;
};

// Obtains the scopes of every listener, pool and server of `config` from `registries` and
// forgets the rest (their series vanish from the next scrape).
std::shared_ptr<const GenerationStats> bindGeneration(const config::Config& config,
                                                      StatsRegistries& registries);

// The calling thread's slot: a worker calls setWriterSlot(worker index) at its start.
void setWriterSlot(size_t slot);

// A client connection of listener `listener` opened (accepted) / closed, with the bytes it
// received from and sent to the client over its life.
void connectionOpened(const GenerationStats* stats, size_t listener);
void connectionClosed(const GenerationStats* stats, size_t listener, uint64_t bytes_received,
                      uint64_t bytes_sent);

// A request of listener `listener` refused by a [[listener.rate_limit]] (429).
void requestRateLimited(const GenerationStats* stats, size_t listener);

// One HTTP exchange as the client saw it, at its end (where the access log line is written).
struct Exchange {
    size_t listener = 0;
    std::string_view pool;  // "" when the request reached no pool
    int server = -1;        // index in the pool, -1 when no server answered
    int status = 0;         // sent to the client; 0 = none (not counted in a class)
    uint64_t duration_ms = 0;
};
void recordExchange(const GenerationStats* stats, const Exchange& exchange);

}  // namespace sluice::metrics
