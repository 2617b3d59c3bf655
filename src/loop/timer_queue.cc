#include "loop/timer_queue.h"

namespace sluice::loop {

TimerQueue::TimerQueue(uv_loop_t* loop) : loop_(loop), handle_(loop, uv_timer_init, this) {
    uv_unref(reinterpret_cast<uv_handle_t*>(handle_.get()));  // referenced while active_ > 0
}

TimerQueue::~TimerQueue() {
    // Timers outliving their queue are a bug; unlinking keeps them from pointing at freed lanes.
    for (auto& lane : lanes_) {
        while (lane->head) unlink(*lane->head);
    }
}

TimerQueue::Lane& TimerQueue::laneFor(uint64_t duration_ms) {
    for (auto& lane : lanes_) {
        if (lane->duration_ms == duration_ms) return *lane;
    }
    lanes_.push_back(std::make_unique<Lane>(Lane{duration_ms}));
    return *lanes_.back();
}

void TimerQueue::link(QueuedTimer& timer, Lane& lane) {
    timer.lane_ = &lane;
    timer.prev_ = lane.tail;
    timer.next_ = nullptr;
    if (lane.tail) {
        lane.tail->next_ = &timer;
    } else {
        lane.head = &timer;
    }
    lane.tail = &timer;
    if (active_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(handle_.get()));
}

void TimerQueue::unlink(QueuedTimer& timer) {
    Lane& lane = *timer.lane_;
    if (timer.prev_) {
        timer.prev_->next_ = timer.next_;
    } else {
        lane.head = timer.next_;
    }
    if (timer.next_) {
        timer.next_->prev_ = timer.prev_;
    } else {
        lane.tail = timer.prev_;
    }
    timer.lane_ = nullptr;
    timer.prev_ = timer.next_ = nullptr;
    // Unreferenced, not stopped: the next start() (in a keep-alive exchange, at once) usually
    // finds the libuv timer armed early enough and leaves it (a stop/start pair per request
    // otherwise); a stale arming fires once and finds nothing due.
    if (--active_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(handle_.get()));
}

void TimerQueue::arm(uint64_t deadline) {
    if (armed_ != 0 && armed_ <= deadline) return;
    const uint64_t now = uv_now(loop_);
    uv_timer_start(handle_.get(), &TimerQueue::onFire, deadline > now ? deadline - now : 0, 0);
    armed_ = deadline;
}

void TimerQueue::onFire(uv_timer_t* handle) {
    if (auto* self = static_cast<TimerQueue*>(handle->data)) self->fire();
}

void TimerQueue::fire() {
    armed_ = 0;
    const uint64_t now = uv_now(loop_);
    // One expired head at a time, looked up afresh after every callback: a callback may start,
    // stop or destroy any timer (lanes are never removed, so the vector stays valid).
    for (;;) {
        QueuedTimer* due = nullptr;
        for (auto& lane : lanes_) {
            if (lane->head && lane->head->deadline_ <= now) {
                due = lane->head;
                break;
            }
        }
        if (!due) break;
        unlink(*due);
        due->callback_(due->context_);
    }
    uint64_t next = 0;
    for (auto& lane : lanes_) {
        if (lane->head && (next == 0 || lane->head->deadline_ < next)) next = lane->head->deadline_;
    }
    if (next != 0) arm(next);
}

void QueuedTimer::start(uint64_t timeout_ms) {
    if (lane_) queue_->unlink(*this);
    // At least 1 ms: a timer restarted from its own callback then waits for the next loop
    // iteration instead of firing again in the same pass.
    if (timeout_ms == 0) timeout_ms = 1;
    deadline_ = uv_now(queue_->loop_) + timeout_ms;
    queue_->link(*this, queue_->laneFor(timeout_ms));
    queue_->arm(deadline_);
}

}  // namespace sluice::loop
