#include "metrics/duration_histogram.h"

#include <cmath>
#include <limits>

namespace sluice::metrics {

size_t durationBucket(uint64_t micros) {
    // A linear scan: 11 compares at most, and most web requests stop in the first few buckets;
    // a binary search would branch less predictably for no gain at this size.
    size_t i = 0;
    while (i < kDurationBounds && micros > kDurationBoundsMicros[i]) ++i;
    return i;
}

uint64_t HistogramTotals::count() const {
    uint64_t n = 0;
    for (uint64_t b : buckets) n += b;
    return n;
}

std::array<uint64_t, kDurationBuckets> HistogramTotals::cumulative() const {
    std::array<uint64_t, kDurationBuckets> out{};
    uint64_t running = 0;
    for (size_t i = 0; i < kDurationBuckets; ++i) {
        running += buckets[i];
        out[i] = running;
    }
    return out;
}

double HistogramTotals::quantile(double q) const {
    if (std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
    if (q < 0) return -std::numeric_limits<double>::infinity();
    if (q > 1) return std::numeric_limits<double>::infinity();
    const auto cum = cumulative();
    const uint64_t total = cum[kDurationBuckets - 1];
    if (total == 0) return std::numeric_limits<double>::quiet_NaN();

    const double rank = q * static_cast<double>(total);
    // The first bucket whose cumulative count reaches the rank; skipping empty buckets only
    // matters for rank 0 (any other rank is reached first by a bucket that holds something).
    size_t b = 0;
    while (b < kDurationBuckets - 1 && (static_cast<double>(cum[b]) < rank || buckets[b] == 0)) {
        ++b;
    }
    if (b == kDurationBuckets - 1) return kDurationBoundsSeconds[kDurationBounds - 1];

    const double start = b == 0 ? 0.0 : kDurationBoundsSeconds[b - 1];
    const double end = kDurationBoundsSeconds[b];
    const double below = b == 0 ? 0.0 : static_cast<double>(cum[b - 1]);
    const double in_bucket = static_cast<double>(buckets[b]);
    return start + (end - start) * ((rank - below) / in_bucket);
}

HistogramTotals DurationHistogram::totals() const {
    HistogramTotals t;
    for (size_t i = 0; i < kDurationBuckets; ++i) t.buckets[i] = counters_.sum(i);
    t.sum_micros = counters_.sum(kSumIndex);
    return t;
}

}  // namespace sluice::metrics
