#include "loop/timer.h"

namespace sluice::loop {

Timer::Timer(uv_loop_t* loop, std::function<void()> on_fire)
    : handle_(loop, uv_timer_init, this), on_fire_(std::move(on_fire)) {}

void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms) {
    uv_timer_start(handle_.get(), &Timer::onFire, timeout_ms, repeat_ms);
}

void Timer::stop() { uv_timer_stop(handle_.get()); }

bool Timer::active() const { return handle_.active(); }

void Timer::onFire(uv_timer_t* handle) {
    auto* self = static_cast<Timer*>(handle->data);
    if (self) self->on_fire_();
}

}  // namespace sluice::loop
