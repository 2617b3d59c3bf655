#include "server/pool_watch.h"

#include "base/log.h"

namespace sluice::server {

PoolWatch::PoolWatch(uv_loop_t* loop, SnapshotSource snapshot)
    : loop_(loop), snapshot_(std::move(snapshot)), timer_(loop, [this] { check(); }) {
    timer_.start(kPeriodMs, kPeriodMs);
}

void PoolWatch::check() {
    const auto snapshot = snapshot_();
    if (!snapshot) return;
    const uint64_t now = loop::now(loop_);
    std::map<std::string, bool> next;
    for (const auto& pool : snapshot->pools) {
        size_t available = 0;
        for (const auto& server : pool->servers) available += server.state->available(now) ? 1 : 0;
        const bool empty = available == 0;
        const auto was = empty_.find(pool->name());
        const bool was_empty = was != empty_.end() && was->second;
        if (empty && !was_empty) {
            LOG_WARN("pool %s has no available server (%zu servers): requests get 503",
                     pool->name().c_str(), pool->servers.size());
        } else if (!empty && was_empty) {
            LOG_WARN("pool %s recovered: %zu of %zu servers available", pool->name().c_str(),
                     available, pool->servers.size());
        }
        next[pool->name()] = empty;
    }
    empty_ = std::move(next);
}

}  // namespace sluice::server
