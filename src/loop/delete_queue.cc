#include "loop/delete_queue.h"

namespace sluice::loop {

DeleteQueue::DeleteQueue(uv_loop_t* loop) : idle_(loop, uv_idle_init, this) {}

DeleteQueue::~DeleteQueue() { runNow(); }

void DeleteQueue::push(void* object, Deleter deleter) {
    if (queue_.empty()) uv_idle_start(idle_.get(), &DeleteQueue::onIdle);
    queue_.emplace_back(object, deleter);
}

void DeleteQueue::runNow() {
    while (!queue_.empty()) {
        running_.swap(queue_);
        for (auto& [object, deleter] : running_) deleter(object);
        running_.clear();
    }
    uv_idle_stop(idle_.get());
}

void DeleteQueue::onIdle(uv_idle_t* handle) {
    if (auto* self = static_cast<DeleteQueue*>(handle->data)) self->runNow();
}

}  // namespace sluice::loop
