#include "upstream/balancer/power_of_two_balancer.h"

#include "upstream/balancer/selection.h"

namespace sluice::upstream {

int PowerOfTwoBalancer::pick(const PickContext& ctx) {
    auto servers = firstServers(ctx.servers, count_);
    int first = weightedChoice(servers, rng_);
    if (first < 0) return -1;
    int second = weightedChoice(servers, rng_, first);
    if (second < 0) return first;  // a single eligible server
    // Strictly fewer wins; a tie keeps the first draw, which is already weight-proportional.
    const auto& a = servers[static_cast<size_t>(first)];
    const auto& b = servers[static_cast<size_t>(second)];
    return fewerActivePerWeight(b, a) ? second : first;
}

}  // namespace sluice::upstream
