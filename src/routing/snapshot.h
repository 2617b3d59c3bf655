#pragma once
// An immutable view of one configuration generation: listeners, routes and pools with their
// servers bound to shared ServerState. Built on the main thread, published to workers as
// std::shared_ptr<const Snapshot>; a connection keeps the snapshot it started with.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "config/config.h"
#include "metrics/generation_stats.h"
#include "tls/contexts.h"
#include "upstream/pool.h"

namespace sluice::routing {

// Main thread only: the ServerState of each pool/name, kept across generations.
class ServerStateRegistry {
  public:
    // The existing state for pool/name at the server's resolved address, or a fresh one (weight
    // from the config).
    std::shared_ptr<upstream::ServerState> obtain(const std::string& pool,
                                                  const config::ServerConfig& server);
    // Drops states of servers absent from `config`.
    void retainOnly(const config::Config& config);

  private:
    using Key = std::tuple<std::string, std::string, std::string>;  // pool, name, address bytes
    std::map<Key, std::shared_ptr<upstream::ServerState>> states_;
};

struct Snapshot {
    uint64_t generation = 0;
    std::shared_ptr<const config::Config> config;
    std::vector<std::shared_ptr<const upstream::Pool>> pools;  // same order as config->pools
    // TLS termination per listener (same order as config->listeners); null = plain.
    std::vector<std::shared_ptr<const tls::ServerContext>> listener_tls;
    // Counters of this generation's listeners, pools and servers (null: not counting).
    std::shared_ptr<const metrics::GenerationStats> stats;

    // Index into `pools`, or -1.
    int poolIndex(const std::string& name) const;
};

// `tls` holds the contexts built for `config` (tls::buildContexts); none: plain everywhere.
std::shared_ptr<const Snapshot> buildSnapshot(std::shared_ptr<const config::Config> config,
                                              uint64_t generation, ServerStateRegistry& registry,
                                              const tls::Contexts& tls = {},
                                              metrics::StatsRegistries* stats = nullptr);

}  // namespace sluice::routing
