#pragma once
// The one way this code owns a libuv handle (timers, idle handles): the handle lives on the
// heap and is freed by its own close callback, so its owner may be destroyed at any time on the
// loop thread, even inside the handle's callback. `data` is cleared before the close: a callback
// that reads it after the owner went sees nullptr.

#include <uv.h>

namespace sluice::loop {

template <class T>
class UvHandle {
  public:
    // `init` is the handle's uv_*_init (e.g. uv_timer_init); it must succeed (they only fail on
    // invalid arguments).
    template <class Init>
    UvHandle(uv_loop_t* loop, Init init, void* data) : handle_(new T) {
        init(loop, handle_);
        handle_->data = data;
    }
    ~UvHandle() {
        handle_->data = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(handle_),
                 [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
    }
    UvHandle(const UvHandle&) = delete;
    UvHandle& operator=(const UvHandle&) = delete;

    T* get() const { return handle_; }
    bool active() const { return uv_is_active(reinterpret_cast<const uv_handle_t*>(handle_)) != 0; }

  private:
    T* handle_;
};

}  // namespace sluice::loop
