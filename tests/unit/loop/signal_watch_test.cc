#include "loop/signal_watch.h"

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <vector>

namespace sluice::loop {
namespace {

class SignalWatchTest : public ::testing::Test {
  protected:
    void SetUp() override { uv_loop_init(&loop_); }
    void TearDown() override {
        uv_run(&loop_, UV_RUN_DEFAULT);       // returns only once no watch keeps the loop alive
        EXPECT_EQ(uv_loop_close(&loop_), 0);  // every handle closed
    }
    uv_loop_t loop_;
};

TEST_F(SignalWatchTest, RunsTheCallbackOnTheLoopWithTheSignal) {
    std::vector<int> got;
    SignalWatch watch(&loop_, SIGUSR2, [&](int signum) { got.push_back(signum); });
    ASSERT_EQ(::raise(SIGUSR2), 0);  // the process would end here without the watch
    EXPECT_TRUE(got.empty());        // not from the signal handler: on the loop
    for (int i = 0; i < 100 && got.empty(); ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(got, std::vector<int>{SIGUSR2});
}

TEST_F(SignalWatchTest, MayBeDestroyedInsideItsCallback) {
    int calls = 0;
    std::unique_ptr<SignalWatch> watch;
    watch = std::make_unique<SignalWatch>(&loop_, SIGUSR2, [&](int) {
        ++calls;
        watch.reset();
    });
    ASSERT_EQ(::raise(SIGUSR2), 0);
    for (int i = 0; i < 100 && calls == 0; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(watch, nullptr);
}

TEST_F(SignalWatchTest, KeepsTheLoopAliveUntilDestroyed) {
    auto watch = std::make_unique<SignalWatch>(&loop_, SIGUSR2, [](int) {});
    EXPECT_NE(uv_run(&loop_, UV_RUN_NOWAIT), 0);  // an active handle: more to run
    watch.reset();
    uv_run(&loop_, UV_RUN_NOWAIT);  // its close callback
    EXPECT_EQ(uv_run(&loop_, UV_RUN_NOWAIT), 0);
}

}  // namespace
}  // namespace sluice::loop
