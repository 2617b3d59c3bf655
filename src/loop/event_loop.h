#pragma once
// One libuv loop and a thread-safe task queue into it. The loop owner calls run(); any thread may
// post(). Tasks run on the loop thread in post order. Not copyable; destroy only after run()
// returned.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace sluice::loop {

class EventLoop {
  public:
    using Task = std::function<void()>;

    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    uv_loop_t* raw() { return &loop_; }
    // Runs until no handle is active (the task queue handle is unref'd so it never keeps the
    // loop alive) or stop() is called.
    void run();
    // One iteration that does not block (UV_RUN_NOWAIT): runs what is ready now, e.g. the close
    // callbacks of handles just closed.
    void runNoWait();
    // Thread-safe. Tasks posted after closeQueue() are dropped.
    void post(Task task);
    // Closes the task queue (on the loop thread); tasks still queued are dropped, not run.
    void closeQueue();
    // Loop's cached clock in milliseconds (uv_now).
    uint64_t now() const { return uv_now(&loop_); }

  private:
    static void onAsync(uv_async_t* handle);
    void drain();

    uv_loop_t loop_{};
    uv_async_t async_{};
    std::mutex mutex_;
    std::vector<Task> tasks_;
    std::vector<Task> running_;
    bool queue_closed_ = false;
};

}  // namespace sluice::loop
