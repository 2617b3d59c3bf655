#include "loop/epoll_set.h"

#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

namespace sluice::loop {
namespace {

// Events fetched per epoll_wait; a callback handles at most kBatches of them, the rest come at
// the next loop iteration (level-triggered), so a burst does not starve the other handles.
constexpr int kBatchEvents = 64;
constexpr int kBatches = 16;

}  // namespace

EpollSet::EpollSet(uv_loop_t* loop, Callback callback, void* owner)
    : callback_(callback), owner_(owner) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return;
    poll_ = new uv_poll_t;
    if (uv_poll_init(loop, poll_, epoll_fd_) != 0) {
        delete poll_;
        poll_ = nullptr;
        ::close(epoll_fd_);
        epoll_fd_ = -1;
        return;
    }
    poll_->data = this;
}

EpollSet::~EpollSet() {
    if (!poll_) return;
    poll_->data = nullptr;
    // uv_close unregisters the epoll descriptor at once (the handle is freed later), so it may
    // be closed right after.
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    ::close(epoll_fd_);
}

bool EpollSet::add(int fd, uint64_t cookie) {
    if (!poll_) return false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = cookie;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
    if (size_++ == 0) uv_poll_start(poll_, UV_READABLE, &EpollSet::onPoll);
    return true;
}

void EpollSet::remove(int fd) {
    if (!poll_) return;
    epoll_event ev{};
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, &ev) != 0) return;  // not in the set
    if (--size_ == 0) uv_poll_stop(poll_);
}

void EpollSet::onPoll(uv_poll_t* handle, int, int) {
    if (auto* self = static_cast<EpollSet*>(handle->data)) self->dispatch();
}

void EpollSet::dispatch() {
    epoll_event events[kBatchEvents];
    for (int batch = 0; batch < kBatches && size_ > 0; ++batch) {
        const int n = epoll_wait(epoll_fd_, events, kBatchEvents, 0);
        for (int i = 0; i < n; ++i) callback_(owner_, events[i].data.u64);
        if (n < kBatchEvents) return;
    }
}

}  // namespace sluice::loop
