#include "metrics/duration_histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sluice::metrics {
namespace {

TEST(DurationHistogram, BucketsAreInclusiveUpperBoundsFrom5msTo10s) {
    EXPECT_EQ(durationBucket(0), 0u);
    EXPECT_EQ(durationBucket(5'000), 0u);  // le="0.005" holds exactly 5 ms
    EXPECT_EQ(durationBucket(5'001), 1u);
    EXPECT_EQ(durationBucket(10'000), 1u);
    EXPECT_EQ(durationBucket(999'999), 7u);  // le="1"
    EXPECT_EQ(durationBucket(1'000'000), 7u);
    EXPECT_EQ(durationBucket(1'000'001), 8u);
    EXPECT_EQ(durationBucket(10'000'000), 10u);  // le="10"
    EXPECT_EQ(durationBucket(10'000'001), 11u);  // +Inf
    EXPECT_EQ(durationBucket(std::numeric_limits<uint64_t>::max()), 11u);
    for (size_t i = 0; i < kDurationBounds; ++i) {
        EXPECT_DOUBLE_EQ(kDurationBoundsSeconds[i], kDurationBoundsMicros[i] / 1e6) << i;
    }
}

TEST(DurationHistogram, SumsWritersAndKeepsTheSumInMicroseconds) {
    DurationHistogram h(3);
    h.observeMicros(0, 1'234);       // le=0.005
    h.observeMicros(1, 30'000);      // le=0.05
    h.observeMillis(2, 30);          // le=0.05
    h.observeMicros(2, 20'000'000);  // +Inf
    const HistogramTotals t = h.totals();
    EXPECT_EQ(t.count(), 4u);
    EXPECT_EQ(t.buckets[0], 1u);
    EXPECT_EQ(t.buckets[3], 2u);
    EXPECT_EQ(t.buckets[kDurationBuckets - 1], 1u);
    EXPECT_EQ(t.sum_micros, 1'234u + 30'000 + 30'000 + 20'000'000);
    EXPECT_DOUBLE_EQ(t.sumSeconds(), 20.061234);
    const auto cum = t.cumulative();
    EXPECT_EQ(cum[0], 1u);
    EXPECT_EQ(cum[2], 1u);
    EXPECT_EQ(cum[3], 3u);
    EXPECT_EQ(cum[kDurationBuckets - 1], t.count());  // _count == _bucket{le="+Inf"}
}

HistogramTotals withBuckets(std::initializer_list<std::pair<size_t, uint64_t>> counts) {
    HistogramTotals t;
    for (auto [bucket, n] : counts) t.buckets[bucket] = n;
    return t;
}

TEST(HistogramQuantile, EmptyIsNaNAndOutOfRangeQuantilesAreInfinite) {
    HistogramTotals empty;
    EXPECT_TRUE(std::isnan(empty.quantile(0.5)));
    const HistogramTotals t = withBuckets({{0, 10}});
    EXPECT_EQ(t.quantile(-0.1), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(t.quantile(1.1), std::numeric_limits<double>::infinity());
    EXPECT_TRUE(std::isnan(t.quantile(std::numeric_limits<double>::quiet_NaN())));
}

TEST(HistogramQuantile, InterpolatesLinearlyInsideTheBucket) {
    // All 100 in (0.01, 0.025]: p50 is half way, p90 90% of the way.
    const HistogramTotals t = withBuckets({{2, 100}});
    EXPECT_DOUBLE_EQ(t.quantile(0.5), 0.01 + 0.015 * 0.5);
    EXPECT_DOUBLE_EQ(t.quantile(0.9), 0.01 + 0.015 * 0.9);
    EXPECT_DOUBLE_EQ(t.quantile(1.0), 0.025);
}

TEST(HistogramQuantile, TheFirstBucketStartsAtZero) {
    const HistogramTotals t = withBuckets({{0, 10}});
    EXPECT_DOUBLE_EQ(t.quantile(0.5), 0.0025);
}

TEST(HistogramQuantile, FindsTheBucketThatHoldsTheRank) {
    // 50 in le=0.005, 50 in le=0.01: rank 50 is the top of the first bucket, rank 90 is 40 of
    // the 50 into the second.
    const HistogramTotals t = withBuckets({{0, 50}, {1, 50}});
    EXPECT_DOUBLE_EQ(t.quantile(0.5), 0.005);
    EXPECT_DOUBLE_EQ(t.quantile(0.9), 0.005 + 0.005 * (40.0 / 50.0));
    // Empty buckets between: 90 fast, 10 in (1, 2.5].
    const HistogramTotals gap = withBuckets({{0, 90}, {8, 10}});
    EXPECT_DOUBLE_EQ(gap.quantile(0.99), 1.0 + 1.5 * (9.0 / 10.0));
}

TEST(HistogramQuantile, RankInThePlusInfBucketGivesTheHighestFiniteBound) {
    const HistogramTotals slow = withBuckets({{kDurationBuckets - 1, 5}});
    EXPECT_DOUBLE_EQ(slow.quantile(0.5), 10.0);
    EXPECT_DOUBLE_EQ(slow.quantile(0.99), 10.0);
    const HistogramTotals tail = withBuckets({{0, 99}, {kDurationBuckets - 1, 1}});
    EXPECT_DOUBLE_EQ(tail.quantile(0.995), 10.0);
    EXPECT_LE(tail.quantile(0.99), 0.005);
}

TEST(HistogramQuantile, ZeroIsTheLowerBoundOfTheFirstNonEmptyBucket) {
    EXPECT_DOUBLE_EQ(withBuckets({{3, 4}}).quantile(0), 0.025);
    EXPECT_DOUBLE_EQ(withBuckets({{0, 4}}).quantile(0), 0.0);
    EXPECT_DOUBLE_EQ(withBuckets({{kDurationBuckets - 1, 4}}).quantile(0), 10.0);
}

}  // namespace
}  // namespace sluice::metrics
