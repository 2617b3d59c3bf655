#pragma once
// ewma: peak-EWMA latency times load (Finagle, Linkerd). Each server has a latency estimate fed
// by observeLatency(): a sample above the estimate replaces it at once (the "peak": a server that
// slows down sheds load on its very next response), a lower sample pulls it down exponentially
// with time constant `decay_ms` (measured with now_ms, not per sample, so the decay speed does
// not depend on the request rate). A server's cost is
//     max(estimate, fastest estimate among eligible servers) * (active + 1) / weight
// and pick() takes the cheaper of two random eligible servers (power of two choices on cost,
// drawn by weight; a tie keeps the first draw).
//
// Estimates also decay toward zero while a server gets no samples, bounded below by the fastest
// eligible server's estimate: a server that was slow and therefore gets no traffic is retried
// after a few time constants, like an average server, instead of being shunned forever. A server
// without any sample yet is costed at that same fastest estimate, so it gets tried without being
// flooded (its active count still counts).
//
// Per-worker, not thread-safe; deterministic given the seed and the inputs.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "upstream/balancer/balancer.h"
#include "upstream/balancer/split_mix64.h"

namespace sluice::upstream {

class PeakEwmaBalancer final : public Balancer {
  public:
    static constexpr double kDefaultDecayMs = 10'000;

    PeakEwmaBalancer(size_t server_count, uint64_t seed, double decay_ms = kDefaultDecayMs);

    int pick(const PickContext& ctx) override;
    // Negative or NaN samples count as 0; out-of-range servers are ignored.
    void observeLatency(int server, double ms, uint64_t now_ms) override;

    // The latency estimate of `server` decayed to `now_ms` (without the floor), or -1 when the
    // server has no sample yet. For status pages and tests.
    double estimateMs(int server, uint64_t now_ms) const;

  private:
    struct Estimate {
        double ms = 0;          // estimate as of stamp_ms
        uint64_t stamp_ms = 0;  // when it was last updated
        bool sampled = false;
    };

    double decayFactor(const Estimate& estimate, uint64_t now_ms) const;
    double cost(size_t index, const ServerLoad& load, uint64_t now_ms, double floor_ms) const;

    std::vector<Estimate> estimates_;
    SplitMix64 rng_;
    double decay_ms_;
};

}  // namespace sluice::upstream
