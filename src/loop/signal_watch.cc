#include "loop/signal_watch.h"

namespace sluice::loop {

SignalWatch::SignalWatch(uv_loop_t* loop, int signum, std::function<void(int)> on_signal)
    : handle_(loop, uv_signal_init, this), on_signal_(std::move(on_signal)) {
    uv_signal_start(handle_.get(), &SignalWatch::onSignal, signum);
}

void SignalWatch::ignore() {
    on_signal_ = [](int) {};
    uv_unref(reinterpret_cast<uv_handle_t*>(handle_.get()));
}

void SignalWatch::onSignal(uv_signal_t* handle, int signum) {
    auto* self = static_cast<SignalWatch*>(handle->data);
    if (!self) return;
    // A copy: the callback may destroy this watch (and its on_signal_) while it runs.
    const std::function<void(int)> on_signal = self->on_signal_;
    on_signal(signum);
}

}  // namespace sluice::loop
