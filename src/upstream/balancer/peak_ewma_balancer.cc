#include "upstream/balancer/peak_ewma_balancer.h"

#include <algorithm>
#include <cmath>

#include "upstream/balancer/selection.h"

namespace sluice::upstream {
namespace {

// Costs are products with (active + 1); an estimate of exactly 0 (sub-resolution samples, or a
// long idle decay) would make the active count irrelevant and flood that server.
constexpr double kMinEstimateMs = 0.001;
// Before any server has a sample every estimate is this: cost then follows active / weight.
constexpr double kNoSampleMs = 1.0;
constexpr double kMaxSampleMs = 1e9;

}  // namespace

PeakEwmaBalancer::PeakEwmaBalancer(size_t server_count, uint64_t seed, double decay_ms)
    : estimates_(server_count), rng_(seed), decay_ms_(decay_ms > 0 ? decay_ms : kDefaultDecayMs) {}

double PeakEwmaBalancer::decayFactor(const Estimate& estimate, uint64_t now_ms) const {
    // A clock that appears to go backwards (samples and picks from different call sites) must
    // not grow an estimate: treat it as no time passed.
    uint64_t elapsed = now_ms > estimate.stamp_ms ? now_ms - estimate.stamp_ms : 0;
    return std::exp(-static_cast<double>(elapsed) / decay_ms_);
}

void PeakEwmaBalancer::observeLatency(int server, double ms, uint64_t now_ms) {
    if (server < 0 || static_cast<size_t>(server) >= estimates_.size()) return;
    if (!(ms >= 0)) ms = 0;  // also catches NaN
    ms = std::min(ms, kMaxSampleMs);
    Estimate& estimate = estimates_[static_cast<size_t>(server)];
    if (!estimate.sampled) {
        estimate = {ms, now_ms, true};
        return;
    }
    // Decay to now first (the same view pick() has), then either jump to a higher sample or
    // blend the lower one in with weight (1 - w): the standard EWMA over irregular intervals,
    // where a sample after a long gap counts for more than one right after the previous.
    double w = decayFactor(estimate, now_ms);
    double decayed = estimate.ms * w;
    estimate.ms = ms > decayed ? ms : decayed + ms * (1 - w);
    estimate.stamp_ms = std::max(estimate.stamp_ms, now_ms);
}

double PeakEwmaBalancer::estimateMs(int server, uint64_t now_ms) const {
    if (server < 0 || static_cast<size_t>(server) >= estimates_.size()) return -1;
    const Estimate& estimate = estimates_[static_cast<size_t>(server)];
    if (!estimate.sampled) return -1;
    return estimate.ms * decayFactor(estimate, now_ms);
}

double PeakEwmaBalancer::cost(size_t index, const ServerLoad& load, uint64_t now_ms,
                              double floor_ms) const {
    const Estimate& estimate = estimates_[index];
    double latency = estimate.sampled ? estimate.ms * decayFactor(estimate, now_ms) : floor_ms;
    latency = std::max({latency, floor_ms, kMinEstimateMs});
    return latency * (static_cast<double>(load.active) + 1) /
           static_cast<double>(rampedWeight(load));
}

int PeakEwmaBalancer::pick(const PickContext& ctx) {
    auto servers = firstServers(ctx.servers, estimates_.size());
    int first = weightedChoice(servers, rng_);
    if (first < 0) return -1;
    int second = weightedChoice(servers, rng_, first);
    if (second < 0) return first;

    // The floor: the fastest eligible server's undecayed estimate. Its own estimate is fresh
    // when it carries traffic, so this is "how fast can this pool currently be".
    double floor_ms = -1;
    for (size_t i = 0; i < servers.size(); ++i) {
        if (servers[i].eligible && estimates_[i].sampled) {
            if (floor_ms < 0 || estimates_[i].ms < floor_ms) floor_ms = estimates_[i].ms;
        }
    }
    if (floor_ms < 0) floor_ms = kNoSampleMs;

    auto a = static_cast<size_t>(first);
    auto b = static_cast<size_t>(second);
    double cost_a = cost(a, servers[a], ctx.now_ms, floor_ms);
    double cost_b = cost(b, servers[b], ctx.now_ms, floor_ms);
    return cost_b < cost_a ? second : first;
}

}  // namespace sluice::upstream
