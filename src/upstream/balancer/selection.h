#pragma once
// Small building blocks shared by the balancers: how a server's weight and load compare, and a
// weighted random draw. No state, no allocation.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "upstream/balancer/balancer.h"
#include "upstream/balancer/split_mix64.h"

namespace sluice::upstream {

// The weight used for proportions: the runtime weight, with 0 acting as 1 (never divide by 0).
inline uint64_t weightOf(const ServerLoad& server) {
    return server.weight == 0 ? 1 : server.weight;
}

// The weight scaled by the slow-start share (kFullShare = the whole weight): what the weighted
// balancers compare. Equal shares leave the proportions of weightOf() unchanged.
inline uint64_t rampedWeight(const ServerLoad& server) {
    return weightOf(server) * (server.share == 0 ? 1 : server.share);
}

// True when `a` has fewer requests in flight per unit of (ramped) weight than `b`
// (a.active / a.weight < b.active / b.weight, compared exactly in integers).
inline bool fewerActivePerWeight(const ServerLoad& a, const ServerLoad& b) {
    return uint64_t{a.active} * rampedWeight(b) < uint64_t{b.active} * rampedWeight(a);
}

// The first `count` entries of `servers`: a balancer built for `count` servers ignores extras.
inline std::span<const ServerLoad> firstServers(std::span<const ServerLoad> servers, size_t count) {
    return servers.first(std::min(servers.size(), count));
}

// An eligible server other than `exclude`, drawn with probability proportional to its ramped
// weight;
// -1 when there is none. Consumes exactly one random number when at least one server qualifies.
int weightedChoice(std::span<const ServerLoad> servers, SplitMix64& rng, int exclude = -1);

}  // namespace sluice::upstream
