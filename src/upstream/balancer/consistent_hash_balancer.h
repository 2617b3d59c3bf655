#pragma once
// ip_hash and hash: consistent hashing on a ring of virtual nodes (as in nginx's
// `hash ... consistent` and ketama). Each server owns kPointsPerWeight points per unit of weight,
// placed by hashing its name (1024 points per unit keep a server's share within about 1% of the
// ideal, where nginx's 160 stray by 4-6%), so:
//   - the same key maps to the same server in every worker, every process and after a reload,
//     as long as the server names and weights are the same (no seed is involved);
//   - removing one of N equally weighted servers moves only that server's keys (~1/N), each to
//     the next server along the ring; the other servers' keys stay put;
//   - a server's share of keys follows its weight (within a few percent);
//   - an ineligible server's keys go to the next eligible server along the ring (deterministic,
//     and the same walk gives a retry its next server), and come back when it is eligible again.
// A request without a key (empty hash_key) is balanced by smooth weighted round robin.
//
// The ring holds at most kMaxPoints points (512 KiB): when the total weight needs more, every
// server's count is halved as often as needed (each server keeps at least one point). Halving
// rather than scaling to fit keeps the counts unchanged by most additions and removals; only a
// change that crosses a power-of-two budget boundary also shuffles a few keys among the others.
// A runtime weight change (from PickContext) rebuilds the ring on the next pick, in place,
// allocating only if the ring has to grow; otherwise pick() never allocates.
// Per-worker, not thread-safe.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "upstream/balancer/balancer.h"
#include "upstream/balancer/smooth_weighted_balancer.h"

namespace sluice::upstream {

class ConsistentHashBalancer final : public Balancer {
  public:
    static constexpr uint64_t kPointsPerWeight = 1024;
    static constexpr uint64_t kMaxPoints = uint64_t{1} << 16;

    explicit ConsistentHashBalancer(const std::vector<BalancerServer>& servers);

    int pick(const PickContext& ctx) override;

    // Number of points on the ring (for tests).
    size_t ringSize() const { return ring_.size(); }

  private:
    struct Point {
        uint32_t hash;
        uint32_t server;
    };

    void buildRing();

    std::vector<uint64_t> name_hashes_;  // keyHash of each server name, the seed of its points
    std::vector<uint64_t> weights_;      // the weights the ring was built with
    std::vector<Point> ring_;            // sorted by (hash, server)
    SmoothWeightedBalancer keyless_;
};

}  // namespace sluice::upstream
