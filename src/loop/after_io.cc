#include "loop/after_io.h"

namespace sluice::loop {

AfterIo::AfterIo(uv_loop_t* loop, std::function<void()> run)
    : handle_(loop, uv_check_init, this), run_(std::move(run)) {}

void AfterIo::schedule() {
    if (!handle_.active()) uv_check_start(handle_.get(), &AfterIo::onCheck);
}

void AfterIo::cancel() { uv_check_stop(handle_.get()); }

void AfterIo::onCheck(uv_check_t* handle) {
    uv_check_stop(handle);  // once per schedule(); run_ may schedule again
    auto* self = static_cast<AfterIo*>(handle->data);
    if (self) self->run_();
}

}  // namespace sluice::loop
