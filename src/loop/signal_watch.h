#pragma once
// One signal delivered on a loop (a uv_signal_t in a UvHandle): while a SignalWatch for it
// exists, the signal runs `on_signal(signum)` on the loop thread instead of its default action,
// and the watch keeps the loop alive. Destroying the last watch of a signal restores the default
// action. May be destroyed at any time on the loop thread, also inside its own callback.

#include <uv.h>

#include <functional>

#include "loop/uv_handle.h"

namespace sluice::loop {

class SignalWatch {
  public:
    SignalWatch(uv_loop_t* loop, int signum, std::function<void(int)> on_signal);
    SignalWatch(const SignalWatch&) = delete;
    SignalWatch& operator=(const SignalWatch&) = delete;
    // From now on the signal is still caught (its default action stays off) but does nothing,
    // and the watch no longer keeps the loop alive: for a process on its way out, where a
    // restored default action would let a late stop signal kill it.
    void ignore();

  private:
    static void onSignal(uv_signal_t* handle, int signum);
    UvHandle<uv_signal_t> handle_;
    std::function<void(int)> on_signal_;
};

}  // namespace sluice::loop
