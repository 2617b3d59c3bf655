#include "loop/fd_watch.h"

namespace sluice::loop {

FdWatch::FdWatch(uv_loop_t* loop, int fd, std::function<void(bool, bool)> on_ready)
    : handle_(new uv_poll_t), on_ready_(std::move(on_ready)) {
    ok_ = uv_poll_init_socket(loop, handle_, fd) == 0;
    if (!ok_) {
        delete handle_;
        handle_ = nullptr;
        return;
    }
    handle_->data = this;
}

FdWatch::~FdWatch() {
    if (!handle_) return;
    uv_poll_stop(handle_);
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
}

void FdWatch::watch(bool readable, bool writable) {
    if (!handle_) return;
    const int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
    if (events == 0) {
        uv_poll_stop(handle_);
        return;
    }
    uv_poll_start(handle_, events, &FdWatch::onPoll);
}

void FdWatch::onPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdWatch*>(handle->data);
    if (!self) return;
    // A copy: the callback may destroy this FdWatch (and its on_ready_) while it runs.
    const std::function<void(bool, bool)> on_ready = self->on_ready_;
    if (status < 0) {
        on_ready(true, true);
        return;
    }
    on_ready((events & UV_READABLE) != 0, (events & UV_WRITABLE) != 0);
}

}  // namespace sluice::loop
