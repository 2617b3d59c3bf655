#include "proxy/tcp/tcp_session.h"

#include "base/log.h"
#include "loop/uv_types.h"
#include "metrics/generation_stats.h"
#include "proxy/client_admission.h"

namespace sluice::proxy {

void TcpSession::start(ProxyContext& ctx, net::TcpConnection* client, size_t listener) {
    metrics::connectionOpened(ctx.current()->snapshot->stats.get(), listener);
    auto* session = new TcpSession(ctx, client, listener);
    if (!session->selector_) return session->finish();
    if (!session->listener_.accept_proxy_protocol &&
        !admitClient(ctx, *session->snap_, listener, *client, session->lease_)) {
        return session->finish();
    }
    if (session->listener_.accept_proxy_protocol) {
        // The upstream is chosen by the client address, which the PROXY header carries: read it
        // first, within client_header_timeout (onProxyHeader connects).
        session->client_->expectProxyHeader();
        session->client_->startReading();
        session->idle_timer_.start(
            static_cast<uint64_t>(session->listener_.client_header_timeout.count()));
        return;
    }
    session->connect();
}

void TcpSession::connect() {
    connector_.begin(*selector_, client_->peerAddress(), /*use_pool=*/false);
}

void TcpSession::onProxyHeader(net::TcpConnection&) {
    idle_timer_.stop();
    if (!admitClient(ctx_, *snap_, listener_index_, *client_, lease_)) return finish();
    client_->stopReading();  // until the upstream is ready; bytes behind the header wait in early_
    connect();
}

TcpSession::TcpSession(ProxyContext& ctx, net::TcpConnection* client, size_t listener)
    : ctx_(ctx),
      snap_(ctx.current()),
      listener_index_(listener),
      listener_(snap_->snapshot->config->listeners[listener]),
      client_(client),
      connector_(ctx.loop(), ctx.connectionPool(), *this),
      idle_timer_(ctx.loop(), [this] { onIdleCheck(); }) {
    int pool = snap_->snapshot->poolIndex(listener_.pool);
    if (pool >= 0) selector_ = snap_->selectors[pool].get();
    client_->setHandler(this);
    connector_.setClient(client_);
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
    if (!early_.empty()) {
        const std::string early = std::move(early_);
        early_.clear();
        if (!upstream_->write(early)) return finish();
    }
    if (client_eof_) upstream_->shutdownWrite();
    if (!client_eof_) client_->startReading();
    upstream_->startReading();
    last_activity_ = ctx_.now();
    idle_timer_.start(static_cast<uint64_t>(listener_.idle_timeout.count()));
}

void TcpSession::onData(net::TcpConnection& conn, std::string_view bytes) {
    last_activity_ = ctx_.now();
    if (!upstream_) {
        early_.append(bytes);  // behind a PROXY header, before the upstream is connected
        return;
    }
    net::TcpConnection* peer = peerOf(conn);
    if (!peer->write(bytes)) {
        finish();
        return;
    }
    if (peer->pendingBytes() > kHighWater) conn.stopReading();
}

void TcpSession::onDrain(net::TcpConnection& conn) {
    if (!upstream_) return;
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
        if (!upstream_) {
            if (client_->awaitingProxyHeader()) finish();
            return;  // onUpstreamReady passes the FIN on
        }
        upstream_->shutdownWrite();
    } else {
        upstream_eof_ = true;
        client_->shutdownWrite();
    }
    maybeFinish();
}

void TcpSession::onError(net::TcpConnection& conn, int uv_error) {
    LOG_DEBUG("tcp %s: %s side error: %s", listener_.name.c_str(),
              &conn == client_ ? "client" : "server", loop::errorText(uv_error));
    finish();
}

void TcpSession::onIdleCheck() {
    if (!upstream_) {
        LOG_DEBUG("tcp %s: no PROXY header within client_header_timeout", listener_.name.c_str());
        finish();
        return;
    }
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
    if (!upstream_) return;
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
    metrics::connectionClosed(
        snap_->snapshot->stats.get(),
        static_cast<size_t>(&listener_ - snap_->snapshot->config->listeners.data()),
        client_->bytesRead(), client_->bytesWritten());
    client_->destroy();
    lease_.release();  // the address's slot frees with the connection
    ctx_.retire(*this);
}

}  // namespace sluice::proxy
