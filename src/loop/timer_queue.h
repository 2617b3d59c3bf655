#pragma once
// Many per-connection timeouts on ONE libuv timer (per worker), so a connection's timeout costs
// a QueuedTimer (a few pointers inside the connection's own object) instead of a uv_timer_t.
//
// Contract:
// - A QueuedTimer fires its callback once, at or after loop time + timeout_ms (at least 1) of
//   its latest start(), never after stop() or its destruction; start() replaces any earlier
//   deadline.
// - Timeouts of the same duration share one lane, kept in start order, so each lane is sorted
//   by deadline: start() and stop() are O(1) (plus a search over the distinct durations, which
//   come from configuration and are few), and firing looks only at the head of each lane.
// - The libuv timer is armed for the earliest deadline; it is moved only when a start() makes
//   an earlier one. Once no QueuedTimer is active it is unreferenced, not stopped: an idle
//   queue does not keep the loop alive, and an arming left behind fires at most once, finding
//   nothing due.
// - A callback may start or stop any QueuedTimer (its own included) and destroy its owner.
// Loop thread only. Every QueuedTimer must be destroyed before its queue.

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "loop/uv_handle.h"

namespace sluice::loop {

class QueuedTimer;

class TimerQueue {
  public:
    explicit TimerQueue(uv_loop_t* loop);
    ~TimerQueue();
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    uv_loop_t* loop() const { return loop_; }
    size_t active() const { return active_; }  // QueuedTimers started and not yet fired/stopped
    size_t lanes() const { return lanes_.size(); }

  private:
    friend class QueuedTimer;
    struct Lane {
        uint64_t duration_ms;
        QueuedTimer* head = nullptr;  // earliest deadline
        QueuedTimer* tail = nullptr;
    };
    Lane& laneFor(uint64_t duration_ms);
    void link(QueuedTimer& timer, Lane& lane);
    void unlink(QueuedTimer& timer);
    void arm(uint64_t deadline);
    static void onFire(uv_timer_t* handle);
    void fire();

    uv_loop_t* loop_;
    UvHandle<uv_timer_t> handle_;
    std::vector<std::unique_ptr<Lane>> lanes_;  // stable addresses: timers point at their lane
    size_t active_ = 0;
    uint64_t armed_ = 0;  // loop time the libuv timer fires at; 0 = not armed
};

class QueuedTimer {
  public:
    using Callback = void (*)(void* context);
    QueuedTimer(TimerQueue& queue, Callback callback, void* context)
        : queue_(&queue), callback_(callback), context_(context) {}
    ~QueuedTimer() { stop(); }
    QueuedTimer(const QueuedTimer&) = delete;
    QueuedTimer& operator=(const QueuedTimer&) = delete;

    void start(uint64_t timeout_ms);  // deadline = loop time + timeout_ms (replaces any other)
    void stop() {
        if (lane_) queue_->unlink(*this);
    }
    bool active() const { return lane_ != nullptr; }

  private:
    friend class TimerQueue;
    TimerQueue* queue_;
    Callback callback_;
    void* context_;
    TimerQueue::Lane* lane_ = nullptr;  // null: not active
    QueuedTimer* prev_ = nullptr;
    QueuedTimer* next_ = nullptr;
    uint64_t deadline_ = 0;
};

}  // namespace sluice::loop
