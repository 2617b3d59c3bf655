#include "proxy/edge/edge_limits.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "proxy/edge/limiter_registry.h"

namespace sluice::proxy::edge {
namespace {

struct Shared {
    std::mutex mutex;
    LimiterRegistry<ConnectionLimiter> connections;
    LimiterRegistry<RateLimiter> rates;
    uint64_t newest = 0;
    std::map<uint64_t, std::weak_ptr<const EdgeLimits>> built;  // by generation
};

Shared& shared() {
    static Shared s;
    return s;
}

// Twice the connections the process may hold open: the table stays at most half full
// (connection_limiter.h), so no address is ever admitted untracked.
size_t connectionCapacity(const config::Config& config) {
    const uint64_t want = 2 * std::max<uint64_t>(config.global.max_connections, 32);
    return static_cast<size_t>(std::min<uint64_t>(want, uint64_t{1} << 24));
}

}  // namespace

std::shared_ptr<const EdgeLimits> EdgeLimits::forGeneration(const config::Config& config,
                                                            uint64_t generation) {
    Shared& s = shared();
    std::lock_guard<std::mutex> lock(s.mutex);
    for (auto it = s.built.begin(); it != s.built.end();) {
        it = it->second.expired() ? s.built.erase(it) : std::next(it);
    }
    if (auto it = s.built.find(generation); it != s.built.end()) return it->second.lock();
    auto limits = std::make_shared<EdgeLimits>();
    for (const config::ListenerConfig& listener : config.listeners) {
        limits->connections.push_back(
            listener.max_connections_per_ip > 0
                ? s.connections.obtain(listener.name, connectionCapacity(config))
                : nullptr);
        auto& rates = limits->rates.emplace_back();
        for (size_t i = 0; i < listener.rate_limits.size(); ++i) {
            const config::RateLimitConfig& rl = listener.rate_limits[i];
            std::string key =
                rl.key == config::RateLimitKeyKind::kClientIp ? "client_ip" : "header:" + rl.header;
            for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            size_t ordinal = 0;
            for (size_t j = 0; j < i; ++j) {
                const config::RateLimitConfig& other = listener.rate_limits[j];
                if (other.key == rl.key && other.header == rl.header &&
                    other.path_prefix == rl.path_prefix)
                    ++ordinal;
            }
            EdgeLimits::Rate rate;
            rate.table = s.rates.obtain(
                rateLimitIdentity(listener.name, key, rl.path_prefix, ordinal), rl.max_keys);
            rate.limit = RateLimit::of(rl.rate, static_cast<uint64_t>(rl.per.count()), rl.burst);
            rate.key = rl.key;
            rate.header = rl.header;
            rate.path_prefix = rl.path_prefix;
            rates.push_back(std::move(rate));
        }
    }
    // Only the newest generation decides what is gone (a worker may build an older one late).
    if (generation >= s.newest) {
        s.connections.sweep();
        s.rates.sweep();
        s.newest = generation;
    }
    s.built[generation] = limits;
    return limits;
}

}  // namespace sluice::proxy::edge
