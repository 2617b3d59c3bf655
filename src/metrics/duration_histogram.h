#pragma once
// Request-duration histogram: per writer (see worker_counters.h), fixed buckets for web apps
// from 5 ms to 10 s, observed as integer microseconds, summed on read.
//
// Buckets (upper bounds, inclusive as Prometheus' `le`): 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1
// 2.5 5 10 +Inf seconds. An observation of exactly 5000 us lands in le="0.005".
// The sum is kept as an integer count of microseconds (exact; no float accumulation on the data
// path) and exposed in seconds. The count is the sum of the buckets, so `_count` always equals
// `_bucket{le="+Inf"}` in a scrape, even one taken while workers observe.

#include <array>
#include <cstddef>
#include <cstdint>

#include "metrics/worker_counters.h"

namespace sluice::metrics {

inline constexpr size_t kDurationBounds = 11;   // finite upper bounds
inline constexpr size_t kDurationBuckets = 12;  // + the +Inf bucket
inline constexpr std::array<uint64_t, kDurationBounds> kDurationBoundsMicros = {
    5'000,   10'000,    25'000,    50'000,    100'000,   250'000,
    500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
inline constexpr std::array<double, kDurationBounds> kDurationBoundsSeconds = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// Index of the bucket an observation of `micros` falls in: 0..kDurationBuckets-1 (last = +Inf).
size_t durationBucket(uint64_t micros);

// A histogram summed over writers (or built by hand in tests): plain values, any thread.
struct HistogramTotals {
    std::array<uint64_t, kDurationBuckets> buckets{};  // per bucket, not cumulative; last = +Inf
    uint64_t sum_micros = 0;

    uint64_t count() const;
    double sumSeconds() const { return static_cast<double>(sum_micros) / 1e6; }
    // Cumulative counts, as `_bucket{le=...}` reports them.
    std::array<uint64_t, kDurationBuckets> cumulative() const;

    // The q-quantile in seconds, estimated as Prometheus' histogram_quantile() does: find the
    // bucket holding rank q*count, interpolate linearly between its lower bound (0 for the first
    // bucket) and its upper bound. Edges:
    //   - empty histogram (count 0): NaN (JSON writers print null, the page shows "-");
    //   - q < 0: -Inf, q > 1: +Inf, q NaN: NaN (as Prometheus);
    //   - the rank falls in the +Inf bucket (e.g. everything slower than 10 s): the highest finite
    //     bound, 10; read it as "at least 10 s";
    //   - q = 0: the lower bound of the first non-empty bucket (Prometheus yields NaN when the
    //     first bucket is empty, 0 * 0/0; we return the bound instead).
    double quantile(double q) const;
};

class DurationHistogram {
  public:
    // Slots are buckets then the sum: 13 uint64_t, two cache lines per writer.
    static constexpr size_t kSumIndex = kDurationBuckets;
    using Counters = WorkerCounters<kDurationBuckets + 1>;

    explicit DurationHistogram(size_t writers) : counters_(writers) {}

    // Single writer of `slot` only. No allocation, no lock: a short scan of 11 bounds, two stores.
    void observeMicros(size_t slot, uint64_t micros) {
        counters_.add(slot, durationBucket(micros));
        counters_.add(slot, kSumIndex, micros);
    }
    void observeMillis(size_t slot, uint64_t millis) { observeMicros(slot, millis * 1000); }

    // Any thread.
    HistogramTotals totals() const;
    size_t writers() const { return counters_.writers(); }

  private:
    Counters counters_;
};

}  // namespace sluice::metrics
