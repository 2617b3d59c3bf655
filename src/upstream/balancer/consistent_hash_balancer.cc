#include "upstream/balancer/consistent_hash_balancer.h"

#include <algorithm>

#include "upstream/balancer/key_hash.h"
#include "upstream/balancer/selection.h"

namespace sluice::upstream {
namespace {

// Separate seeds so a key that happens to equal a server name does not land on that server's
// first point.
constexpr uint64_t kKeySeed = 0x6b6579;  // "key"

uint32_t ringPosition(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

}  // namespace

ConsistentHashBalancer::ConsistentHashBalancer(const std::vector<BalancerServer>& servers)
    : keyless_(servers.size()) {
    name_hashes_.reserve(servers.size());
    weights_.reserve(servers.size());
    for (const auto& server : servers) {
        name_hashes_.push_back(keyHash(server.name));
        weights_.push_back(server.weight == 0 ? 1 : server.weight);
    }
    buildRing();
}

void ConsistentHashBalancer::buildRing() {
    // A server's points depend only on its name and its own point count, and the count only on
    // its own weight and the budget shift, so adding or removing a server leaves every other
    // server's points where they were. 32-bit positions keep a point at 8 bytes; the rare equal
    // positions are ordered by server index, which is still deterministic.
    unsigned shift = 0;
    auto pointsOf = [&shift](uint64_t weight) {
        return std::max<uint64_t>(1, (weight * kPointsPerWeight) >> shift);
    };
    for (;; ++shift) {
        uint64_t total = 0;
        for (uint64_t weight : weights_) total += pointsOf(weight);
        if (total <= kMaxPoints || total == weights_.size()) break;
    }
    ring_.clear();
    for (size_t i = 0; i < weights_.size(); ++i) {
        uint64_t points = pointsOf(weights_[i]);
        for (uint64_t p = 0; p < points; ++p) {
            // Chained through mix64 rather than keyHash(name, p): one multiply pair per point,
            // still a different, well-mixed position for every (name, p).
            uint64_t hash = mix64(name_hashes_[i] + (p + 1) * 0x9e3779b97f4a7c15ULL);
            ring_.push_back({ringPosition(hash), static_cast<uint32_t>(i)});
        }
    }
    std::sort(ring_.begin(), ring_.end(), [](const Point& a, const Point& b) {
        return a.hash != b.hash ? a.hash < b.hash : a.server < b.server;
    });
}

int ConsistentHashBalancer::pick(const PickContext& ctx) {
    auto servers = firstServers(ctx.servers, weights_.size());
    bool any_eligible = false;
    bool weights_changed = false;
    for (size_t i = 0; i < servers.size(); ++i) {
        any_eligible = any_eligible || servers[i].eligible;
        uint64_t weight = weightOf(servers[i]);
        if (weight != weights_[i]) {
            weights_[i] = weight;
            weights_changed = true;
        }
    }
    if (weights_changed) buildRing();
    if (!any_eligible) return -1;
    if (ctx.hash_key.empty()) return keyless_.pick(ctx);

    uint32_t position = ringPosition(keyHash(ctx.hash_key, kKeySeed));
    auto it = std::lower_bound(ring_.begin(), ring_.end(), position,
                               [](const Point& point, uint32_t h) { return point.hash < h; });
    size_t start = static_cast<size_t>(it - ring_.begin());
    // Walk clockwise past ineligible servers' points. There is at least one eligible server and
    // every server has at least one point, so the walk ends within one turn.
    for (size_t step = 0; step < ring_.size(); ++step) {
        const Point& point = ring_[(start + step) % ring_.size()];
        if (point.server < servers.size() && servers[point.server].eligible) {
            return static_cast<int>(point.server);
        }
    }
    return -1;
}

}  // namespace sluice::upstream
