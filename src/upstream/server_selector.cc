#include "upstream/server_selector.h"

namespace sluice::upstream {

void TriedSet::add(size_t index) {
    if (bits_.size() <= index) bits_.resize(index + 1, false);
    bits_[index] = true;
}

bool TriedSet::contains(size_t index) const { return index < bits_.size() && bits_[index]; }

ServerSelector::ServerSelector(std::shared_ptr<const Pool> pool, uint64_t seed)
    : pool_(std::move(pool)) {
    std::vector<BalancerServer> servers;
    servers.reserve(pool_->servers.size());
    for (const auto& s : pool_->servers) servers.push_back({s.config.name, s.config.weight});
    balancer_ = makeBalancer(pool_->config.algorithm, std::move(servers), seed);
    loads_.resize(pool_->servers.size());
}

bool ServerSelector::anyAvailable(uint64_t now_ms) const {
    for (const auto& s : pool_->servers) {
        if (s.state->available(now_ms)) return true;
    }
    return false;
}

int ServerSelector::select(const TriedSet& tried, std::string_view hash_key, uint64_t now_ms) {
    const auto& servers = pool_->servers;
    // Two passes at most: primaries, then (only when no primary is available) backups. A tried
    // server is skipped while any untried one of the tier is left.
    bool primary_available = false;
    for (const auto& s : servers) {
        if (!s.config.backup && s.state->available(now_ms)) {
            primary_available = true;
            break;
        }
    }
    const bool want_backup = !primary_available;
    bool any = false;
    for (size_t i = 0; i < servers.size(); ++i) {
        const auto& s = servers[i];
        ServerLoad& load = loads_[i];
        load.eligible = s.config.backup == want_backup && s.state->available(now_ms) &&
                        !tried.contains(i);
        load.weight = s.state->weight.load(std::memory_order_relaxed);
        load.active = s.state->active.load(std::memory_order_relaxed);
        any = any || load.eligible;
    }
    if (!any) return -1;
    PickContext ctx;
    ctx.servers = loads_;
    ctx.hash_key = hash_key;
    ctx.now_ms = now_ms;
    return balancer_->pick(ctx);
}

}  // namespace sluice::upstream
