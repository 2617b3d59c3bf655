#include "net/tcp_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "base/log.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace sluice::net {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
// One read buffer per loop thread: every onData consumer finishes with the bytes (or copies what
// it must keep) before returning, so a shared buffer is safe and keeps reads allocation-free.
thread_local char t_read_buffer[kReadBufferSize];
thread_local bool t_read_buffer_busy = false;
// Plaintext decrypted from t_read_buffer's ciphertext (TLS connections).
thread_local char t_plain_buffer[kReadBufferSize];
const std::string kNoTlsError;
std::atomic<uint64_t> g_next_id{1};

}  // namespace

TcpConnection::TcpConnection(uv_loop_t* loop) : id_(g_next_id.fetch_add(1)) {
    uv_tcp_init(loop, &handle_);
    handle_.data = this;
}

TcpConnection::~TcpConnection() { delete tls_idle_; }  // closed (onClosed) before we get here

TcpConnection::WriteQueue& TcpConnection::queue() {
    if (!queue_) queue_ = std::make_unique<WriteQueue>();
    return *queue_;
}

void TcpConnection::releaseQueue() {
    if (queue_ && queue_->writing.empty() && queue_->pending.empty() &&
        queue_->tls_backlog.empty()) {
        queue_.reset();
    }
}

void TcpConnection::setAddress(SocketAddress& to, const sockaddr_storage& from) {
    to = {};
    if (from.ss_family == AF_INET) {
        std::memcpy(&to.in, &from, sizeof to.in);
    } else if (from.ss_family == AF_INET6) {
        std::memcpy(&to.in6, &from, sizeof to.in6);
    }
}

TcpConnection* TcpConnection::adopt(uv_loop_t* loop, int fd, const sockaddr* peer) {
    auto* conn = new TcpConnection(loop);
    if (uv_tcp_open(&conn->handle_, fd) != 0) {
        ::close(fd);
        conn->closing_ = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&conn->handle_), &TcpConnection::onClosed);
        return nullptr;
    }
    uv_tcp_nodelay(&conn->handle_, 1);
    conn->connected_ = true;
    conn->fillPeer(peer, /*local_too=*/false);
    return conn;
}

TcpConnection* TcpConnection::connect(uv_loop_t* loop, const sockaddr* addr,
                                      ConnectionHandler* handler, const tls::ClientContext* tls,
                                      const std::string& tls_host) {
    auto* conn = new TcpConnection(loop);
    conn->handler_ = handler;
    if (tls) {
        conn->tls_ = tls::TlsStream::client(*tls, tls_host);
        conn->tls_client_ = true;
        conn->tls_idle_ = new uv_idle_t;
        uv_idle_init(loop, conn->tls_idle_);
        conn->tls_idle_->data = conn;
        ++conn->open_handles_;
    }
    conn->connect_req_ = new uv_connect_t;
    conn->connect_req_->data = conn;
    int rc =
        uv_tcp_connect(conn->connect_req_, &conn->handle_, addr, &TcpConnection::onConnectDone);
    if (rc != 0) {
        delete conn->connect_req_;
        conn->connect_req_ = nullptr;
        // Refused at once (no socket, bad address): nullptr and no handler call, so the caller
        // is never re-entered from inside connect(); it treats nullptr as a connect failure.
        conn->failed_ = true;
        conn->handler_ = nullptr;
        conn->destroy();
        return nullptr;
    }
    return conn;
}

void TcpConnection::startServerTls(const tls::ServerContext& ctx) {
    if (tls_) return;
    tls_ = tls::TlsStream::server(ctx);
    tls_idle_ = new uv_idle_t;
    uv_idle_init(handle_.loop, tls_idle_);
    tls_idle_->data = this;
    ++open_handles_;
}

const std::string& TcpConnection::tlsError() const { return tls_ ? tls_->error() : kNoTlsError; }

namespace {
std::string ipText(const sockaddr& sa) {
    char ip[INET6_ADDRSTRLEN] = {0};
    if (sa.sa_family == AF_INET) {
        uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&sa), ip, sizeof ip);
    } else if (sa.sa_family == AF_INET6) {
        uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&sa), ip, sizeof ip);
    }
    return ip;
}
}  // namespace

void TcpConnection::fillPeer(const sockaddr* peer, bool local_too) {
    if (local_too) localSockaddr();
    sockaddr_storage ss{};
    if (peer != nullptr && (peer->sa_family == AF_INET || peer->sa_family == AF_INET6)) {
        std::memcpy(&ss, peer,
                    peer->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    } else {
        int len = sizeof ss;
        if (uv_tcp_getpeername(&handle_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
    }
    setAddress(peer_addr_, ss);
    peer_ = ipText(peer_addr_.sa);
}

const sockaddr& TcpConnection::localSockaddr() const {
    if (local_addr_.sa.sa_family == AF_UNSPEC && !closing_) {
        sockaddr_storage ss{};
        int len = sizeof ss;
        if (uv_tcp_getsockname(&handle_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
            setAddress(local_addr_, ss);
        }
    }
    return local_addr_.sa;
}

bool TcpConnection::parkable() const {
    return connected_ && !tls_ && !tls_client_ && !proxy_parser_ && !write_in_flight_ &&
           pendingBytes() == 0 && !connect_req_ && !shutdown_req_ && !shutdown_requested_ &&
           !closing_ && !failed_;
}

bool TcpConnection::parkSocket(Parked& out) const {
    if (!parkable()) return false;
    uv_os_fd_t fd = -1;
    if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&handle_), &fd) != 0) return false;
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return false;
    out.peer = peer_addr_;
    out.local = local_addr_;
    out.id = id_;
    out.bytes_read = bytes_read_;
    out.bytes_written = bytes_written_;
    out.fd = copy;
    out.proxy_version = proxy_version_;
    return true;
}

TcpConnection* TcpConnection::unpark(uv_loop_t* loop, const Parked& parked) {
    auto* conn = new TcpConnection(loop);
    conn->id_ = parked.id;  // the same connection to logs (the fresh id is never used)
    if (uv_tcp_open(&conn->handle_, parked.fd) != 0) {
        ::close(parked.fd);
        conn->closing_ = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&conn->handle_), &TcpConnection::onClosed);
        return nullptr;
    }
    uv_tcp_nodelay(&conn->handle_, 1);  // the socket kept it; this sets libuv's flag too
    conn->connected_ = true;
    conn->peer_addr_ = parked.peer;
    conn->local_addr_ = parked.local;
    conn->peer_ = ipText(conn->peer_addr_.sa);
    conn->bytes_read_ = parked.bytes_read;
    conn->bytes_written_ = parked.bytes_written;
    conn->proxy_version_ = parked.proxy_version;
    return conn;
}

void TcpConnection::expectProxyHeader() {
    if (proxy_parser_ || proxy_version_) return;
    proxy_parser_ = std::make_unique<ProxyHeaderParser>();
}

bool TcpConnection::takeProxyHeader(std::string_view& bytes) {
    const ProxyHeaderParser::Result r = proxy_parser_->feed(bytes);
    if (r.status == ProxyHeaderParser::Status::kNeedMore) return false;
    if (r.status == ProxyHeaderParser::Status::kError) {
        proxy_error_ = r.reason;
        proxy_parser_.reset();
        LOG_DEBUG("client %s: bad PROXY header: %s", peer_.c_str(), proxy_error_);
        fail(UV_EPROTO);
        return false;
    }
    const ProxyHeader& header = proxy_parser_->header();
    proxy_version_ = header.version;
    if (header.has_addresses) {
        setAddress(peer_addr_, header.source);
        setAddress(local_addr_, header.destination);
        peer_ = ipText(peer_addr_.sa);
    }
    proxy_parser_.reset();
    bytes.remove_prefix(r.consumed);
    updateReading();
    if (handler_) handler_->onProxyHeader(*this);
    return !closing_ && !failed_;
}

void TcpConnection::startReading() {
    if (reading_ || closing_ || failed_) return;
    reading_ = true;
    updateReading();
    // Plaintext may already sit decrypted-but-undelivered in the TLS stream (reads were paused
    // in the middle of a record batch): deliver it from the loop, not from inside this call.
    // Usually nothing is left (a keep-alive client waits for the response before sending more),
    // and then a drain would only find that out again.
    if (tls_ && ((queue_ && !queue_->tls_backlog.empty()) ||
                 (tls_->handshakeDone() && tls_->hasBufferedInput()))) {
        scheduleTlsDrain();
    }
}

void TcpConnection::stopReading() {
    if (!reading_) return;
    reading_ = false;
    updateReading();
}

// The socket is read while the handler wants bytes, and during a TLS handshake regardless
// (the handshake needs the peer's answers before the handler sees anything).
void TcpConnection::updateReading() {
    const bool want = !closing_ && !failed_ && (reading_ || proxy_parser_ || tlsHandshaking());
    if (want == uv_reading_) return;
    if (want) {
        if (uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_), &TcpConnection::onAlloc,
                          &TcpConnection::onRead) == 0) {
            uv_reading_ = true;
        }
    } else {
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_));
        uv_reading_ = false;
    }
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
        self->bytes_read_ += static_cast<uint64_t>(nread);
        std::string_view bytes(t_read_buffer, static_cast<size_t>(nread));
        if (self->proxy_parser_) {
            t_read_buffer_busy = true;
            const bool go_on = self->takeProxyHeader(bytes);
            t_read_buffer_busy = false;
            if (!go_on || bytes.empty()) return;
        }
        if (self->tls_) {
            self->tls_->feed(bytes);
            self->drainTls();
            return;
        }
        if (!handler) return;
        t_read_buffer_busy = true;
        handler->onData(*self, bytes);
        t_read_buffer_busy = false;
        return;
    }
    self->reading_ = false;
    self->updateReading();
    if (nread == UV_EOF) {
        if (handler) handler->onEof(*self);
    } else {
        self->fail(static_cast<int>(nread));
    }
}

void TcpConnection::drainTls() {
    if (queue_ && !queue_->tls_backlog.empty()) {
        if (!reading_ || !handler_) return;
        const std::string backlog = std::move(queue_->tls_backlog);
        queue_->tls_backlog.clear();
        releaseQueue();
        handler_->onData(*this, backlog);
    }
    while (!closing_ && !failed_) {
        // Paused by the handler: what is left waits in the TLS stream until startReading().
        if (tls_up_ && !reading_) return;
        const tls::TlsStream::ReadResult r = tls_->read(t_plain_buffer, sizeof t_plain_buffer);
        if (!flushTls()) return;
        if (!tls_up_ && tls_->handshakeDone()) {
            tls_up_ = true;
            updateReading();  // the handshake no longer needs reads of its own
            if (tls_client_ && handler_) {
                handler_->onConnected(*this);  // client side: usable now
                if (closing_ || failed_) return;
            }
        }
        switch (r.status) {
            case tls::TlsStream::Status::kData:
                if (!reading_ || !handler_) {
                    // Application data right behind the handshake's last message, which the
                    // handler has not asked for yet (e.g. an L4 session still connecting).
                    queue().tls_backlog.append(t_plain_buffer, r.n);
                    return;
                }
                handler_->onData(*this, std::string_view(t_plain_buffer, r.n));
                break;
            case tls::TlsStream::Status::kWantMore:
                return;
            case tls::TlsStream::Status::kClosed:
                reading_ = false;
                updateReading();
                if (handler_) handler_->onEof(*this);
                return;
            case tls::TlsStream::Status::kError:
                fail(UV_EPROTO);
                return;
        }
    }
}

bool TcpConnection::writeTlsOutput() {
    std::string_view out[1] = {tls_->output()};
    if (out[0].empty()) return true;
    const bool ok = rawWrite(out, 1);
    tls_->consumeOutput();
    return ok;
}

bool TcpConnection::flushTls() {
    const bool ok = writeTlsOutput();
    if (!ok && !closing_) fail(UV_EPIPE);
    return ok;
}

void TcpConnection::scheduleTlsDrain() {
    if (tls_idle_active_ || closing_) return;
    tls_idle_active_ = true;
    uv_idle_start(tls_idle_, &TcpConnection::onTlsIdle);
}

void TcpConnection::onTlsIdle(uv_idle_t* idle) {
    auto* self = static_cast<TcpConnection*>(idle->data);
    uv_idle_stop(idle);
    self->tls_idle_active_ = false;
    if (self->closing_ || !self->reading_) return;
    self->drainTls();
}

bool TcpConnection::write(std::string_view a, std::string_view b, std::string_view c,
                          std::string_view d) {
    if (failed_ || closing_ || shutdown_requested_) return false;
    std::string_view parts[4] = {a, b, c, d};
    if (tls_) {
        if (!tls_->write(parts, 4)) {
            failed_ = true;
            return false;
        }
        // Nothing to send yet while the handshake runs (the plaintext is kept until it is done).
        return writeTlsOutput();
    }
    return rawWrite(parts, 4);
}

bool TcpConnection::rawWrite(std::string_view* parts, size_t count) {
    for (size_t i = 0; i < count; ++i) bytes_written_ += parts[i].size();
    if (!write_in_flight_ && (!queue_ || queue_->pending.empty()) && connected_) {
        uv_buf_t bufs[4];
        unsigned n = 0;
        size_t total = 0;
        for (size_t i = 0; i < count; ++i) {
            const std::string_view p = parts[i];
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
        for (size_t i = 0; i < count; ++i) {
            const std::string_view p = parts[i];
            if (written >= p.size()) {
                written -= p.size();
                continue;
            }
            queue().pending.append(p.data() + written, p.size() - written);
            written = 0;
        }
    } else {
        std::string& pending = queue().pending;
        for (size_t i = 0; i < count; ++i) pending.append(parts[i].data(), parts[i].size());
    }
    if (connected_ && !write_in_flight_) startWrite();
    return true;
}

void TcpConnection::startWrite() {
    if (!queue_ || queue_->pending.empty()) return;
    WriteQueue& q = *queue_;
    q.writing.swap(q.pending);
    q.pending.clear();
    uv_buf_t buf = uv_buf_init(q.writing.data(), static_cast<unsigned>(q.writing.size()));
    write_req_ = new uv_write_t;
    write_req_->data = this;
    int rc = uv_write(write_req_, reinterpret_cast<uv_stream_t*>(&handle_), &buf, 1,
                      &TcpConnection::onWriteDone);
    if (rc != 0) {
        delete write_req_;
        write_req_ = nullptr;
        q.writing.clear();
        fail(rc);
        return;
    }
    write_in_flight_ = true;
}

void TcpConnection::onWriteDone(uv_write_t* req, int status) {
    auto* self = static_cast<TcpConnection*>(req->data);
    delete req;
    self->write_req_ = nullptr;
    self->write_in_flight_ = false;
    self->queue_->writing.clear();
    if (self->closing_) return;
    if (status != 0) {
        self->fail(status);
        return;
    }
    if (!self->queue_->pending.empty()) {
        self->startWrite();
        return;
    }
    self->releaseQueue();  // drained: an idle connection holds no write buffer
    if (self->shutdown_requested_ && !self->shutdown_sent_) {
        self->shutdown_requested_ = false;  // let shutdownWrite() issue it
        self->shutdownWrite();
        if (self->closing_) return;
    }
    if (self->handler_) self->handler_->onDrain(*self);
}

void TcpConnection::shutdownWrite() {
    if (closing_ || failed_ || shutdown_sent_) return;
    if (tls_ && !shutdown_requested_ && tls_->handshakeDone()) {
        tls_->shutdown();  // close_notify, then FIN
        if (!flushTls()) return;
    }
    shutdown_requested_ = true;
    if (write_in_flight_ || (queue_ && !queue_->pending.empty())) return;  // after the drain
    shutdown_sent_ = true;
    shutdown_req_ = new uv_shutdown_t;
    shutdown_req_->data = this;
    if (uv_shutdown(shutdown_req_, reinterpret_cast<uv_stream_t*>(&handle_),
                    &TcpConnection::onShutdownDone) != 0) {
        delete shutdown_req_;
        shutdown_req_ = nullptr;
        shutdown_sent_ = false;
    }
}

void TcpConnection::onShutdownDone(uv_shutdown_t* req, int) {
    static_cast<TcpConnection*>(req->data)->shutdown_req_ = nullptr;
    delete req;
}

void TcpConnection::onConnectDone(uv_connect_t* req, int status) {
    auto* self = static_cast<TcpConnection*>(req->data);
    delete req;
    self->connect_req_ = nullptr;
    if (self->closing_) return;
    if (status != 0) {
        self->fail(status);
        return;
    }
    uv_tcp_nodelay(&self->handle_, 1);
    self->fillPeer(nullptr, /*local_too=*/true);
    self->connected_ = true;
    if (self->tls_) {
        // TCP is up; for the handler the connection is up once TLS is (see drainTls()).
        self->tls_->startHandshake();
        if (!self->flushTls()) return;
        self->updateReading();
        return;
    }
    self->startWrite();  // a prelude or early writes
    if (self->handler_) self->handler_->onConnected(*self);
}

void TcpConnection::fail(int uv_error) {
    if (closing_) return;
    failed_ = true;
    reading_ = false;
    updateReading();
    if (handler_) handler_->onError(*this, uv_error);
}

void TcpConnection::destroy() {
    if (closing_) return;
    handler_ = nullptr;  // no callback from here on, not even for a failing close_notify
    if (tls_ && tls_->handshakeDone() && !failed_ && !shutdown_sent_ && !shutdown_requested_) {
        tls_->shutdown();  // best effort close_notify: the peer sees a clean end
        flushTls();
    }
    closing_ = true;
    reading_ = false;
    updateReading();
    closeTlsIdle();
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_), &TcpConnection::onClosed);
}

void TcpConnection::closeTlsIdle() {
    if (!tls_idle_ || uv_is_closing(reinterpret_cast<uv_handle_t*>(tls_idle_))) return;
    uv_close(reinterpret_cast<uv_handle_t*>(tls_idle_), &TcpConnection::onClosed);
}

void TcpConnection::reset() {
    if (closing_) return;
    closing_ = true;
    handler_ = nullptr;
    reading_ = false;
    updateReading();
    closeTlsIdle();
    if (uv_tcp_close_reset(&handle_, &TcpConnection::onClosed) != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(&handle_), &TcpConnection::onClosed);
    }
}

void TcpConnection::onClosed(uv_handle_t* handle) {
    auto* self = static_cast<TcpConnection*>(handle->data);
    if (--self->open_handles_ == 0) delete self;
}

}  // namespace sluice::net
