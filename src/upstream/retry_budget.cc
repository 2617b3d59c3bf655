#include "upstream/retry_budget.h"

namespace sluice::upstream {
namespace {
constexpr uint64_t kBucketMs = RetryBudget::kWindowMs / RetryBudget::kBuckets;
}

RetryBudget::Bucket& RetryBudget::current(uint64_t now_ms) {
    const uint64_t epoch = now_ms / kBucketMs + 1;  // +1: epoch 0 marks an unused bucket
    Bucket& b = buckets_[epoch % kBuckets];
    if (b.epoch != epoch) b = Bucket{epoch, 0, 0};
    return b;
}

void RetryBudget::sums(uint64_t now_ms, uint64_t& requests, uint64_t& retries) const {
    const uint64_t epoch = now_ms / kBucketMs + 1;
    requests = retries = 0;
    for (const Bucket& b : buckets_) {
        if (b.epoch != 0 && b.epoch + kBuckets > epoch) {
            requests += b.requests;
            retries += b.retries;
        }
    }
}

void RetryBudget::recordRequest(uint64_t now_ms) { ++current(now_ms).requests; }

bool RetryBudget::tryRetry(uint64_t now_ms) {
    uint64_t requests = 0, retries = 0;
    sums(now_ms, requests, retries);
    if (static_cast<double>(retries) >= ratio_ * static_cast<double>(requests) + min_retries_) {
        return false;
    }
    ++current(now_ms).retries;
    return true;
}

uint64_t RetryBudget::requestsInWindow(uint64_t now_ms) {
    uint64_t requests = 0, retries = 0;
    sums(now_ms, requests, retries);
    return requests;
}

uint64_t RetryBudget::retriesInWindow(uint64_t now_ms) {
    uint64_t requests = 0, retries = 0;
    sums(now_ms, requests, retries);
    return retries;
}

}  // namespace sluice::upstream
