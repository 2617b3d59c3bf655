#pragma once
// Readiness of a socket someone else owns (c-ares' query sockets): a uv_poll_t owned by one
// object. The handle is freed in its close callback, so the FdWatch may be destroyed at any
// time on the loop thread (also from inside its own callback); the callback never runs after
// destruction. It never closes the descriptor, but it must be destroyed BEFORE the owner closes
// it: closing the handle later would unregister whatever socket reuses the descriptor number.

#include <uv.h>

#include <functional>

namespace sluice::loop {

class FdWatch {
  public:
    // on_ready(readable, writable); an error on the descriptor reports it readable and writable,
    // so the owner's next read or write sees the error.
    FdWatch(uv_loop_t* loop, int fd, std::function<void(bool, bool)> on_ready);
    ~FdWatch();
    FdWatch(const FdWatch&) = delete;
    FdWatch& operator=(const FdWatch&) = delete;

    // Which readiness to report (both false: none, the watch stays).
    void watch(bool readable, bool writable);
    // False when libuv refused the descriptor (then watch() does nothing).
    bool ok() const { return ok_; }

  private:
    static void onPoll(uv_poll_t* handle, int status, int events);
    uv_poll_t* handle_;
    std::function<void(bool, bool)> on_ready_;
    bool ok_ = false;
};

}  // namespace sluice::loop
