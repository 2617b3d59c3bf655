#pragma once
// A libuv timer owned by one object (a UvHandle: freed in its close callback), so the Timer may
// be destroyed at any time on the loop thread; the callback never runs after destruction.

#include <uv.h>

#include <cstdint>
#include <functional>

#include "loop/uv_handle.h"

namespace sluice::loop {

class Timer {
  public:
    Timer(uv_loop_t* loop, std::function<void()> on_fire);
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void start(uint64_t timeout_ms, uint64_t repeat_ms = 0);
    void stop();
    bool active() const;

  private:
    static void onFire(uv_timer_t* handle);
    UvHandle<uv_timer_t> handle_;
    std::function<void()> on_fire_;
};

}  // namespace sluice::loop
