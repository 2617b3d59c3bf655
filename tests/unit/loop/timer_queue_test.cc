#include "loop/timer_queue.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

namespace sluice::loop {
namespace {

class TimerQueueTest : public ::testing::Test {
  protected:
    void SetUp() override { uv_loop_init(&loop_); }
    void TearDown() override {
        queue_.reset();
        uv_run(&loop_, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&loop_), 0);
    }
    // A QueuedTimer whose callback is `fn`.
    struct Probe {
        Probe(TimerQueue& q, std::function<void()> on_fire)
            : fn(std::move(on_fire)), timer(q, &Probe::call, this) {}
        static void call(void* self) { static_cast<Probe*>(self)->fn(); }
        std::function<void()> fn;
        QueuedTimer timer;
    };
    uint64_t now() { return uv_now(&loop_); }
    uv_loop_t loop_;
    std::unique_ptr<TimerQueue> queue_ = nullptr;
};

TEST_F(TimerQueueTest, FiresEachTimerOnceAtOrAfterItsDeadlineInDeadlineOrder) {
    queue_ = std::make_unique<TimerQueue>(&loop_);
    std::vector<int> order;
    std::vector<uint64_t> waited(3);
    uv_update_time(&loop_);
    const uint64_t start = now();
    // Two durations (two lanes), started out of deadline order.
    Probe a(*queue_, [&] { order.push_back(0), waited[0] = now() - start; });
    Probe b(*queue_, [&] { order.push_back(1), waited[1] = now() - start; });
    Probe c(*queue_, [&] { order.push_back(2), waited[2] = now() - start; });
    a.timer.start(60);
    b.timer.start(20);
    c.timer.start(60);
    EXPECT_EQ(queue_->active(), 3u);
    EXPECT_EQ(queue_->lanes(), 2u);
    uv_run(&loop_, UV_RUN_DEFAULT);  // returns only once the queue disarmed its libuv timer
    EXPECT_EQ(order, (std::vector<int>{1, 0, 2}));
    EXPECT_GE(waited[1], 20u);
    EXPECT_GE(waited[0], 60u);
    EXPECT_GE(waited[2], 60u);
    EXPECT_EQ(queue_->active(), 0u);
}

TEST_F(TimerQueueTest, StopAndDestructionCancelAndAnEmptyQueueDoesNotKeepTheLoopAlive) {
    queue_ = std::make_unique<TimerQueue>(&loop_);
    int fired = 0;
    Probe stopped(*queue_, [&] { ++fired; });
    stopped.timer.start(10);
    {
        Probe gone(*queue_, [&] { ++fired; });
        gone.timer.start(10);
    }
    stopped.timer.stop();
    EXPECT_FALSE(stopped.timer.active());
    EXPECT_EQ(queue_->active(), 0u);
    // Nothing is active: the queue's libuv timer is stopped, so it keeps no loop alive (one
    // still armed for the cancelled deadlines would).
    EXPECT_EQ(uv_loop_alive(&loop_), 0);
    EXPECT_EQ(uv_run(&loop_, UV_RUN_NOWAIT), 0);
    EXPECT_EQ(fired, 0);
}

TEST_F(TimerQueueTest, RestartingMovesTheDeadline) {
    queue_ = std::make_unique<TimerQueue>(&loop_);
    uv_update_time(&loop_);
    const uint64_t start = now();
    uint64_t at = 0;
    int fired = 0;
    Probe timer(*queue_, [&] { ++fired, at = now() - start; });
    timer.timer.start(20);
    Probe mover(*queue_, [&] { timer.timer.start(50); });  // at t=10: new deadline t=60
    mover.timer.start(10);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(fired, 1);
    EXPECT_GE(at, 60u);
}

TEST_F(TimerQueueTest, ACallbackMayRestartItselfStopOthersAndDestroyItsOwner) {
    queue_ = std::make_unique<TimerQueue>(&loop_);
    int self_fired = 0, victim_fired = 0, owner_fired = 0;
    Probe victim(*queue_, [&] { ++victim_fired; });
    Probe* self_ptr = nullptr;
    Probe self(*queue_, [&] {
        if (++self_fired < 3) self_ptr->timer.start(0);  // again on the next loop iteration
        victim.timer.stop();
    });
    self_ptr = &self;
    auto owner = std::make_unique<Probe>(*queue_, nullptr);
    owner->fn = [&] {
        ++owner_fired;
        owner.reset();  // the timer's own owner goes away inside its callback
    };
    self.timer.start(5);
    victim.timer.start(5);
    owner->timer.start(5);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(self_fired, 3);
    EXPECT_EQ(owner_fired, 1);
    EXPECT_EQ(owner, nullptr);
    // The victim shares self's lane and deadline and comes after it: stopped before its turn.
    EXPECT_EQ(victim_fired, 0);
    EXPECT_EQ(queue_->active(), 0u);
}

TEST_F(TimerQueueTest, ManyTimersOfOneDurationFireTogether) {
    queue_ = std::make_unique<TimerQueue>(&loop_);
    int fired = 0;
    std::vector<std::unique_ptr<Probe>> probes;
    for (int i = 0; i < 1000; ++i) {
        probes.push_back(std::make_unique<Probe>(*queue_, [&] { ++fired; }));
        probes.back()->timer.start(15);
    }
    for (int i = 0; i < 1000; i += 2) probes[i]->timer.stop();
    EXPECT_EQ(queue_->active(), 500u);
    EXPECT_EQ(queue_->lanes(), 1u);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(fired, 500);
}

}  // namespace
}  // namespace sluice::loop
