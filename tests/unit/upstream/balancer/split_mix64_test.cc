#include "upstream/balancer/split_mix64.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::upstream {
namespace {

TEST(SplitMix64, MatchesTheReferenceSequence) {
    // Reference output of Vigna's splitmix64.c for seed 1234567.
    SplitMix64 rng(1234567);
    EXPECT_EQ(rng.next(), 6457827717110365317ULL);
    EXPECT_EQ(rng.next(), 3203168211198807973ULL);
    EXPECT_EQ(rng.next(), 9817491932198370423ULL);
    EXPECT_EQ(rng.next(), 4593380528125082431ULL);
    EXPECT_EQ(rng.next(), 16408922859458223821ULL);
}

TEST(SplitMix64, BelowStaysInRangeAndCoversIt) {
    SplitMix64 rng(5);
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 70'000; ++i) {
        uint64_t value = rng.below(7);
        ASSERT_LT(value, 7u);
        ++counts[value];
    }
    for (int count : counts) EXPECT_NEAR(count, 10'000, 400);
    EXPECT_EQ(rng.below(1), 0u);
}

}  // namespace
}  // namespace sluice::upstream
