#pragma once
// Keeps the counting scopes alive across configuration generations, keyed by name, the way
// routing::ServerStateRegistry keeps server health state.
//
// Main thread only (not thread-safe): the main thread obtains the scopes while it builds a
// snapshot, hands the shared_ptrs to the workers inside that snapshot, and reads them (or the
// registry) when it renders a scrape. Workers never touch the registry, only the scopes.
//
// On each generation (start, reload, runtime add/del):
//   for each live key: snapshot.x = registry.obtain(key);  // same object if the key existed
//   registry.retainOnly(live_keys);                         // forget the others
// A kept key carries its counters over, so they never go down across a reload; a removed key's
// series vanish from the next scrape. Workers still serving the old generation keep the old
// object alive through their shared_ptr and may count into it until they drain; those late
// counts belong to a series that is gone. A key removed and later re-added starts from zero: a
// new series to Prometheus, which handles that as a counter reset.

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "metrics/scope_stats.h"

namespace sluice::metrics {

template <typename Key, typename Stats>
class StatsRegistry {
  public:
    using Map = std::map<Key, std::shared_ptr<Stats>>;

    // Every scope it creates counts for `workers` workers (+ the main thread's slot).
    explicit StatsRegistry(size_t workers) : workers_(workers) {}

    size_t workers() const { return workers_; }

    // The existing scope for `key`, or a new zeroed one.
    std::shared_ptr<Stats> obtain(const Key& key) {
        auto& slot = entries_[key];
        if (!slot) slot = std::make_shared<Stats>(workers_);
        return slot;
    }
    // Null when `key` is not registered.
    std::shared_ptr<Stats> find(const Key& key) const {
        auto it = entries_.find(key);
        return it == entries_.end() ? nullptr : it->second;
    }
    // Drops every scope whose key is not in `live`.
    void retainOnly(const std::set<Key>& live) {
        for (auto it = entries_.begin(); it != entries_.end();) {
            it = live.count(it->first) ? std::next(it) : entries_.erase(it);
        }
    }

    // In key order: iterate this for a stable exposition order.
    const Map& entries() const { return entries_; }
    size_t size() const { return entries_.size(); }

  private:
    size_t workers_;
    Map entries_;
};

using ServerKey = std::pair<std::string, std::string>;  // pool, server
using ListenerStatsRegistry = StatsRegistry<std::string, ListenerStats>;
using PoolStatsRegistry = StatsRegistry<std::string, PoolStats>;
using ServerStatsRegistry = StatsRegistry<ServerKey, ServerStats>;

// The three registries of a process, for the Server to own as one member.
struct StatsRegistries {
    explicit StatsRegistries(size_t workers)
        : listeners(workers), pools(workers), servers(workers) {}
    ListenerStatsRegistry listeners;
    PoolStatsRegistry pools;
    ServerStatsRegistry servers;
};

}  // namespace sluice::metrics
