#include "loop/deadline_timer.h"

namespace sluice::loop {

DeadlineTimer::DeadlineTimer(uv_loop_t* loop, std::function<void()> on_expire)
    : loop_(loop), on_expire_(std::move(on_expire)), timer_(loop, [this] { onFire(); }) {}

void DeadlineTimer::start(uint64_t timeout_ms) {
    const uint64_t now = uv_now(loop_);
    deadline_ = now + timeout_ms;
    if (deadline_ == 0) deadline_ = 1;
    if (armed_ == 0 || deadline_ < armed_) {
        timer_.start(timeout_ms);
        armed_ = deadline_;
    }
}

void DeadlineTimer::onFire() {
    armed_ = 0;
    if (deadline_ == 0) return;
    const uint64_t now = uv_now(loop_);
    if (now >= deadline_) {
        deadline_ = 0;
        on_expire_();
        return;
    }
    // Moved later since it was armed: sleep for the rest.
    timer_.start(deadline_ - now);
    armed_ = deadline_;
}

}  // namespace sluice::loop
