#pragma once
// [[listener.rate_limit]]: requests per key (a client address, a header's value) limited to
// `rate` per `per` with `burst` more at once, for a whole process: one table per limit shared by
// all workers, lock-free on the common path, memory fixed by max_keys.
//
// Algorithm: GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp). Each
// key holds a "theoretical arrival time" (TAT). With T = per / rate (one request's worth of
// time) and tau = burst * T, a request at `now` is allowed when TAT <= now + tau, and then TAT
// becomes max(TAT, now) + T; otherwise it is denied and nothing changes. So a key unseen for a
// while (TAT <= now: a full bucket) may send burst + 1 requests at once (the one the rate allows
// plus `burst` above it, config.md's meaning of burst), then one per T: over any span of time
// W after a full bucket, at most burst + 1 + floor(W / T) requests. Time is a monotonic clock in
// microseconds given to checkUs() (check() takes milliseconds, for tests); TATs are kept in
// microseconds, so T is exact to the microsecond (T = per / rate rounded down, at least 1 µs: 3 per
// 1s gives T = 333,333 µs, one request in 10^6 more than the exact rate allows, and rates above
// 1,000,000/s are not representable).
//
// Use (on a worker, for each request a limit's path_prefix matches):
//   const auto d = limiter.checkUs(key, limit, monotonic microseconds);
//   if (!d.allowed) -> 429 with "Retry-After: <d.retry_after_s>", nothing sent upstream.
//   `limit` (RateLimit::of(rate, per, burst)) comes from the snapshot with every call, so a reload
//   that changes rate, per or burst keeps the table and its state.
//
// Concurrency: any thread. Finding a key and taking its token is loads plus one compare-and-swap
// on the key's state word (its TAT and a generation); a denial writes nothing. Concurrent
// requests of one key are exact: each allowed one moved the TAT by exactly T from the value the
// previous one left (the unit test RateLimiter.ThreadsHammeringOneKeyGetExactlyTheAllowance).
// Only a key's first request takes a lock (one of 64, by its home position), to give it a slot
// without ever giving one key two (slot_table.h has the protocol).
//
// Memory and eviction: max_keys slots of 16 bytes (a 64-bit keyed hash of the key, the state),
// allocated once; 100,000 keys = 1.6 MB. A key may sit in the 8 slots from its hash's position
// on. A new key takes an unused slot there, or else the slot whose TAT is earliest:
//   - if that TAT is <= now (some are whenever a window holds keys that have gone quiet), the
//     key it forgets had a full bucket, which is exactly what an unknown key gets: nothing lost;
//   - otherwise the one forgotten is the key of its window whose bucket refills soonest (least
//     debt; the key admitted least recently, give or take T). Forgetting only ever favours that
//     key (it starts again with a full bucket), never denies anyone wrongly.
// So "least recently seen goes first" holds within each 8-slot window, not across the table
// (a set-associative approximation of LRU, like a CPU cache); keys that are being denied have the
// latest TATs of all and are the last to go, which is what matters under a flood of new keys.
// Two keys share a slot only if their 64-bit keyed hashes are equal (about 3 in 10^10 for a full
// table of 100,000; the secret is random per table, so a client cannot aim for it).
//
// Reload: the table is a shared object; LimiterRegistry (limiter_registry.h) hands the new
// snapshot the same table when the limit's identity (listener, key, path_prefix, and which of
// the listener's limits with those it is) and max_keys are unchanged.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/edge/keyed_hash.h"
#include "proxy/edge/slot_table.h"

namespace sluice::proxy::edge {

struct RateLimit {
    uint64_t emission_us = 1;   // T: per / rate
    uint64_t tolerance_us = 0;  // tau: burst * T

    // `rate` >= 1 requests per `per_ms` >= 1 milliseconds, `burst` more at once (0 allowed).
    static RateLimit of(uint64_t rate, uint64_t per_ms, uint64_t burst);
};

class RateLimiter {
  public:
    struct Decision {
        bool allowed = true;
        uint32_t retry_after_s = 0;  // denied: seconds until a token is available, rounded up, >= 1
    };

    // `max_keys` slots (at least 8); a random hash secret unless `hash` is given (tests).
    explicit RateLimiter(size_t max_keys);
    RateLimiter(size_t max_keys, KeyedHash hash);
    RateLimiter(const RateLimiter&) = delete;
    RateLimiter& operator=(const RateLimiter&) = delete;

    // `now_us`: a monotonic clock in microseconds. Not the loop's millisecond clock: with time
    // that moves once a millisecond, requests of one key within a tick look simultaneous, and a
    // high rate with burst 0 (T below 1 ms) would deny all but the first of them.
    [[nodiscard]] Decision checkUs(std::string_view key, const RateLimit& limit, uint64_t now_us);
    // checkUs() with a millisecond clock (the unit tests' whole-ms timelines).
    [[nodiscard]] Decision check(std::string_view key, const RateLimit& limit, uint64_t now_ms) {
        return checkUs(key, limit, now_ms * 1000);
    }

    size_t capacity() const { return table_.capacity(); }
    // Slots in use (a scan; for tests and the status page).
    size_t keys() const;
    // Keys forgotten while their bucket was not full (a new key needed the slot; they start
    // again with a full bucket), and requests allowed without a slot (every slot of the window
    // mid-hand-over at once; fail open).
    uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
    uint64_t untracked() const { return untracked_.load(std::memory_order_relaxed); }

  private:
    // A slot's key: the key's keyed hash. Its state: [generation 1-4095:12 | TAT in µs:52].
    using Table = SlotTable<1, 8>;

    // Under the home stripe's lock: gives `fp` a slot whose TAT is `tat`; -2 when `fp` turns out
    // to have one, -1 when every slot of the window is mid-hand-over.
    long claim(uint64_t fp, size_t home, uint64_t tat, uint64_t now_us);

    KeyedHash hash_;
    Table table_;
    std::atomic<uint64_t> evictions_{0};
    std::atomic<uint64_t> untracked_{0};
};

}  // namespace sluice::proxy::edge
