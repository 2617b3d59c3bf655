#include "proxy/edge/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace sluice::proxy::edge {
namespace {

// Requests of `key` at `now_ms` until the first denial; returns how many were allowed.
int allowedNow(RateLimiter& limiter, std::string_view key, const RateLimit& limit,
               uint64_t now_ms) {
    int n = 0;
    while (limiter.check(key, limit, now_ms).allowed) {
        if (++n > 1000000) break;
    }
    return n;
}

TEST(RateLimit, EmissionIntervalAndTolerance) {
    const RateLimit a = RateLimit::of(100, 1000, 5);
    EXPECT_EQ(a.emission_us, 10000u);
    EXPECT_EQ(a.tolerance_us, 50000u);
    EXPECT_EQ(RateLimit::of(3, 1000, 0).emission_us, 333333u);
    EXPECT_EQ(RateLimit::of(1, 3600000, 0).emission_us, 3600000000u);
    EXPECT_EQ(RateLimit::of(10000000, 1000, 0).emission_us, 1u);  // above 1M/s: 1 µs
}

TEST(RateLimiter, HighRatesSpreadRequestsInsideAMillisecond) {
    // 1,000,000 per second, burst 0: one request per microsecond. Requests a few microseconds
    // apart within one millisecond are all allowed (with the loop's millisecond clock they
    // would all look simultaneous and every one after the first would be denied); only two in
    // the same microsecond are too many.
    RateLimiter limiter(1000);
    const RateLimit limit = RateLimit::of(1000000, 1000, 0);
    for (uint64_t us = 5000000; us < 5000000 + 25 * 40; us += 40) {
        EXPECT_TRUE(limiter.checkUs("k", limit, us).allowed) << us;
    }
    EXPECT_TRUE(limiter.checkUs("k", limit, 6000000).allowed);
    EXPECT_FALSE(limiter.checkUs("k", limit, 6000000).allowed);
}

TEST(RateLimiter, SteadyRateWithoutBurst) {
    RateLimiter limiter(1000);
    const RateLimit limit = RateLimit::of(10, 1000, 0);  // one per 100 ms
    EXPECT_TRUE(limiter.check("k", limit, 1000).allowed);
    EXPECT_FALSE(limiter.check("k", limit, 1000).allowed);
    EXPECT_FALSE(limiter.check("k", limit, 1099).allowed);
    EXPECT_TRUE(limiter.check("k", limit, 1100).allowed);
    EXPECT_FALSE(limiter.check("k", limit, 1150).allowed);
    EXPECT_TRUE(limiter.check("k", limit, 1200).allowed);
    // Idle for a long time: the bucket holds one request, not the idle time's worth.
    EXPECT_EQ(allowedNow(limiter, "k", limit, 60000), 1);
}

TEST(RateLimiter, BurstOnTopOfTheRate) {
    RateLimiter limiter(1000);
    const RateLimit limit = RateLimit::of(10, 1000, 5);
    EXPECT_EQ(allowedNow(limiter, "k", limit, 0), 6);  // burst + the one the rate allows
    EXPECT_EQ(allowedNow(limiter, "k", limit, 50), 0);
    EXPECT_EQ(allowedNow(limiter, "k", limit, 100), 1);
}

TEST(RateLimiter, RefillsOverTimeUpToTheBurst) {
    RateLimiter limiter(1000);
    const RateLimit limit = RateLimit::of(10, 1000, 20);
    EXPECT_EQ(allowedNow(limiter, "k", limit, 10000), 21);
    EXPECT_EQ(allowedNow(limiter, "k", limit, 11000), 10);  // one second: ten tokens
    EXPECT_EQ(allowedNow(limiter, "k", limit, 11500), 5);
    EXPECT_EQ(allowedNow(limiter, "k", limit, 100000), 21);  // long idle: a full bucket only
    // Over a span W after a full bucket: burst + 1 + W / T, however the requests are spread.
    int total = 0;
    for (uint64_t t = 200000; t <= 205000; t += 37) total += allowedNow(limiter, "k", limit, t);
    EXPECT_EQ(total, 21 + (205000 - 200000 - (205000 - 200000) % 37) / 100);
}

TEST(RateLimiter, KeysAreIndependent) {
    RateLimiter limiter(1000);
    const RateLimit limit = RateLimit::of(1, 60000, 0);
    EXPECT_TRUE(limiter.check("alice", limit, 0).allowed);
    EXPECT_FALSE(limiter.check("alice", limit, 0).allowed);
    EXPECT_TRUE(limiter.check("bob", limit, 0).allowed);
    EXPECT_TRUE(limiter.check(std::string_view("\0\0", 2), limit, 0).allowed);
    EXPECT_TRUE(limiter.check(std::string_view("\0", 1), limit, 0).allowed);
    EXPECT_TRUE(limiter.check("", limit, 0).allowed);
    EXPECT_FALSE(limiter.check("bob", limit, 1).allowed);
    EXPECT_EQ(limiter.keys(), 5u);
}

TEST(RateLimiter, RetryAfterIsTheSecondsUntilATokenRoundedUp) {
    RateLimiter limiter(1000);
    const RateLimit per_minute = RateLimit::of(1, 60000, 0);
    ASSERT_TRUE(limiter.check("k", per_minute, 0).allowed);
    EXPECT_EQ(limiter.check("k", per_minute, 0).retry_after_s, 60u);
    EXPECT_EQ(limiter.check("k", per_minute, 1).retry_after_s, 60u);  // 59.999 s
    EXPECT_EQ(limiter.check("k", per_minute, 1000).retry_after_s, 59u);
    EXPECT_EQ(limiter.check("k", per_minute, 59000).retry_after_s, 1u);
    EXPECT_EQ(limiter.check("k", per_minute, 59999).retry_after_s, 1u);
    EXPECT_TRUE(limiter.check("k", per_minute, 60000).allowed);

    const RateLimit fast = RateLimit::of(10, 1000, 0);
    ASSERT_TRUE(limiter.check("f", fast, 0).allowed);
    const auto d = limiter.check("f", fast, 0);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after_s, 1u);  // 100 ms: at least 1

    // With a burst, the wait is for the next token, not for the whole bucket.
    const RateLimit bursty = RateLimit::of(1, 10000, 3);
    EXPECT_EQ(allowedNow(limiter, "b", bursty, 0), 4);
    EXPECT_EQ(limiter.check("b", bursty, 0).retry_after_s, 10u);
    EXPECT_EQ(limiter.check("b", bursty, 2500).retry_after_s, 8u);                     // 7.5 s
    EXPECT_EQ(limiter.check("u", RateLimit::of(1, 3600000, 0), 0).retry_after_s, 0u);  // allowed
    EXPECT_EQ(limiter.check("u", RateLimit::of(1, 3600000, 0), 0).retry_after_s, 3600u);
}

TEST(RateLimiter, AReloadMayChangeTheRateOfAKeptTable) {
    RateLimiter limiter(1000);
    EXPECT_EQ(allowedNow(limiter, "k", RateLimit::of(1, 1000, 0), 0), 1);
    // Now 100/s: the debt left (TAT = 1 s) is time, and is repaid at the new rate's pace.
    EXPECT_EQ(allowedNow(limiter, "k", RateLimit::of(100, 1000, 0), 990), 0);
    EXPECT_EQ(allowedNow(limiter, "k", RateLimit::of(100, 1000, 0), 1000), 1);
}

TEST(RateLimiter, AQuietKeyIsForgottenBeforeOneInDebt) {
    RateLimiter limiter(8);  // one window: all keys compete for the same 8 slots
    const RateLimit limit = RateLimit::of(1, 60000, 0);
    ASSERT_TRUE(limiter.check("quiet", limit, 0).allowed);  // full again from 60 s on
    for (int i = 0; i < 7; ++i) {
        ASSERT_TRUE(limiter.check("busy" + std::to_string(i), limit, 50000).allowed);
    }
    EXPECT_EQ(limiter.keys(), 8u);
    ASSERT_TRUE(limiter.check("new", limit, 70000).allowed);
    EXPECT_EQ(limiter.evictions(), 0u);  // "quiet" had a full bucket: nothing was lost
    for (int i = 0; i < 7; ++i) {
        EXPECT_FALSE(limiter.check("busy" + std::to_string(i), limit, 70000).allowed) << i;
    }
    EXPECT_FALSE(limiter.check("new", limit, 70000).allowed);
}

TEST(RateLimiter, AtMaxKeysTheKeyWithTheLeastDebtGoes) {
    RateLimiter limiter(8);
    const RateLimit limit = RateLimit::of(1, 60000, 0);
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(limiter.check("k" + std::to_string(i), limit, 1000 * i).allowed);
    }
    ASSERT_TRUE(limiter.check("k8", limit, 9000).allowed);  // all in debt: k0's TAT is earliest
    EXPECT_EQ(limiter.evictions(), 1u);
    EXPECT_EQ(limiter.keys(), 8u);
    EXPECT_TRUE(limiter.check("k0", limit, 9000).allowed);  // forgotten: a full bucket again
    EXPECT_EQ(limiter.evictions(), 2u);                     // ... and it pushed out k1
    EXPECT_TRUE(limiter.check("k1", limit, 9000).allowed);
    for (int i = 3; i < 9; ++i) {
        EXPECT_FALSE(limiter.check("k" + std::to_string(i), limit, 9000).allowed) << i;
    }
}

// N threads hammer one key over a fake clock that moves 1 ms at a time (all threads see each
// instant, then exhaust it); the total allowed is exactly burst + 1 + window / T. (The burst
// holds more than a step's 100 tokens, so no step's refill overflows the bucket.)
TEST(RateLimiter, ThreadsHammeringOneKeyGetExactlyTheAllowance) {
    constexpr int kThreads = 4;
    constexpr uint64_t kWindowMs = 100;
    const RateLimit limit = RateLimit::of(100000, 1000, 150);  // T = 10 µs: 100 tokens per ms
    RateLimiter limiter(1000);
    std::atomic<uint64_t> clock{5000};
    std::atomic<int> allowed{0};
    std::barrier step(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (uint64_t ms = 0; ms <= kWindowMs; ++ms) {
                step.arrive_and_wait();  // everyone sees the same instant
                const uint64_t now = clock.load() + ms;
                int mine = 0;
                while (limiter.check("hot", limit, now).allowed) ++mine;
                allowed.fetch_add(mine);
                step.arrive_and_wait();  // nobody moves on while another still hammers
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(allowed.load(), 150 + 1 + static_cast<int>(kWindowMs * 1000 / 10));
    EXPECT_EQ(limiter.keys(), 1u);
}

// The same with a key that is new: the threads race for its slot; one slot, exact allowance.
TEST(RateLimiter, ThreadsRacingForANewKeyShareOneSlot) {
    for (int round = 0; round < 200; ++round) {
        RateLimiter limiter(64);
        const RateLimit limit = RateLimit::of(1, 60000, 9);
        std::atomic<int> allowed{0}, ready{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&] {
                ready.fetch_add(1);
                while (ready.load() < 8) std::this_thread::yield();  // line them up to race
                for (int i = 0; i < 5; ++i) allowed += limiter.check("new", limit, 0).allowed;
            });
        }
        for (auto& th : threads) th.join();
        ASSERT_EQ(allowed.load(), 10) << "round " << round;
        ASSERT_EQ(limiter.keys(), 1u);
    }
}

long residentKiB() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

// The bound: 200,000 distinct keys through a max_keys = 10000 table must not grow RSS by
// more than a few MiB. The keys are formatted into a stack buffer (no heap of the test's own).
TEST(RateLimiter, MemoryStaysBoundedByMaxKeys) {
    const long before = residentKiB();
    ASSERT_GT(before, 0);
    {
        RateLimiter limiter(10000);
        const RateLimit limit = RateLimit::of(100, 1000, 0);
        char key[32];
        for (int i = 0; i < 200000; ++i) {
            const int n = std::snprintf(key, sizeof(key), "10.%d.%d.%d", (i >> 16) & 255,
                                        (i >> 8) & 255, i & 255);
            ASSERT_TRUE(limiter
                            .check(std::string_view(key, static_cast<size_t>(n)), limit,
                                   static_cast<uint64_t>(i / 100))
                            .allowed);
        }
        const long after = residentKiB();
        EXPECT_EQ(limiter.keys(), 10000u);
        EXPECT_LE(after - before, 4 * 1024);
        std::cout << "RSS growth for 200000 keys, max_keys 10000: " << (after - before)
                  << " KiB (table " << limiter.capacity() * 16 / 1024 << " KiB)\n";
        RecordProperty("rss_growth_kib", static_cast<int>(after - before));
    }
}

}  // namespace
}  // namespace sluice::proxy::edge
