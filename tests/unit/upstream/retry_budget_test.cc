#include "upstream/retry_budget.h"

#include <gtest/gtest.h>

namespace sluice::upstream {
namespace {

TEST(RetryBudget, AllowsAFloorOfRetriesWithoutTraffic) {
    RetryBudget budget(0.2, 3);
    EXPECT_TRUE(budget.tryRetry(0));
    EXPECT_TRUE(budget.tryRetry(0));
    EXPECT_TRUE(budget.tryRetry(0));
    EXPECT_FALSE(budget.tryRetry(0));
}

TEST(RetryBudget, CapsRetriesAtTwentyPercentOfRequests) {
    RetryBudget budget(0.2, 0);
    for (int i = 0; i < 100; ++i) budget.recordRequest(1000);
    int allowed = 0;
    for (int i = 0; i < 100; ++i) allowed += budget.tryRetry(1000) ? 1 : 0;
    EXPECT_EQ(allowed, 20);
}

TEST(RetryBudget, OldRequestsAndRetriesLeaveTheWindow) {
    RetryBudget budget(0.2, 0);
    for (int i = 0; i < 50; ++i) budget.recordRequest(0);
    EXPECT_EQ(budget.requestsInWindow(5000), 50u);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.tryRetry(5000));
    EXPECT_FALSE(budget.tryRetry(5000));
    // Past the 10 s window nothing old counts: no requests, so no budget (floor 0).
    EXPECT_EQ(budget.requestsInWindow(20000), 0u);
    EXPECT_EQ(budget.retriesInWindow(20000), 0u);
    EXPECT_FALSE(budget.tryRetry(20000));
    for (int i = 0; i < 10; ++i) budget.recordRequest(20000);
    EXPECT_TRUE(budget.tryRetry(20000));
    EXPECT_TRUE(budget.tryRetry(20000));
    EXPECT_FALSE(budget.tryRetry(20000));
}

}  // namespace
}  // namespace sluice::upstream
