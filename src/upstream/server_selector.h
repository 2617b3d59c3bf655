#pragma once
// Per worker, per pool (not thread-safe): applies the availability rules to a pool's servers and
// asks the pool's Balancer to choose among the eligible ones.
//
// Eligible = available (admin ready, healthy, not ejected) and not already tried for this
// request; backups are considered only while no primary is available. Returns -1 when no server
// can take the request.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "upstream/balancer/balancer.h"
#include "upstream/pool.h"

namespace sluice::upstream {

// Servers already tried for one request (retries never pick the same server twice while another
// is available).
class TriedSet {
public:
    void clear() { bits_.clear(); }
    void add(size_t index);
    bool contains(size_t index) const;
    bool empty() const { return bits_.empty(); }

private:
    std::vector<bool> bits_;
};

class ServerSelector {
public:
    ServerSelector(std::shared_ptr<const Pool> pool, uint64_t seed);

    int select(const TriedSet& tried, std::string_view hash_key, uint64_t now_ms);
    // True when at least one server of the pool is available (ignores tried servers).
    bool anyAvailable(uint64_t now_ms) const;
    void observeLatency(int server, double ms, uint64_t now_ms) {
        balancer_->observeLatency(server, ms, now_ms);
    }
    const Pool& pool() const { return *pool_; }

private:
    std::shared_ptr<const Pool> pool_;
    std::unique_ptr<Balancer> balancer_;
    std::vector<ServerLoad> loads_;  // scratch, reused for every pick
};

}  // namespace sluice::upstream
