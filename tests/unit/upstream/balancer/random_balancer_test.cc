#include "upstream/balancer/random_balancer.h"

#include <gtest/gtest.h>

#include <vector>

#include "unit/upstream/balancer/pick.h"

namespace sluice::upstream {
namespace {

TEST(RandomBalancer, SplitsByWeightWithinOnePercent) {
    RandomBalancer balancer(3, 42);
    std::vector<ServerLoad> servers = {{true, 3, 0}, {true, 1, 0}, {true, 1, 0}};
    constexpr int kPicks = 100'000;  // enough that chance alone stays well inside 1%
    std::vector<int> counts(3, 0);
    for (int i = 0; i < kPicks; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
    EXPECT_NEAR(counts[0], kPicks * 0.6, kPicks * 0.01);
    EXPECT_NEAR(counts[1], kPicks * 0.2, kPicks * 0.01);
    EXPECT_NEAR(counts[2], kPicks * 0.2, kPicks * 0.01);
}

TEST(RandomBalancer, IsDeterministicGivenTheSeed) {
    std::vector<ServerLoad> servers(5, {true, 1, 0});
    RandomBalancer a(5, 7);
    RandomBalancer b(5, 7);
    RandomBalancer c(5, 8);
    std::vector<int> seq_a, seq_b, seq_c;
    for (int i = 0; i < 50; ++i) {
        seq_a.push_back(pick(a, servers));
        seq_b.push_back(pick(b, servers));
        seq_c.push_back(pick(c, servers));
    }
    EXPECT_EQ(seq_a, seq_b);
    EXPECT_NE(seq_a, seq_c);
}

TEST(RandomBalancer, NeverPicksIneligibleServers) {
    RandomBalancer balancer(4, 1);
    std::vector<ServerLoad> servers = {{false, 9, 0}, {true, 1, 0}, {false, 9, 0}, {true, 1, 0}};
    std::vector<int> counts(4, 0);
    for (int i = 0; i < 1000; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
    EXPECT_EQ(counts[0], 0);
    EXPECT_EQ(counts[2], 0);
    EXPECT_GT(counts[1], 400);
    EXPECT_GT(counts[3], 400);
}

TEST(RandomBalancer, ReturnsMinusOneWhenNoServerIsEligible) {
    RandomBalancer balancer(2, 1);
    std::vector<ServerLoad> servers = {{false, 1, 0}, {false, 1, 0}};
    EXPECT_EQ(pick(balancer, servers), -1);
    RandomBalancer empty(0, 1);
    EXPECT_EQ(pick(empty, {}), -1);
}

}  // namespace
}  // namespace sluice::upstream
