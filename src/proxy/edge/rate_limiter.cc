#include "proxy/edge/rate_limiter.h"

#include <algorithm>
#include <mutex>

namespace sluice::proxy::edge {
namespace {

constexpr int kTatBits = 52;  // µs: 142 years of the loop clock (monotonic, from boot)
constexpr uint64_t kTatMask = (uint64_t{1} << kTatBits) - 1;

uint64_t rateTat(uint64_t state) { return state & kTatMask; }
uint64_t rateGeneration(uint64_t state) { return state >> kTatBits; }
uint64_t rateState(uint64_t generation, uint64_t tat) {
    return (generation << kTatBits) | std::min(tat, kTatMask - 1);
}

}  // namespace

RateLimit RateLimit::of(uint64_t rate, uint64_t per_ms, uint64_t burst) {
    RateLimit limit;
    rate = std::max<uint64_t>(rate, 1);
    limit.emission_us = std::max<uint64_t>(std::max<uint64_t>(per_ms, 1) * 1000 / rate, 1);
    // Capped so that tau + now stays far inside the 52-bit TAT (a burst of years is no limit).
    limit.tolerance_us =
        std::min<uint64_t>(burst, (uint64_t{1} << 44) / limit.emission_us) * limit.emission_us;
    return limit;
}

RateLimiter::RateLimiter(size_t max_keys) : RateLimiter(max_keys, KeyedHash::random()) {}

RateLimiter::RateLimiter(size_t max_keys, KeyedHash hash) : hash_(hash), table_(max_keys) {}

long RateLimiter::claim(uint64_t fp, size_t home, uint64_t tat, uint64_t now_us) {
    const Table::Key key{fp};
    for (;;) {
        uint64_t s = 0;
        if (table_.find(key, home, &s) >= 0) return -2;
        // An unused slot, else the one whose TAT is earliest: a full bucket (TAT <= now) costs
        // nothing to forget, otherwise the key with the least debt goes.
        long victim = -1;
        uint64_t seen = 0;
        for (size_t k = 0; k < Table::kWindow; ++k) {
            const size_t i = table_.at(home, k);
            const uint64_t v = table_.loadState(i);
            if (v == Table::kBusy) continue;
            if (v == Table::kEmpty) {
                victim = static_cast<long>(i);
                seen = v;
                break;
            }
            if (victim < 0 || rateTat(v) < rateTat(seen)) {
                victim = static_cast<long>(i);
                seen = v;
            }
        }
        if (victim < 0) return -1;
        const uint64_t generation = rateGeneration(seen) % 4095 + 1;  // 1-4095: never 0
        if (table_.handOver(static_cast<size_t>(victim), seen, key, rateState(generation, tat))) {
            if (seen != Table::kEmpty && rateTat(seen) > now_us) {
                evictions_.fetch_add(1, std::memory_order_relaxed);
            }
            return victim;
        }
        // Its key was just allowed a request (so it is no longer the best to forget), or
        // another stripe's key took the slot: pick again.
    }
}

RateLimiter::Decision RateLimiter::checkUs(std::string_view key, const RateLimit& limit,
                                           uint64_t now_us) {
    now_us = std::min(now_us, kTatMask >> 1);
    const uint64_t fp = hash_(key);
    const size_t home = reduceToRange(fp, table_.capacity());
    const Table::Key table_key{fp};
    for (;;) {
        uint64_t s = 0;
        const long i = table_.find(table_key, home, &s);
        if (i < 0) {
            // A key not in the table has a full bucket: its first request is allowed.
            std::lock_guard<std::mutex> lock(table_.stripe(home));
            const long claimed = claim(fp, home, now_us + limit.emission_us, now_us);
            if (claimed == -2) continue;  // it had a slot after all
            if (claimed == -1) untracked_.fetch_add(1, std::memory_order_relaxed);
            return {};
        }
        const uint64_t tat = rateTat(s);
        if (tat > now_us + limit.tolerance_us) {
            const uint64_t wait_us = tat - limit.tolerance_us - now_us;
            const uint64_t seconds = std::max<uint64_t>((wait_us + 999999) / 1000000, 1);
            return {false, static_cast<uint32_t>(std::min<uint64_t>(seconds, UINT32_MAX))};
        }
        const uint64_t next =
            rateState(rateGeneration(s), std::max(tat, now_us) + limit.emission_us);
        // Fails when another request of this key got in first (then look again: the TAT moved)
        // or the slot was handed to another key meanwhile (then this key is gone: claim again).
        if (table_.state(static_cast<size_t>(i))
                .compare_exchange_strong(s, next, std::memory_order_relaxed)) {
            return {};
        }
    }
}

size_t RateLimiter::keys() const {
    size_t n = 0;
    for (size_t i = 0; i < table_.capacity(); ++i) {
        const uint64_t s = table_.loadState(i);
        n += s != Table::kEmpty && s != Table::kBusy;
    }
    return n;
}

}  // namespace sluice::proxy::edge
