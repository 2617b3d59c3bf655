#pragma once
// power_of_two: draw two distinct eligible servers at random (each with probability
// proportional to its weight) and take the one with fewer requests in flight per unit of
// weight; on a tie the first draw wins, so idle pools still split traffic by weight. Needs no
// global scan for the least loaded server and avoids herding onto one server when several
// workers decide from slightly stale counts.

#include <cstddef>
#include <cstdint>

#include "upstream/balancer/balancer.h"
#include "upstream/balancer/split_mix64.h"

namespace sluice::upstream {

// Deterministic given the seed. Per-worker, not thread-safe; give each worker its own seed.
class PowerOfTwoBalancer final : public Balancer {
  public:
    PowerOfTwoBalancer(size_t server_count, uint64_t seed) : count_(server_count), rng_(seed) {}

    int pick(const PickContext& ctx) override;

  private:
    size_t count_;
    SplitMix64 rng_;
};

}  // namespace sluice::upstream
