#pragma once
// One per loop (per worker): objects that end inside their own callbacks are handed here and
// deleted once the loop is back in control (the next idle phase), never under a frame that may
// still use them. Replaces ad-hoc schemes (depth counters, `delete this`): an object that is
// done calls deleteLater(this) as its last act and may keep running until it returns.
// Loop thread only. Whatever is still queued is deleted by the destructor.

#include <uv.h>

#include <utility>
#include <vector>

#include "loop/uv_handle.h"

namespace sluice::loop {

class DeleteQueue {
  public:
    explicit DeleteQueue(uv_loop_t* loop);
    ~DeleteQueue();
    DeleteQueue(const DeleteQueue&) = delete;
    DeleteQueue& operator=(const DeleteQueue&) = delete;

    // Takes ownership of `object` (allocated with new). Pushing the same object twice is a bug.
    template <class T>
    void deleteLater(T* object) {
        push(object, [](void* p) { delete static_cast<T*>(p); });
    }
    size_t pending() const { return queue_.size(); }
    // Deletes everything queued now (also what those deletions queue).
    void runNow();

  private:
    using Deleter = void (*)(void*);
    void push(void* object, Deleter deleter);
    static void onIdle(uv_idle_t* handle);

    UvHandle<uv_idle_t> idle_;
    std::vector<std::pair<void*, Deleter>> queue_;
    std::vector<std::pair<void*, Deleter>> running_;
};

}  // namespace sluice::loop
