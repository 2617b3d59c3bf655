#include "upstream/balancer/random_balancer.h"

#include "upstream/balancer/selection.h"

namespace sluice::upstream {

int RandomBalancer::pick(const PickContext& ctx) {
    return weightedChoice(firstServers(ctx.servers, count_), rng_);
}

}  // namespace sluice::upstream
