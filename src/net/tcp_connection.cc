#include "net/tcp_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>

namespace sluice::net {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
// One read buffer per loop thread: every onData consumer finishes with the bytes (or copies what
// it must keep) before returning, so a shared buffer is safe and keeps reads allocation-free.
thread_local char t_read_buffer[kReadBufferSize];
thread_local bool t_read_buffer_busy = false;
std::atomic<uint64_t> g_next_id{1};

}  // namespace

TcpConnection::TcpConnection(uv_loop_t* loop) : id_(g_next_id.fetch_add(1)) {
    uv_tcp_init(loop, &handle_);
    handle_.data = this;
}

TcpConnection* TcpConnection::adopt(uv_loop_t* loop, int fd) {
    auto* conn = new TcpConnection(loop);
    if (uv_tcp_open(&conn->handle_, fd) != 0) {
        ::close(fd);
        conn->closing_ = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&conn->handle_), &TcpConnection::onClosed);
        return nullptr;
    }
    uv_tcp_nodelay(&conn->handle_, 1);
    conn->connected_ = true;
    conn->fillPeer();
    return conn;
}

TcpConnection* TcpConnection::connect(uv_loop_t* loop, const sockaddr* addr,
                                      ConnectionHandler* handler) {
    auto* conn = new TcpConnection(loop);
    conn->handler_ = handler;
    conn->connect_req_.data = conn;
    int rc =
        uv_tcp_connect(&conn->connect_req_, &conn->handle_, addr, &TcpConnection::onConnectDone);
    if (rc != 0) {
        // Report asynchronously-equivalent: the caller gets the connection and an error at once
        // would re-enter it; instead mark failed and report from a zero-delay path via write.
        conn->failed_ = true;
        conn->handler_ = nullptr;
        conn->destroy();
        return nullptr;
    }
    return conn;
}

void TcpConnection::fillPeer() {
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (uv_tcp_getpeername(&handle_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
    char ip[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET) {
        uv_ip4_name(reinterpret_cast<sockaddr_in*>(&ss), ip, sizeof ip);
    } else if (ss.ss_family == AF_INET6) {
        uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&ss), ip, sizeof ip);
    }
    peer_ = ip;
}

void TcpConnection::startReading() {
    if (reading_ || closing_ || failed_) return;
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_), &TcpConnection::onAlloc,
                      &TcpConnection::onRead) == 0) {
        reading_ = true;
    }
}

void TcpConnection::stopReading() {
    if (!reading_) return;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_));
    reading_ = false;
}

void TcpConnection::onAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
    if (t_read_buffer_busy) {
        // A read callback is still running on this thread (cannot happen with libuv's
        // one-callback-at-a-time dispatch, but never hand out the same bytes twice).
        *buf = uv_buf_init(nullptr, 0);
        return;
    }
    *buf = uv_buf_init(t_read_buffer, kReadBufferSize);
}

void TcpConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<TcpConnection*>(stream->data);
    (void)buf;
    if (nread == 0 || self->closing_) return;
    ConnectionHandler* handler = self->handler_;
    if (nread > 0) {
        if (!handler) return;
        t_read_buffer_busy = true;
        handler->onData(*self, std::string_view(t_read_buffer, static_cast<size_t>(nread)));
        t_read_buffer_busy = false;
        return;
    }
    self->stopReading();
    if (nread == UV_EOF) {
        if (handler) handler->onEof(*self);
    } else {
        self->fail(static_cast<int>(nread));
    }
}

bool TcpConnection::write(std::string_view a, std::string_view b, std::string_view c,
                          std::string_view d) {
    if (failed_ || closing_ || shutdown_requested_) return false;
    std::string_view parts[4] = {a, b, c, d};
    if (!write_in_flight_ && pending_.empty() && connected_) {
        uv_buf_t bufs[4];
        unsigned n = 0;
        size_t total = 0;
        for (auto& p : parts) {
            if (p.empty()) continue;
            bufs[n++] = uv_buf_init(const_cast<char*>(p.data()), static_cast<unsigned>(p.size()));
            total += p.size();
        }
        if (n == 0) return true;
        int rc = uv_try_write(reinterpret_cast<uv_stream_t*>(&handle_), bufs, n);
        size_t written = 0;
        if (rc >= 0) {
            written = static_cast<size_t>(rc);
        } else if (rc != UV_EAGAIN) {
            failed_ = true;
            return false;
        }
        if (written == total) return true;
        // Copy only what the kernel did not take.
        for (auto& p : parts) {
            if (written >= p.size()) {
                written -= p.size();
                continue;
            }
            pending_.append(p.data() + written, p.size() - written);
            written = 0;
        }
    } else {
        for (auto& p : parts) pending_.append(p.data(), p.size());
    }
    if (connected_ && !write_in_flight_) startWrite();
    return true;
}

void TcpConnection::startWrite() {
    if (pending_.empty()) return;
    writing_.swap(pending_);
    pending_.clear();
    uv_buf_t buf = uv_buf_init(writing_.data(), static_cast<unsigned>(writing_.size()));
    write_req_.data = this;
    int rc = uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&handle_), &buf, 1,
                      &TcpConnection::onWriteDone);
    if (rc != 0) {
        writing_.clear();
        fail(rc);
        return;
    }
    write_in_flight_ = true;
}

void TcpConnection::onWriteDone(uv_write_t* req, int status) {
    auto* self = static_cast<TcpConnection*>(req->data);
    self->write_in_flight_ = false;
    self->writing_.clear();
    if (self->closing_) return;
    if (status != 0) {
        self->fail(status);
        return;
    }
    if (!self->pending_.empty()) {
        self->startWrite();
        return;
    }
    if (self->shutdown_requested_ && !self->shutdown_sent_) {
        self->shutdown_requested_ = false;  // let shutdownWrite() issue it
        self->shutdownWrite();
        if (self->closing_) return;
    }
    if (self->handler_) self->handler_->onDrain(*self);
}

void TcpConnection::shutdownWrite() {
    if (closing_ || failed_ || shutdown_sent_) return;
    shutdown_requested_ = true;
    if (write_in_flight_ || !pending_.empty()) return;  // after the queue drains
    shutdown_sent_ = true;
    shutdown_req_.data = this;
    if (uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&handle_),
                    &TcpConnection::onShutdownDone) != 0) {
        shutdown_sent_ = false;
    }
}

void TcpConnection::onShutdownDone(uv_shutdown_t*, int) {}

void TcpConnection::onConnectDone(uv_connect_t* req, int status) {
    auto* self = static_cast<TcpConnection*>(req->data);
    if (self->closing_) return;
    if (status != 0) {
        self->fail(status);
        return;
    }
    self->connected_ = true;
    uv_tcp_nodelay(&self->handle_, 1);
    self->fillPeer();
    if (!self->pending_.empty()) self->startWrite();
    if (self->handler_) self->handler_->onConnected(*self);
}

void TcpConnection::fail(int uv_error) {
    if (closing_) return;
    failed_ = true;
    stopReading();
    if (handler_) handler_->onError(*this, uv_error);
}

void TcpConnection::destroy() {
    if (closing_) return;
    closing_ = true;
    handler_ = nullptr;
    stopReading();
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_), &TcpConnection::onClosed);
}

void TcpConnection::reset() {
    if (closing_) return;
    closing_ = true;
    handler_ = nullptr;
    stopReading();
    if (uv_tcp_close_reset(&handle_, &TcpConnection::onClosed) != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(&handle_), &TcpConnection::onClosed);
    }
}

void TcpConnection::onClosed(uv_handle_t* handle) {
    delete static_cast<TcpConnection*>(handle->data);
}

}  // namespace sluice::net
