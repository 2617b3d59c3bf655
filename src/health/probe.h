#pragma once
// One active health check of one server at a time: connect, (protocol step), verdict.
//
// Contract:
// - start() begins a check; the callback runs exactly once per start(), on the loop thread and
//   never from inside start() itself, unless the Probe is destroyed (or start() is called again)
//   first, which cancels the check silently. A Probe is reusable: start() again after the
//   callback. Calling start() while running() cancels the running check first.
// - `timeout` bounds the WHOLE check: connect, request and response head. When it expires the
//   check fails ("connect: timeout after ..." or "timeout after ... waiting for the response").
// - The connection is closed as soon as the verdict is known; the callback may destroy the Probe
//   only after it returned (the owner keeps it and reuses or drops it later).
// - Subclasses implement the protocol step: TcpProbe (connecting is the check) and HttpProbe.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "loop/timer.h"
#include "loop/uv_types.h"
#include "net/tcp_connection.h"
#include "tls/client_context.h"

namespace sluice::health {

struct ProbeResult {
    bool passed = false;
    std::string detail;  // "HTTP 200", "HTTP 503 from /healthz", "connect: connection refused"
};

class Probe : public net::ConnectionHandler {
  public:
    using Callback = std::function<void(ProbeResult)>;

    Probe(uv_loop_t* loop, std::chrono::milliseconds timeout);
    ~Probe() override;
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;

    // Checks speak TLS to `host` from now on (null: plain). A tcp check then passes only
    // when the handshake does.
    void setTls(std::shared_ptr<const tls::ClientContext> tls, std::string host);
    // Checks of a pool that sends the PROXY protocol begin with its "no address" form: v2
    // LOCAL, v1 "PROXY UNKNOWN" (the server accepts them as the proxy's own connections).
    void setProxyProtocol(config::ProxyProtocol proxy) { proxy_ = proxy; }
    // `addr` is copied before start() returns.
    void start(const sockaddr* addr, Callback done);
    void cancel();
    bool running() const { return running_; }

  protected:
    // The connection is up: the check's protocol step starts here (or finish() is called).
    virtual void onProbeConnected(net::TcpConnection& conn) = 0;
    // Resets per-check protocol state; called at every start().
    virtual void resetProtocol() {}
    virtual std::string timeoutDetail() const;
    // Ends the check: closes the connection, stops the timer, then runs the callback (last).
    void finish(bool passed, std::string detail);
    std::chrono::milliseconds timeout() const { return timeout_; }
    bool isConnected() const { return connected_; }

    // net::ConnectionHandler (subclasses may override onData/onEof; call finish from them).
    void onConnected(net::TcpConnection& conn) override;
    void onError(net::TcpConnection& conn, int uv_error) override;
    void onData(net::TcpConnection& conn, std::string_view bytes) override;
    void onEof(net::TcpConnection& conn) override;

  private:
    void onTimer();
    void closeConnection();

    uv_loop_t* loop_;
    std::chrono::milliseconds timeout_;
    loop::Timer timer_;
    net::TcpConnection* conn_ = nullptr;
    std::shared_ptr<const tls::ClientContext> tls_;
    std::string tls_host_;
    config::ProxyProtocol proxy_ = config::ProxyProtocol::kNone;
    Callback done_;
    bool running_ = false;
    bool connected_ = false;
    bool connect_failed_ = false;  // connect could not even start; reported from the timer
};

}  // namespace sluice::health
