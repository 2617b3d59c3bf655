#pragma once
// Choosing a server: pure code, no I/O, no clocks of its own. One Balancer per pool per worker
// (not thread-safe). Servers are addressed by their index in the pool's server list, which is
// fixed for the lifetime of a Balancer (a reload or server add/remove builds a new one).
//
// Every pick() is O(servers) or better and never allocates (the hash balancers may re-sort their
// preallocated ring in place after a runtime weight change).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sluice::upstream {

// Static facts about a pool's servers, given at construction (order = index).
struct BalancerServer {
    std::string name;     // stable identity for consistent hashing
    unsigned weight = 1;  // 1..1000 as configured
};

// A server's slow-start share of its weight, in thousandths (slow_start.h).
inline constexpr uint32_t kFullShare = 1000;

// Dynamic facts at pick time, one per server, same order and count as at construction (entries
// beyond that count are ignored, missing ones count as ineligible).
struct ServerLoad {
    bool eligible = false;  // available, in the tier being served (primary/backup), not yet tried
    unsigned weight = 1;    // current weight (`set server weight` may change it); 0 acts as 1
    uint32_t active = 0;    // requests in flight on this server
    uint32_t share = kFullShare;  // slow start: 1..kFullShare thousandths of `weight` (0 acts as 1)
};

struct PickContext {
    std::span<const ServerLoad> servers;
    std::string_view hash_key;  // ip_hash/hash: the key's bytes ("" = none: fall back to any)
    uint64_t now_ms = 0;        // loop clock (monotonic), for decaying state
};

class Balancer {
  public:
    virtual ~Balancer() = default;
    // Index of the chosen server (always an eligible one), or -1 when no server is eligible.
    // A retry marks the servers already tried ineligible and picks again.
    virtual int pick(const PickContext& ctx) = 0;
    // Feedback after a response: `ms` from request sent to response head received, observed at
    // `now_ms` (same clock as PickContext::now_ms). ewma uses it; the others ignore it. An
    // out-of-range server index is ignored.
    virtual void observeLatency(int /*server*/, double /*ms*/, uint64_t /*now_ms*/) {}
};

// Factory for every algorithm in config.md. `seed` drives the random choices (random,
// power_of_two, ewma): give each worker its own. ip_hash and hash ignore it on purpose, so every
// worker and every sluice instance maps a key to the same server.
std::unique_ptr<Balancer> makeBalancer(config::Algorithm algorithm,
                                       std::vector<BalancerServer> servers, uint64_t seed);

}  // namespace sluice::upstream
