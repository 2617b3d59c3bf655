#include "loop/event_loop.h"

#include <cstdio>
#include <cstdlib>

namespace sluice::loop {

EventLoop::EventLoop() {
    if (uv_loop_init(&loop_) != 0 || uv_async_init(&loop_, &async_, &EventLoop::onAsync) != 0) {
        std::fprintf(stderr, "sluice: cannot initialise event loop\n");
        std::abort();
    }
    async_.data = this;
    // The queue alone must not keep run() going: workers exit when their handles are gone.
    uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
}

EventLoop::~EventLoop() {
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&async_))) {
        uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    }
    // Let close callbacks of anything still closing run before the loop goes away.
    uv_run(&loop_, UV_RUN_NOWAIT);
    uv_loop_close(&loop_);
}

void EventLoop::run() { uv_run(&loop_, UV_RUN_DEFAULT); }

void EventLoop::runNoWait() { uv_run(&loop_, UV_RUN_NOWAIT); }

void EventLoop::post(Task task) {
    {
        std::lock_guard lock(mutex_);
        if (queue_closed_) return;
        tasks_.push_back(std::move(task));
    }
    uv_async_send(&async_);
}

void EventLoop::closeQueue() {
    {
        std::lock_guard lock(mutex_);
        queue_closed_ = true;
        tasks_.clear();  // the loop's owner is gone: late tasks must not run
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

void EventLoop::onAsync(uv_async_t* handle) { static_cast<EventLoop*>(handle->data)->drain(); }

void EventLoop::drain() {
    {
        std::lock_guard lock(mutex_);
        running_.swap(tasks_);
    }
    for (auto& task : running_) task();
    running_.clear();
}

}  // namespace sluice::loop
