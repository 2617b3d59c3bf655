#include "upstream/balancer/slow_start.h"

#include <gtest/gtest.h>

#include <vector>

#include "pick.h"
#include "upstream/balancer/least_conn_balancer.h"
#include "upstream/balancer/random_balancer.h"
#include "upstream/balancer/smooth_weighted_balancer.h"

namespace sluice::upstream {
namespace {

TEST(SlowStartShare, RampsLinearlyFromASmallShareToTheFullWeight) {
    const uint64_t since = 50'000;
    EXPECT_EQ(slowStartShare(since, since, 10'000), kMinShare);
    EXPECT_EQ(slowStartShare(since + 100, since, 10'000), kMinShare);  // 1% < the floor
    EXPECT_EQ(slowStartShare(since + 2'500, since, 10'000), kFullShare / 4);
    EXPECT_EQ(slowStartShare(since + 5'000, since, 10'000), kFullShare / 2);
    EXPECT_EQ(slowStartShare(since + 9'999, since, 10'000), 999u);
    EXPECT_EQ(slowStartShare(since + 10'000, since, 10'000), kFullShare);
    EXPECT_EQ(slowStartShare(since + 999'999, since, 10'000), kFullShare);
    // Monotonic over the whole ramp.
    uint32_t last = 0;
    for (uint64_t t = since; t <= since + 10'000; t += 137) {
        const uint32_t share = slowStartShare(t, since, 10'000);
        EXPECT_GE(share, last);
        last = share;
    }
}

TEST(SlowStartShare, NoSlowStartOrNoTransitionMeansFullWeight) {
    EXPECT_EQ(slowStartShare(5, 5, 0), kFullShare);
    EXPECT_EQ(slowStartShare(1'000'000, 0, 30'000), kFullShare);  // present from the start
    // A stamp from another loop slightly ahead of this one's clock: just now.
    EXPECT_EQ(slowStartShare(1'000, 1'003, 10'000), kMinShare);
}

// The ramp's effect on the weighted balancers: a server at half share gets about half its
// weight's share of picks.
TEST(SlowStartShare, ScalesTheWeightOfEveryWeightedBalancer) {
    std::vector<ServerLoad> servers(2);
    for (auto& s : servers) s.eligible = true;
    servers[1].share = kFullShare / 4;  // server 1 ramping: a quarter of its weight
    SmoothWeightedBalancer smooth(2);
    RandomBalancer random(2, 7);
    int smooth_hits = 0, random_hits = 0;
    for (int i = 0; i < 5000; ++i) {
        smooth_hits += pick(smooth, servers) == 1;
        random_hits += pick(random, servers) == 1;
    }
    EXPECT_EQ(smooth_hits, 1000);  // exactly 1 in 5: weights 4:1
    EXPECT_GT(random_hits, 850);
    EXPECT_LT(random_hits, 1150);
}

TEST(SlowStartShare, ARampingServerCountsAsMoreLoadedForLeastConn) {
    std::vector<ServerLoad> servers(2);
    for (auto& s : servers) s.eligible = true;
    servers[0].active = 2;
    servers[1].active = 1;
    servers[1].share = kFullShare / 4;  // 1 active at a quarter weight = 4 at full weight
    LeastConnBalancer balancer(2);
    EXPECT_EQ(pick(balancer, servers), 0);
    servers[1].share = kFullShare;
    EXPECT_EQ(pick(balancer, servers), 1);
}

}  // namespace
}  // namespace sluice::upstream
