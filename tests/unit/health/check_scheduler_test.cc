#include "health/check_scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

namespace sluice::health {
namespace {

using Id = CheckScheduler::TargetId;

std::vector<CheckScheduler::NewTarget> targets(Id first, size_t n, uint64_t interval_ms) {
    std::vector<CheckScheduler::NewTarget> out;
    for (size_t i = 0; i < n; ++i) out.push_back({first + i, interval_ms});
    return out;
}

// Drives the scheduler with a fake clock, 1 ms per step, as a timer armed to nextDue() would.
// Returns every check as (time, id).
std::vector<std::pair<uint64_t, Id>> run(CheckScheduler& s, uint64_t from, uint64_t until) {
    std::vector<std::pair<uint64_t, Id>> checks;
    for (uint64_t now = from; now <= until; ++now) {
        for (Id id : s.popDue(now)) checks.push_back({now, id});
    }
    return checks;
}

TEST(CheckScheduler, ASingleNewServerIsCheckedAtOnce) {
    CheckScheduler s;
    s.add(targets(1, 1, 2000), 5000);
    EXPECT_EQ(s.nextDue(), 5000u);
    EXPECT_EQ(s.popDue(5000), std::vector<Id>{1});
}

TEST(CheckScheduler, AFewNewServersAreCheckedWithinTensOfMilliseconds) {
    CheckScheduler s;
    s.add(targets(1, 5, 2000), 0);
    const auto checks = run(s, 0, 100);
    ASSERT_EQ(checks.size(), 5u);
    EXPECT_EQ(checks.front().first, 0u);
    EXPECT_LE(checks.back().first, 5 * CheckScheduler::kFirstCheckGapMs);
}

TEST(CheckScheduler, TwoHundredServersFirstChecksAllFallWithinTheFirstInterval) {
    constexpr uint64_t kInterval = 2000;
    CheckScheduler s;
    s.add(targets(1, 200, kInterval), 1000);
    std::map<Id, uint64_t> first;
    for (const auto& [t, id] : run(s, 1000, 1000 + kInterval - 1)) first.try_emplace(id, t);
    EXPECT_EQ(first.size(), 200u);
    EXPECT_EQ(first.at(1), 1000u);  // the first one at once
}

TEST(CheckScheduler, TwoHundredServersAreNeverProbedInABurst) {
    constexpr uint64_t kInterval = 2000;
    constexpr size_t kServers = 200;
    constexpr uint64_t kWindow = 100;  // ms
    CheckScheduler s(42);
    s.add(targets(1, kServers, kInterval), 0);
    const auto checks = run(s, 0, 60 * kInterval);
    // On average kServers / kInterval * kWindow = 10 checks per window; allow 2.5x.
    const size_t limit = kServers * kWindow / kInterval * 5 / 2;
    size_t worst = 0;
    size_t lo = 0;
    for (size_t hi = 0; hi < checks.size(); ++hi) {
        while (checks[hi].first - checks[lo].first >= kWindow) ++lo;
        worst = std::max(worst, hi - lo + 1);
    }
    EXPECT_LE(worst, limit) << "checks within " << kWindow << "ms";
    // And every server was checked about once per interval overall.
    EXPECT_GE(checks.size(), kServers * 59);
    EXPECT_LE(checks.size(), kServers * 61);
}

TEST(CheckScheduler, EachServerIsCheckedEveryIntervalPlusOrMinusJitter) {
    constexpr uint64_t kInterval = 2000;
    CheckScheduler s(7);
    s.add(targets(1, 200, kInterval), 0);
    std::map<Id, std::vector<uint64_t>> times;
    for (const auto& [t, id] : run(s, 0, 30 * kInterval)) times[id].push_back(t);
    ASSERT_EQ(times.size(), 200u);
    const uint64_t jitter = CheckScheduler::jitterBound(kInterval);
    ASSERT_GT(jitter, 0u);
    bool any_jitter = false;
    for (const auto& [id, ts] : times) {
        ASSERT_GE(ts.size(), 29u) << "server " << id;
        for (size_t i = 1; i < ts.size(); ++i) {
            const uint64_t gap = ts[i] - ts[i - 1];
            EXPECT_GE(gap, kInterval - 2 * jitter) << "server " << id << " check " << i;
            EXPECT_LE(gap, kInterval + 2 * jitter) << "server " << id << " check " << i;
            any_jitter = any_jitter || gap != kInterval;
        }
    }
    EXPECT_TRUE(any_jitter);
}

TEST(CheckScheduler, ManyServersWithAShortIntervalStillSpreadOverIt) {
    constexpr uint64_t kInterval = 100;
    CheckScheduler s;
    s.add(targets(1, 500, kInterval), 0);
    std::map<Id, uint64_t> first;
    std::map<uint64_t, size_t> per_ms;
    for (const auto& [t, id] : run(s, 0, kInterval - 1)) {
        if (first.try_emplace(id, t).second) ++per_ms[t];
    }
    EXPECT_EQ(first.size(), 500u);
    for (const auto& [t, n] : per_ms) EXPECT_LE(n, 5u) << "at " << t << "ms";
}

TEST(CheckScheduler, AStalledClockSkipsMissedSlotsInsteadOfCatchingUp) {
    CheckScheduler s;
    s.add(targets(1, 1, 1000), 0);
    EXPECT_EQ(s.popDue(0).size(), 1u);
    // The loop was blocked for ten intervals: one check now, the next about an interval later.
    EXPECT_EQ(s.popDue(10500).size(), 1u);
    EXPECT_TRUE(s.popDue(10500).empty());
    ASSERT_TRUE(s.nextDue());
    EXPECT_GT(*s.nextDue(), 10500u);
    EXPECT_LE(*s.nextDue(), 11000u + CheckScheduler::jitterBound(1000));
}

TEST(CheckScheduler, RemovedServersAreNoLongerDue) {
    CheckScheduler s;
    s.add(targets(1, 3, 1000), 0);
    s.remove(2);
    const auto checks = run(s, 0, 5000);
    for (const auto& [t, id] : checks) EXPECT_NE(id, 2u);
    EXPECT_EQ(s.size(), 2u);
    s.remove(1);
    s.remove(3);
    EXPECT_FALSE(s.nextDue());
}

TEST(CheckScheduler, ServersAddedLaterAreCheckedAtOnceAndKeepOthersPhase) {
    CheckScheduler s;
    s.add(targets(1, 2, 1000), 0);
    run(s, 0, 1500);
    const auto due_before = s.dueOf(1);
    s.add(targets(10, 1, 1000), 1501);
    EXPECT_EQ(s.dueOf(10), 1501u);
    EXPECT_EQ(s.dueOf(1), due_before);
}

TEST(CheckScheduler, ANewIntervalTakesEffectWithinOneNewInterval) {
    CheckScheduler s;
    s.add(targets(1, 1, 10000), 0);
    s.popDue(0);
    s.setInterval(1, 500, 100);
    ASSERT_TRUE(s.dueOf(1));
    EXPECT_GT(*s.dueOf(1), 100u);
    EXPECT_LE(*s.dueOf(1), 600u);
    std::vector<uint64_t> ts;
    for (const auto& [t, id] : run(s, 101, 5100)) ts.push_back(t);
    EXPECT_GE(ts.size(), 9u);
    EXPECT_LE(ts.size(), 11u);
}

TEST(CheckScheduler, SameSeedSameSchedule) {
    CheckScheduler a(3);
    CheckScheduler b(3);
    a.add(targets(1, 50, 1000), 0);
    b.add(targets(1, 50, 1000), 0);
    EXPECT_EQ(run(a, 0, 10000), run(b, 0, 10000));
}

}  // namespace
}  // namespace sluice::health
