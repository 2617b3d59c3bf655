#pragma once
// round_robin: an exact cycle over the pool's servers in index order, ignoring weights.

#include <cstddef>

#include "upstream/balancer/balancer.h"

namespace sluice::upstream {

// Picks the first eligible server after the one picked last, so ineligible servers are skipped
// without giving their turn to their neighbour: with A, B, C and B down the order is A C A C.
// Per-worker, not thread-safe.
class RoundRobinBalancer final : public Balancer {
  public:
    explicit RoundRobinBalancer(size_t server_count) : count_(server_count) {}

    int pick(const PickContext& ctx) override;

  private:
    size_t count_;
    size_t next_ = 0;  // index the next scan starts from
};

}  // namespace sluice::upstream
