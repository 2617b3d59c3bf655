#pragma once
// A callback that runs once, later in the current loop iteration (libuv's check phase: after
// this iteration's I/O callbacks, before the loop blocks again), for work that should be done
// once per batch of events rather than once per event: e.g. one socket write for the frames of
// many HTTP/2 streams. schedule() arms it (again and again: it runs once); the owner may be
// destroyed at any time on the loop thread (a UvHandle).

#include <uv.h>

#include <functional>

#include "loop/uv_handle.h"

namespace sluice::loop {

class AfterIo {
  public:
    AfterIo(uv_loop_t* loop, std::function<void()> run);
    AfterIo(const AfterIo&) = delete;
    AfterIo& operator=(const AfterIo&) = delete;

    void schedule();
    void cancel();
    bool scheduled() const { return handle_.active(); }

  private:
    static void onCheck(uv_check_t* handle);
    UvHandle<uv_check_t> handle_;
    std::function<void()> run_;
};

}  // namespace sluice::loop
