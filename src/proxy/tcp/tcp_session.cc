#include "proxy/tcp/tcp_session.h"

#include "base/log.h"

namespace sluice::proxy {

void TcpSession::start(ProxyContext& ctx, net::TcpConnection* client, size_t listener) {
    auto* session = new TcpSession(ctx, client, listener);
    if (!session->selector_) return session->finish();
    session->connector_.begin(*session->selector_, session->client_->peerAddress(),
                              /*use_pool=*/false);
}

TcpSession::TcpSession(ProxyContext& ctx, net::TcpConnection* client, size_t listener)
    : ctx_(ctx),
      snap_(ctx.current()),
      listener_(snap_->snapshot->config->listeners[listener]),
      client_(client),
      connector_(ctx.loop(), ctx.connectionPool(), *this),
      idle_timer_(ctx.loop(), [this] { onIdleCheck(); }) {
    int pool = snap_->snapshot->poolIndex(listener_.pool);
    if (pool >= 0) selector_ = snap_->selectors[pool].get();
    client_->setHandler(this);
    // TLS termination in front of a TCP service: the handshake runs while the upstream connects.
    if (const auto& tls = snap_->snapshot->listener_tls[listener]) client_->startServerTls(*tls);
    ctx_.add(*this);
    last_activity_ = ctx_.now();
}

TcpSession::~TcpSession() = default;

void TcpSession::onUpstreamUnavailable(int, const char* termination) {
    // No server (left): for TCP the only answer is to close.
    LOG_DEBUG("tcp %s: no upstream server for %s (%s)", listener_.name.c_str(),
              client_->peerAddress().c_str(), termination);
    finish();
}

void TcpSession::onUpstreamReady(net::TcpConnection* conn, bool) {
    upstream_ = conn;
    upstream_->setHandler(this);
    connector_.reportSuccess();
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

void TcpSession::finish() {
    if (finished_) return;
    finished_ = true;
    connector_.cancel();
    if (upstream_) upstream_->destroy();
    client_->destroy();
    ctx_.retire(*this);
}

}  // namespace sluice::proxy
