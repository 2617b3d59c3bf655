#pragma once
// An immutable pool of servers as of one configuration snapshot. Shared by all workers.

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "upstream/server.h"

namespace sluice::upstream {

struct Pool {
    config::PoolConfig config;  // settings (its `servers` mirror `servers` below)
    std::vector<Server> servers;

    const std::string& name() const { return config.name; }
};

}  // namespace sluice::upstream
