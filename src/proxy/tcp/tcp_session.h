#pragma once
// L4 proxy session: one client connection spliced to one upstream server.
//
// Gets a connected server of the listener's pool from its UpstreamConnector (connect failures
// move on to the next server, up to the pool's `retries`; no server: the client is closed);
// then copies bytes both ways with
// backpressure (a side's reads pause while the other side's write queue is over the high-water
// mark), propagates half-close (FIN) each way, and closes after idle_timeout without bytes in
// either direction. With accept_proxy_protocol, the PROXY header is read (within
// client_header_timeout) before an upstream is chosen. Retires itself (ProxyContext::retire) when
// done.

#include <memory>
#include <string>

#include "loop/timer.h"
#include "net/tcp_connection.h"
#include "proxy/proxy_context.h"
#include "proxy/upstream_connector.h"

namespace sluice::proxy {

class TcpSession final : public Session,
                         private UpstreamConnector::Owner,
                         private net::ConnectionHandler {
  public:
    // Takes ownership of `client`; `listener` indexes the snapshot's listeners.
    static void start(ProxyContext& ctx, net::TcpConnection* client, size_t listener);

    void drain() override {}  // an L4 session has no request boundary: it ends when its peers do
    void abort() override { finish(); }

  private:
    TcpSession(ProxyContext& ctx, net::TcpConnection* client, size_t listener);
    ~TcpSession() override;

    // UpstreamConnector::Owner
    void onUpstreamReady(net::TcpConnection* conn, bool reused) override;
    void onUpstreamUnavailable(int status, const char* termination) override;
    void onData(net::TcpConnection& conn, std::string_view bytes) override;
    void onEof(net::TcpConnection& conn) override;
    void onError(net::TcpConnection& conn, int uv_error) override;
    void onDrain(net::TcpConnection& conn) override;
    void onProxyHeader(net::TcpConnection& conn) override;
    void connect();
    void onIdleCheck();
    void maybeFinish();
    void finish();
    net::TcpConnection* peerOf(net::TcpConnection& conn) {
        return &conn == client_ ? upstream_ : client_;
    }

    ProxyContext& ctx_;
    std::shared_ptr<WorkerSnapshot> snap_;
    edge::ConnectionLimiter::Lease lease_;  // max_connections_per_ip slot (after snap_)
    size_t listener_index_;
    upstream::ServerSelector* selector_ = nullptr;
    const config::ListenerConfig& listener_;
    net::TcpConnection* client_;
    net::TcpConnection* upstream_ = nullptr;  // connected
    UpstreamConnector connector_;
    loop::Timer idle_timer_;
    std::string early_;  // client bytes read before the upstream was ready (PROXY listeners)
    uint64_t last_activity_ = 0;
    bool client_eof_ = false;
    bool upstream_eof_ = false;
    bool finished_ = false;
};

}  // namespace sluice::proxy
