#pragma once
// The process-wide limiter tables of one configuration generation: one ConnectionLimiter per
// listener with max_connections_per_ip. Every worker's WorkerSnapshot of a generation gets the
// same object (so the limit holds for the process, not per worker), and a reload hands a
// listener whose name stays the same its old table (LimiterRegistry), so connections opened
// before the reload still count and still free their slots.
//
// forGeneration(): any thread (a mutex guards the registry; it runs once per worker per
// reload, never per connection). The tables themselves are lock-free (connection_limiter.h).

#include <cstdint>
#include <memory>
#include <vector>

#include "config/config.h"
#include "proxy/edge/connection_limiter.h"

namespace sluice::proxy::edge {

struct EdgeLimits {
    // By listener index; null where max_connections_per_ip = 0.
    std::vector<std::shared_ptr<ConnectionLimiter>> connections;

    static std::shared_ptr<const EdgeLimits> forGeneration(const config::Config& config,
                                                           uint64_t generation);
};

}  // namespace sluice::proxy::edge
