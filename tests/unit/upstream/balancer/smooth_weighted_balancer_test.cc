#include "upstream/balancer/smooth_weighted_balancer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/upstream/balancer/pick.h"

namespace sluice::upstream {
namespace {

std::vector<ServerLoad> weighted(const std::vector<unsigned>& weights) {
    std::vector<ServerLoad> servers;
    for (unsigned w : weights) servers.push_back({true, w, 0});
    return servers;
}

TEST(SmoothWeightedBalancer, SpreadsThreeOneOneWithinOnePercent) {
    SmoothWeightedBalancer balancer(3);
    auto servers = weighted({3, 1, 1});
    std::vector<int> counts(3, 0);
    for (int i = 0; i < 10'000; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
    EXPECT_NEAR(counts[0], 6000, 100);
    EXPECT_NEAR(counts[1], 2000, 100);
    EXPECT_NEAR(counts[2], 2000, 100);
    EXPECT_EQ(counts, (std::vector<int>{6000, 2000, 2000}));  // in fact exact
}

TEST(SmoothWeightedBalancer, HeavyServerComesWithoutBursts) {
    SmoothWeightedBalancer balancer(3);
    auto servers = weighted({3, 1, 1});
    int previous = -1;
    int run = 0;
    int longest_run = 0;
    for (int i = 0; i < 10'000; ++i) {
        int chosen = pick(balancer, servers);
        run = chosen == previous ? run + 1 : 1;
        previous = chosen;
        longest_run = std::max(longest_run, run);
    }
    EXPECT_LE(longest_run, 2);  // never 3 in a row, let alone 3 + more
}

TEST(SmoothWeightedBalancer, EveryWindowOfTotalWeightPicksHoldsTheExactShares) {
    SmoothWeightedBalancer balancer(3);
    auto servers = weighted({3, 1, 1});
    for (int window = 0; window < 100; ++window) {
        std::vector<int> counts(3, 0);
        for (int i = 0; i < 5; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
        ASSERT_EQ(counts, (std::vector<int>{3, 1, 1})) << "window " << window;
    }
}

TEST(SmoothWeightedBalancer, MatchesNginxSequenceForFiveOneOne) {
    SmoothWeightedBalancer balancer(3);
    auto servers = weighted({5, 1, 1});
    std::string sequence;
    for (int i = 0; i < 14; ++i) sequence += static_cast<char>('a' + pick(balancer, servers));
    EXPECT_EQ(sequence, "aabacaaaabacaa");
}

TEST(SmoothWeightedBalancer, EqualWeightsGiveAnExactCycle) {
    SmoothWeightedBalancer balancer(3);
    auto servers = weighted({2, 2, 2});
    for (int round = 0; round < 5; ++round) {
        EXPECT_EQ(pick(balancer, servers), 0);
        EXPECT_EQ(pick(balancer, servers), 1);
        EXPECT_EQ(pick(balancer, servers), 2);
    }
}

TEST(SmoothWeightedBalancer, FollowsRuntimeWeightChanges) {
    SmoothWeightedBalancer balancer(2);
    auto servers = weighted({1, 1});
    for (int i = 0; i < 10; ++i) pick(balancer, servers);
    servers[1].weight = 3;
    std::vector<int> counts(2, 0);
    for (int i = 0; i < 400; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
    EXPECT_EQ(counts, (std::vector<int>{100, 300}));
}

TEST(SmoothWeightedBalancer, ZeroWeightActsAsOne) {
    SmoothWeightedBalancer balancer(2);
    auto servers = weighted({0, 1});
    std::vector<int> counts(2, 0);
    for (int i = 0; i < 100; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
    EXPECT_EQ(counts, (std::vector<int>{50, 50}));
}

TEST(SmoothWeightedBalancer, SkipsIneligibleServers) {
    SmoothWeightedBalancer balancer(3);
    auto servers = weighted({3, 1, 1});
    servers[0].eligible = false;
    std::vector<int> counts(3, 0);
    for (int i = 0; i < 100; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
    EXPECT_EQ(counts, (std::vector<int>{0, 50, 50}));
}

TEST(SmoothWeightedBalancer, ReturnsMinusOneWhenNoServerIsEligible) {
    SmoothWeightedBalancer balancer(2);
    auto servers = weighted({3, 1});
    servers[0].eligible = false;
    servers[1].eligible = false;
    EXPECT_EQ(pick(balancer, servers), -1);
    SmoothWeightedBalancer empty(0);
    EXPECT_EQ(pick(empty, {}), -1);
}

}  // namespace
}  // namespace sluice::upstream
