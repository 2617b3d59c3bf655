#pragma once
// The process-wide limiter tables of one configuration generation: one ConnectionLimiter per
// listener with max_connections_per_ip, one RateLimiter per [[listener.rate_limit]]. Every worker's
// WorkerSnapshot of a generation gets the same object (so the limit holds for the process, not per
// worker), and a reload hands a listener whose name stays the same its old table (LimiterRegistry),
// so connections opened before the reload still count and still free their slots; likewise a rate
// limit whose identity (listener, key, path_prefix, ordinal) and max_keys stay keeps its state,
// while its rate, per and burst may change.
//
// forGeneration(): any thread (a mutex guards the registry; it runs once per worker per
// reload, never per connection). The tables themselves are lock-free (connection_limiter.h).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "proxy/edge/connection_limiter.h"
#include "proxy/edge/rate_limiter.h"

namespace sluice::proxy::edge {

struct EdgeLimits {
    // By listener index; null where max_connections_per_ip = 0.
    std::vector<std::shared_ptr<ConnectionLimiter>> connections;

    struct Rate {
        std::shared_ptr<RateLimiter> table;
        RateLimit limit;
        config::RateLimitKeyKind key = config::RateLimitKeyKind::kClientIp;
        std::string header;       // kHeader: the field's name
        std::string path_prefix;  // "" = every request
    };
    // By listener index: every limit of the listener, in config order.
    std::vector<std::vector<Rate>> rates;

    static std::shared_ptr<const EdgeLimits> forGeneration(const config::Config& config,
                                                           uint64_t generation);
};

}  // namespace sluice::proxy::edge
