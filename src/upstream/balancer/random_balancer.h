#pragma once
// random: an eligible server drawn with probability proportional to its weight. The sequence is
// fully determined by the seed.

#include <cstddef>
#include <cstdint>

#include "upstream/balancer/balancer.h"
#include "upstream/balancer/split_mix64.h"

namespace sluice::upstream {

// Per-worker, not thread-safe; give each worker its own seed.
class RandomBalancer final : public Balancer {
  public:
    RandomBalancer(size_t server_count, uint64_t seed) : count_(server_count), rng_(seed) {}

    int pick(const PickContext& ctx) override;

  private:
    size_t count_;
    SplitMix64 rng_;
};

}  // namespace sluice::upstream
