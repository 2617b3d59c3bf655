#include "health/probe.h"

#include "net/proxy_header.h"

namespace sluice::health {

Probe::Probe(uv_loop_t* loop, std::chrono::milliseconds timeout)
    : loop_(loop), timeout_(timeout), timer_(loop, [this] { onTimer(); }) {}

Probe::~Probe() { closeConnection(); }

void Probe::setTls(std::shared_ptr<const tls::ClientContext> tls, std::string host) {
    tls_ = std::move(tls);
    tls_host_ = std::move(host);
}

void Probe::start(const sockaddr* addr, Callback done) {
    cancel();
    done_ = std::move(done);
    running_ = true;
    connected_ = false;
    connect_failed_ = false;
    resetProtocol();
    conn_ = net::TcpConnection::connect(loop_, addr, this, tls_.get(), tls_host_);
    if (!conn_) {
        // Never call back from inside start(): report from the timer on the next loop turn.
        connect_failed_ = true;
        timer_.start(0);
        return;
    }
    if (proxy_ == config::ProxyProtocol::kV1) {
        conn_->writePrelude("PROXY UNKNOWN\r\n");
    } else if (proxy_ == config::ProxyProtocol::kV2) {
        char local[16];
        conn_->writePrelude(std::string_view(local, net::writeProxyV2Local(local)));
    }
    timer_.start(static_cast<uint64_t>(timeout_.count()));
}

void Probe::cancel() {
    timer_.stop();
    closeConnection();
    done_ = nullptr;
    running_ = false;
}

std::string Probe::timeoutDetail() const {
    const std::string after = "timeout after " + std::to_string(timeout_.count()) + "ms";
    return connected_ ? after + " waiting for the response" : "connect: " + after;
}

void Probe::finish(bool passed, std::string detail) {
    if (!running_) return;
    timer_.stop();
    closeConnection();
    running_ = false;
    Callback done = std::move(done_);
    done_ = nullptr;
    if (done) done(ProbeResult{passed, std::move(detail)});
}

void Probe::onConnected(net::TcpConnection& conn) {
    connected_ = true;
    onProbeConnected(conn);
}

void Probe::onError(net::TcpConnection& conn, int uv_error) {
    if (!conn.tlsError().empty()) {
        finish(false, "TLS: " + conn.tlsError());
        return;
    }
    finish(false,
           std::string(connected_ ? "connection: " : "connect: ") + loop::errorText(uv_error));
}

void Probe::onData(net::TcpConnection&, std::string_view) {}

void Probe::onEof(net::TcpConnection&) {
    finish(false, "connection closed by the server before the response");
}

void Probe::onTimer() {
    if (connect_failed_) {
        // net::TcpConnection::connect does not say why; the address family or the local
        // resources are the usual causes.
        finish(false, "connect: could not start the connection");
        return;
    }
    finish(false, timeoutDetail());
}

void Probe::closeConnection() {
    if (!conn_) return;
    conn_->destroy();  // no handler call after this
    conn_ = nullptr;
}

}  // namespace sluice::health
