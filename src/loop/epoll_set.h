#pragma once
// Readiness of many quiet sockets behind ONE libuv handle: an epoll set of its own, watched by
// one uv_poll_t, so a socket nobody reads for a while (a parked keep-alive connection) costs an
// epoll entry in the kernel and nothing in libuv.
//
// Contract:
// - add(fd, cookie) watches `fd` for input, peer hang-up or error (level-triggered): every loop
//   iteration in which it is ready reports `cookie` to the callback until remove(fd). The set
//   never reads, writes or closes a descriptor; the owner must remove() one before closing it.
// - Ready descriptors are fetched in batches: a cookie whose descriptor was removed earlier in
//   the same batch may still be reported once, so owners check that a cookie is still theirs
//   (e.g. a slot number and a serial).
// - The libuv handle is active only while the set is not empty: an empty set does not keep the
//   loop alive. The callback must not destroy the set; it may add() and remove() freely.
// Loop thread only. Linux only (epoll).

#include <cstddef>
#include <cstdint>

// libuv's types, declared so that this header does not bring uv.h to its users.
struct uv_loop_s;
struct uv_poll_s;

namespace sluice::loop {

class EpollSet {
  public:
    using Callback = void (*)(void* owner, uint64_t cookie);
    EpollSet(uv_loop_s* loop, Callback callback, void* owner);
    ~EpollSet();
    EpollSet(const EpollSet&) = delete;
    EpollSet& operator=(const EpollSet&) = delete;

    // False when the epoll set or its handle could not be made (add() then fails).
    bool ok() const { return poll_ != nullptr; }
    // False (nothing changed) when the kernel refuses the descriptor.
    [[nodiscard]] bool add(int fd, uint64_t cookie);
    void remove(int fd);
    size_t size() const { return size_; }

  private:
    static void onPoll(uv_poll_s* handle, int status, int events);
    void dispatch();

    uv_poll_s* poll_ = nullptr;  // freed in its close callback
    int epoll_fd_ = -1;
    Callback callback_;
    void* owner_;
    size_t size_ = 0;
};

}  // namespace sluice::loop
