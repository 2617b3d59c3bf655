#pragma once
// least_conn: the eligible server with the fewest requests in flight per unit of weight
// (active / weight). Servers tied for the lowest value share the picks by smooth weighted round
// robin, as in nginx: equal weights give an exact cycle, and with sequential traffic (everyone
// idle at pick time) the split still follows the weights.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "upstream/balancer/balancer.h"

namespace sluice::upstream {

// Per-worker, not thread-safe.
class LeastConnBalancer final : public Balancer {
  public:
    explicit LeastConnBalancer(size_t server_count) : current_(server_count, 0) {}

    int pick(const PickContext& ctx) override;

  private:
    std::vector<int64_t> current_;  // smooth weighted round robin state among tied servers
};

}  // namespace sluice::upstream
