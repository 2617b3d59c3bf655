#include "upstream/balancer/balancer.h"

#include "upstream/balancer/consistent_hash_balancer.h"
#include "upstream/balancer/least_conn_balancer.h"
#include "upstream/balancer/peak_ewma_balancer.h"
#include "upstream/balancer/power_of_two_balancer.h"
#include "upstream/balancer/random_balancer.h"
#include "upstream/balancer/round_robin_balancer.h"
#include "upstream/balancer/smooth_weighted_balancer.h"

namespace sluice::upstream {

std::unique_ptr<Balancer> makeBalancer(config::Algorithm algorithm,
                                       std::vector<BalancerServer> servers, uint64_t seed) {
    size_t count = servers.size();
    // No default: a new Algorithm value must fail to compile (-Wswitch) until it is handled.
    switch (algorithm) {
        case config::Algorithm::kRoundRobin:
            return std::make_unique<RoundRobinBalancer>(count);
        case config::Algorithm::kWeightedRoundRobin:
            return std::make_unique<SmoothWeightedBalancer>(count);
        case config::Algorithm::kLeastConn:
            return std::make_unique<LeastConnBalancer>(count);
        case config::Algorithm::kRandom:
            return std::make_unique<RandomBalancer>(count, seed);
        case config::Algorithm::kPowerOfTwo:
            return std::make_unique<PowerOfTwoBalancer>(count, seed);
        case config::Algorithm::kEwma:
            return std::make_unique<PeakEwmaBalancer>(count, seed);
        case config::Algorithm::kIpHash:
        case config::Algorithm::kHash:
            // Same mechanism; they differ only in which bytes the caller passes as hash_key.
            return std::make_unique<ConsistentHashBalancer>(servers);
    }
    return std::make_unique<RoundRobinBalancer>(count);  // an out-of-range enum value
}

}  // namespace sluice::upstream
