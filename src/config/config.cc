#include "config/config.h"

namespace sluice::config {

const PoolConfig* Config::findPool(const std::string& name) const {
    for (const PoolConfig& pool : pools) {
        if (pool.name == name) return &pool;
    }
    return nullptr;
}

size_t Config::serverCount() const {
    size_t count = 0;
    for (const PoolConfig& pool : pools) count += pool.servers.size();
    return count;
}

}  // namespace sluice::config
