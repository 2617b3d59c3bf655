#pragma once
// weighted_round_robin: nginx's smooth weighted round robin. Over any window of `total weight`
// picks each server gets exactly its weight, and the picks of a heavy server are interleaved
// with the others instead of coming in a burst (weights 5:1:1 give A A B A C A A, not
// A A A A A B C).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "upstream/balancer/balancer.h"

namespace sluice::upstream {

// Uses the runtime weights in PickContext. Ineligible servers keep their state, so a server
// that was skipped for one pick (e.g. already tried by a retry) resumes where it was.
// Per-worker, not thread-safe.
class SmoothWeightedBalancer final : public Balancer {
  public:
    explicit SmoothWeightedBalancer(size_t server_count) : current_(server_count, 0) {}

    int pick(const PickContext& ctx) override;

  private:
    std::vector<int64_t> current_;  // nginx's current_weight per server
};

}  // namespace sluice::upstream
