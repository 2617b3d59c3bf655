#pragma once
// A timeout that is moved far more often than it fires (per-request timeouts on keep-alive
// connections). start()/stop() only record the deadline; the underlying libuv timer is re-armed
// only when the new deadline is earlier than the one it is armed for, and re-armed for the
// remainder when it fires early. The callback runs at or after the deadline, never after stop()
// or destruction.

#include <uv.h>

#include <cstdint>
#include <functional>

#include "loop/timer.h"

namespace sluice::loop {

class DeadlineTimer {
  public:
    DeadlineTimer(uv_loop_t* loop, std::function<void()> on_expire);
    DeadlineTimer(const DeadlineTimer&) = delete;
    DeadlineTimer& operator=(const DeadlineTimer&) = delete;

    void start(uint64_t timeout_ms);  // deadline = loop time + timeout_ms (replaces any other)
    void stop() { deadline_ = 0; }
    bool active() const { return deadline_ != 0; }

  private:
    void onFire();

    uv_loop_t* loop_;
    std::function<void()> on_expire_;
    Timer timer_;
    uint64_t deadline_ = 0;  // 0 = none
    uint64_t armed_ = 0;     // loop time the libuv timer fires at; 0 = not armed
};

}  // namespace sluice::loop
