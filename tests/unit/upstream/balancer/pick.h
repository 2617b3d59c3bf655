#pragma once
// Shared by the balancer tests: one pick without a hash key, at time 0.

#include <vector>

#include "upstream/balancer/balancer.h"

namespace sluice::upstream {

inline int pick(Balancer& balancer, const std::vector<ServerLoad>& servers) {
    return balancer.pick({servers, "", 0});
}

}  // namespace sluice::upstream
