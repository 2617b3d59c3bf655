#include "loop/deadline_timer.h"

#include <gtest/gtest.h>

namespace sluice::loop {
namespace {

class DeadlineTimerTest : public ::testing::Test {
  protected:
    void SetUp() override { uv_loop_init(&loop_); }
    void TearDown() override {
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_loop_close(&loop_);
    }
    uv_loop_t loop_;
};

TEST_F(DeadlineTimerTest, FiresOnceAfterTheDeadline) {
    int fired = 0;
    uint64_t start = 0, at = 0;
    {
        DeadlineTimer timer(&loop_, [&] {
            ++fired;
            at = uv_now(&loop_);
        });
        uv_update_time(&loop_);
        start = uv_now(&loop_);
        timer.start(30);
        uv_run(&loop_, UV_RUN_DEFAULT);
    }
    EXPECT_EQ(fired, 1);
    EXPECT_GE(at - start, 30u);
}

TEST_F(DeadlineTimerTest, MovingTheDeadlineLaterDelaysTheCallback) {
    int fired = 0;
    uint64_t start = 0, at = 0;
    DeadlineTimer* timer_ptr = nullptr;
    Timer mover(&loop_, [&] { timer_ptr->start(60); });  // at t=20: new deadline t=80
    {
        DeadlineTimer timer(&loop_, [&] {
            ++fired;
            at = uv_now(&loop_);
        });
        timer_ptr = &timer;
        uv_update_time(&loop_);
        start = uv_now(&loop_);
        timer.start(30);
        mover.start(20);
        uv_run(&loop_, UV_RUN_DEFAULT);
    }
    EXPECT_EQ(fired, 1);
    EXPECT_GE(at - start, 80u);
}

TEST_F(DeadlineTimerTest, StopPreventsTheCallback) {
    int fired = 0;
    {
        DeadlineTimer timer(&loop_, [&] { ++fired; });
        timer.start(10);
        timer.stop();
        EXPECT_FALSE(timer.active());
        uv_run(&loop_, UV_RUN_DEFAULT);
    }
    EXPECT_EQ(fired, 0);
}

}  // namespace
}  // namespace sluice::loop
