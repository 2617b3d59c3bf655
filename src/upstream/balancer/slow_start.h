#pragma once
// Slow start: a server that becomes available (added, discovered, back up after a check, an
// ejection or an admin drain/maint) ramps linearly from a small share of its weight to the full
// weight over the pool's `slow_start`. Pure arithmetic on a caller-given clock (the loops' clock,
// milliseconds, CLOCK_MONOTONIC like steadyNowMs()).
//
// The share multiplies a server's weight in every weighted balancer (rampedWeight() in
// selection.h): smooth weighted round robin, random, and the load balancers least_conn,
// power_of_two and ewma, where active/weight then grows faster for a ramping server (its load
// counts as larger). round_robin has no weights and ip_hash/hash keep a key's server stable, so
// those three ignore the share.

#include <cstdint>

#include "upstream/balancer/balancer.h"

namespace sluice::upstream {

// The share right after a transition: 5% of the weight (never 0, so a lone ramping server
// still takes all the traffic).
inline constexpr uint32_t kMinShare = kFullShare / 20;

// Share (kMinShare..kFullShare) at `now_ms` of a server available since `since_ms`, for a
// ramp of `slow_start_ms` (0 = no slow start: always full). A `since_ms` in the future counts
// as "just now".
uint32_t slowStartShare(uint64_t now_ms, uint64_t since_ms, uint64_t slow_start_ms);

// Milliseconds on the monotonic clock libuv's loops use (loop::now), for stamping transitions
// outside a loop.
uint64_t steadyNowMs();

}  // namespace sluice::upstream
