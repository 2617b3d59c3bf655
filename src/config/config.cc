#include "config/config.h"

#include <string>

namespace sluice::config {

const PoolConfig* Config::findPool(const std::string& name) const {
    for (const PoolConfig& pool : pools) {
        if (pool.name == name) return &pool;
    }
    return nullptr;
}

std::string Config::where(SourcePos pos) const {
    if (pos.line == 0) return path;
    return path + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
}

size_t Config::serverCount() const {
    size_t count = 0;
    for (const PoolConfig& pool : pools) count += pool.servers.size();
    return count;
}

}  // namespace sluice::config
