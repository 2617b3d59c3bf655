#pragma once
// An immutable pool of servers as of one configuration snapshot. Shared by all workers.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "tls/client_context.h"
#include "upstream/server.h"

namespace sluice::upstream {

struct Pool {
    config::PoolConfig config;  // settings (its `servers` mirror `servers` below)
    std::vector<Server> servers;
    // Requests waiting in this pool's queues, all workers (for `show pools`).
    mutable std::atomic<int64_t> queued{0};
    // TLS to the servers (config.tls), or null.
    std::shared_ptr<const tls::ClientContext> tls;

    const std::string& name() const { return config.name; }
};

}  // namespace sluice::upstream
