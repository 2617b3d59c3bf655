#include "upstream/balancer/least_conn_balancer.h"

#include "upstream/balancer/selection.h"

namespace sluice::upstream {

int LeastConnBalancer::pick(const PickContext& ctx) {
    auto servers = firstServers(ctx.servers, current_.size());
    int least = -1;
    for (size_t i = 0; i < servers.size(); ++i) {
        if (!servers[i].eligible) continue;
        if (least < 0 || fewerActivePerWeight(servers[i], servers[static_cast<size_t>(least)])) {
            least = static_cast<int>(i);
        }
    }
    if (least < 0) return -1;

    // Breaking ties by lowest index would send every idle-time request to server 0; a rotating
    // tie-break spreads them, and smooth weighted round robin makes that rotation honour the
    // weights. Only the tied servers take part, so state moves only for them.
    const ServerLoad& floor = servers[static_cast<size_t>(least)];
    int best = -1;
    int64_t total = 0;
    for (size_t i = 0; i < servers.size(); ++i) {
        if (!servers[i].eligible || fewerActivePerWeight(floor, servers[i])) continue;
        auto weight = static_cast<int64_t>(rampedWeight(servers[i]));
        current_[i] += weight;
        total += weight;
        if (best < 0 || current_[i] > current_[static_cast<size_t>(best)]) {
            best = static_cast<int>(i);
        }
    }
    current_[static_cast<size_t>(best)] -= total;
    return best;
}

}  // namespace sluice::upstream
