#include "upstream/balancer/selection.h"

namespace sluice::upstream {

int weightedChoice(std::span<const ServerLoad> servers, SplitMix64& rng, int exclude) {
    // Two passes (sum, then walk) instead of a prefix-sum array: no allocation, and pools are
    // small enough that the second pass costs less than keeping an array in sync with weights.
    uint64_t total = 0;
    for (size_t i = 0; i < servers.size(); ++i) {
        if (servers[i].eligible && static_cast<int>(i) != exclude)
            total += rampedWeight(servers[i]);
    }
    if (total == 0) return -1;
    uint64_t target = rng.below(total);
    for (size_t i = 0; i < servers.size(); ++i) {
        if (!servers[i].eligible || static_cast<int>(i) == exclude) continue;
        uint64_t weight = rampedWeight(servers[i]);
        if (target < weight) return static_cast<int>(i);
        target -= weight;
    }
    return -1;  // unreachable: target < total
}

}  // namespace sluice::upstream
