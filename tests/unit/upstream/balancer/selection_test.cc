#include "upstream/balancer/selection.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::upstream {
namespace {

TEST(Selection, WeightZeroActsAsOne) {
    EXPECT_EQ(weightOf({true, 0, 0}), 1u);
    EXPECT_EQ(weightOf({true, 7, 0}), 7u);
}

TEST(Selection, ComparesActivePerWeightExactly) {
    EXPECT_TRUE(fewerActivePerWeight({true, 3, 2}, {true, 1, 1}));   // 2/3 < 1
    EXPECT_FALSE(fewerActivePerWeight({true, 2, 2}, {true, 1, 1}));  // 1 == 1
    EXPECT_FALSE(fewerActivePerWeight({true, 1, 1}, {true, 2, 2}));
    EXPECT_TRUE(fewerActivePerWeight({true, 1000, 4'000'000'000u}, {true, 1, 4'000'001}));
}

TEST(Selection, FirstServersTruncatesOnly) {
    std::vector<ServerLoad> servers(3);
    EXPECT_EQ(firstServers(servers, 2).size(), 2u);
    EXPECT_EQ(firstServers(servers, 5).size(), 3u);
}

TEST(Selection, WeightedChoiceFollowsWeightsAndHonoursExclude) {
    std::vector<ServerLoad> servers = {{true, 1, 0}, {false, 50, 0}, {true, 3, 0}, {true, 6, 0}};
    SplitMix64 rng(3);
    std::vector<int> counts(4, 0);
    for (int i = 0; i < 100'000; ++i) ++counts[static_cast<size_t>(weightedChoice(servers, rng))];
    EXPECT_EQ(counts[1], 0);
    EXPECT_NEAR(counts[0], 10'000, 600);
    EXPECT_NEAR(counts[2], 30'000, 900);
    EXPECT_NEAR(counts[3], 60'000, 900);
    for (int i = 0; i < 100; ++i) EXPECT_NE(weightedChoice(servers, rng, 3), 3);
}

TEST(Selection, WeightedChoiceReturnsMinusOneWhenNothingQualifies) {
    std::vector<ServerLoad> servers = {{false, 1, 0}, {true, 1, 0}};
    SplitMix64 rng(3);
    EXPECT_EQ(weightedChoice(servers, rng, 1), -1);
    EXPECT_EQ(weightedChoice({}, rng), -1);
    EXPECT_EQ(weightedChoice(servers, rng), 1);
}

}  // namespace
}  // namespace sluice::upstream
