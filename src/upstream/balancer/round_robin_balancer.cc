#include "upstream/balancer/round_robin_balancer.h"

#include "upstream/balancer/selection.h"

namespace sluice::upstream {

int RoundRobinBalancer::pick(const PickContext& ctx) {
    auto servers = firstServers(ctx.servers, count_);
    size_t n = servers.size();
    // The cursor moves to just after the chosen server (not one step per pick): a skipped server
    // then costs nobody an extra turn, and a retry continues with the next server in order.
    for (size_t step = 0; step < n; ++step) {
        size_t index = (next_ + step) % n;
        if (servers[index].eligible) {
            next_ = (index + 1) % n;
            return static_cast<int>(index);
        }
    }
    return -1;
}

}  // namespace sluice::upstream
