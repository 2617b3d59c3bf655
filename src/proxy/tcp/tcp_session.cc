#include "proxy/tcp/tcp_session.h"

#include "base/log.h"
#include "metrics/generation_stats.h"

namespace sluice::proxy {

void TcpSession::start(ProxyContext& ctx, net::TcpConnection* client, size_t listener) {
    metrics::connectionOpened(ctx.current()->snapshot->stats.get(), listener);
    auto* session = new TcpSession(ctx, client, listener);
    session->connectNext();
}

TcpSession::TcpSession(ProxyContext& ctx, net::TcpConnection* client, size_t listener)
    : ctx_(ctx),
      snap_(ctx.current()),
      listener_(snap_->snapshot->config->listeners[listener]),
      client_(client),
      connect_timer_(ctx.loop(), [this] { onConnectTimeout(); }),
      idle_timer_(ctx.loop(), [this] { onIdleCheck(); }) {
    int pool = snap_->snapshot->poolIndex(listener_.pool);
    if (pool >= 0) selector_ = snap_->selectors[pool].get();
    client_->setHandler(this);
    // TLS termination in front of a TCP service: the handshake runs while the upstream connects.
    if (const auto& tls = snap_->snapshot->listener_tls[listener]) client_->startServerTls(*tls);
    ctx_.add(*this);
    last_activity_ = ctx_.now();
}

TcpSession::~TcpSession() { ctx_.remove(*this); }

bool TcpSession::connectNext(bool from_queue) {
    const uint64_t now = ctx_.now();
    upstream::Selection sel;
    if (selector_ && attempts_ <= selector_->pool().config.retries &&
        (attempts_ == 0 || selector_->retryBudget().tryRetry(now))) {
        if (attempts_ == 0 && !from_queue) selector_->retryBudget().recordRequest(now);
        sel = selector_->acquire(tried_, client_->peerAddress(), now);
    }
    if (sel.kind == upstream::Selection::kFull) {
        if (!from_queue) selector_->enqueue(*this, now);
        return true;
    }
    if (sel.kind == upstream::Selection::kNone) {
        // No server (left): for TCP the only answer is to close.
        LOG_DEBUG("tcp %s: no upstream server available for %s", listener_.name.c_str(),
                  client_->peerAddress().c_str());
        finish();
        return false;
    }
    ++attempts_;
    tried_.add(static_cast<size_t>(sel.index));
    server_ = sel.index;
    const upstream::Server& server = selector_->pool().servers[static_cast<size_t>(sel.index)];
    upstream_ = net::TcpConnection::connect(
        ctx_.loop(), reinterpret_cast<const sockaddr*>(&server.config.address.sockaddr), this,
        selector_->pool().tls.get(), server.config.address.host);
    if (!upstream_) {
        selector_->reportFailure(server_, now, "connect failed");
        releaseServer();
        return connectNext();
    }
    connect_timer_.start(static_cast<uint64_t>(selector_->pool().config.connect_timeout.count()));
    return false;
}

bool TcpSession::onSlotMaybeFree() { return !connectNext(/*from_queue=*/true); }

void TcpSession::onQueueTimeout() {
    LOG_DEBUG("tcp %s: queue timeout", listener_.name.c_str());
    finish();
}

void TcpSession::onConnectTimeout() {
    if (!upstream_ || upstream_->connected()) return;
    LOG_WARN("tcp %s: connect to server timed out", listener_.name.c_str());
    selector_->reportFailure(server_, ctx_.now(), "connect timeout");
    upstream_->destroy();
    upstream_ = nullptr;
    releaseServer();
    connectNext();
}

void TcpSession::onConnected(net::TcpConnection&) {
    connect_timer_.stop();
    selector_->reportSuccess(server_);
    client_->startReading();
    upstream_->startReading();
    last_activity_ = ctx_.now();
    idle_timer_.start(static_cast<uint64_t>(listener_.idle_timeout.count()));
}

void TcpSession::onData(net::TcpConnection& conn, std::string_view bytes) {
    last_activity_ = ctx_.now();
    net::TcpConnection* peer = peerOf(conn);
    if (!peer->write(bytes)) {
        finish();
        return;
    }
    if (peer->pendingBytes() > kHighWater) conn.stopReading();
}

void TcpSession::onDrain(net::TcpConnection& conn) {
    net::TcpConnection* peer = peerOf(conn);
    // `conn` has room again: let its peer's bytes flow (unless the peer already ended).
    if ((peer == client_ && !client_eof_) || (peer == upstream_ && !upstream_eof_)) {
        peer->startReading();
    }
    maybeFinish();
}

void TcpSession::onEof(net::TcpConnection& conn) {
    last_activity_ = ctx_.now();
    if (&conn == client_) {
        client_eof_ = true;
        upstream_->shutdownWrite();
    } else {
        upstream_eof_ = true;
        client_->shutdownWrite();
    }
    maybeFinish();
}

void TcpSession::onError(net::TcpConnection& conn, int uv_error) {
    if (&conn == upstream_ && !upstream_->connected()) {
        connect_timer_.stop();
        LOG_DEBUG("tcp %s: connect failed: %s", listener_.name.c_str(), uv_strerror(uv_error));
        selector_->reportFailure(server_, ctx_.now(), uv_strerror(uv_error));
        upstream_->destroy();
        upstream_ = nullptr;
        releaseServer();
        connectNext();
        return;
    }
    LOG_DEBUG("tcp %s: %s side error: %s", listener_.name.c_str(),
              &conn == client_ ? "client" : "server", uv_strerror(uv_error));
    finish();
}

void TcpSession::onIdleCheck() {
    const uint64_t idle = static_cast<uint64_t>(listener_.idle_timeout.count());
    const uint64_t quiet = ctx_.now() - last_activity_;
    if (quiet >= idle) {
        LOG_DEBUG("tcp %s: idle timeout", listener_.name.c_str());
        finish();
        return;
    }
    idle_timer_.start(idle - quiet);
}

void TcpSession::maybeFinish() {
    if (client_eof_ && upstream_eof_ && client_->pendingBytes() == 0 &&
        upstream_->pendingBytes() == 0) {
        finish();
    }
}

void TcpSession::releaseServer() {
    if (server_ >= 0) selector_->release(server_, ctx_.now());
    server_ = -1;
}

void TcpSession::finish() {
    if (finished_) return;
    finished_ = true;
    if (queued()) selector_->dequeue(*this);
    if (upstream_) upstream_->destroy();
    metrics::connectionClosed(
        snap_->snapshot->stats.get(),
        static_cast<size_t>(&listener_ - snap_->snapshot->config->listeners.data()),
        client_->bytesRead(), client_->bytesWritten());
    client_->destroy();
    releaseServer();
    delete this;
}

}  // namespace sluice::proxy
