#include "upstream/balancer/smooth_weighted_balancer.h"

#include "upstream/balancer/selection.h"

namespace sluice::upstream {

int SmoothWeightedBalancer::pick(const PickContext& ctx) {
    auto servers = firstServers(ctx.servers, current_.size());
    // Every eligible server earns its weight; the richest is picked and pays the sum of what was
    // earned. Credit therefore accumulates in proportion to weight and is spent in the same
    // proportion, and a server paying the whole total drops behind all others at once, which is
    // what spreads a heavy server's turns evenly. Ties go to the lowest index, so equal weights
    // give an exact cycle.
    int best = -1;
    int64_t total = 0;
    for (size_t i = 0; i < servers.size(); ++i) {
        if (!servers[i].eligible) continue;
        auto weight = static_cast<int64_t>(rampedWeight(servers[i]));
        current_[i] += weight;
        total += weight;
        if (best < 0 || current_[i] > current_[static_cast<size_t>(best)]) {
            best = static_cast<int>(i);
        }
    }
    if (best >= 0) current_[static_cast<size_t>(best)] -= total;
    return best;
}

}  // namespace sluice::upstream
