#pragma once
// Caps retries at a fraction of requests over a sliding window, so a failing fleet is not
// hammered by retry storms. Per worker, per pool; pure (time comes in as an argument).
//
// canRetry() allows a retry while retries in the window stay under
// `ratio * requests in the window + min_retries` (the floor keeps retries possible at low
// traffic, like Envoy's and Linkerd's retry budgets).

#include <array>
#include <cstddef>
#include <cstdint>

namespace sluice::upstream {

class RetryBudget {
  public:
    static constexpr uint64_t kWindowMs = 10000;
    static constexpr size_t kBuckets = 10;

    explicit RetryBudget(double ratio = 0.2, uint32_t min_retries = 3)
        : ratio_(ratio), min_retries_(min_retries) {}

    void recordRequest(uint64_t now_ms);
    // True (and the retry is counted) when the budget allows one more retry now.
    bool tryRetry(uint64_t now_ms);
    uint64_t requestsInWindow(uint64_t now_ms);
    uint64_t retriesInWindow(uint64_t now_ms);

  private:
    struct Bucket {
        uint64_t epoch = 0;  // now_ms / bucket width when last written
        uint32_t requests = 0;
        uint32_t retries = 0;
    };
    Bucket& current(uint64_t now_ms);
    void sums(uint64_t now_ms, uint64_t& requests, uint64_t& retries) const;

    double ratio_;
    uint32_t min_retries_;
    std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace sluice::upstream
