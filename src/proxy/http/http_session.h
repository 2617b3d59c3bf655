#pragma once
// L7 proxy session: one HTTP/1.1 client connection, requests one at a time (pipelined ones
// answered in order). It is the downstream of one Exchange per request (proxy/exchange/), which
// routes it to a pool, sends it to a server chosen by the pool's balancer over a pooled or new
// upstream connection and relays the response back through this connection's framing.
//
// Contract:
// - Bodies stream both ways, never fully buffered: a side's reads pause while the other side has
//   more than kHighWater bytes queued, so memory per session stays bounded.
// - A request that fails validation gets its 4xx with Connection: close; none of its bytes (nor
//   anything pipelined after it) reach an upstream.
// - Upstream connect failures move on to the next server (up to the pool's `retries`); no server
//   available: 503 with Retry-After; upstream failure before a response: 502; no response head
//   within response_timeout: 504. A failure after response bytes were sent resets the client
//   connection so a truncated response never looks complete; so does a response body silent
//   for response_timeout (reads we hold back while the client is slow to take bytes are not
//   the upstream's silence). Both count as the server's failures.
// - An upstream connection goes back to the worker's pool only after a complete, reusable
//   response to a completely sent request.
// - A client that goes away (EOF, even a half-close, or an error) while its request is in
//   flight aborts the exchange at once: the upstream connection is closed, never pooled; the
//   access log says 499 (or the status already sent) with termination client_abort, and
//   ProcessCounters::client_aborts counts it. Only a WebSocket tunnel relays a half-close.
// Retires itself (ProxyContext::retire: deleted once the loop is back in control) when the
// client connection ends; after finish() no callback reaches it.
// Memory: between requests (keep-alive, or before the first byte) a session holds no parser, no
// header storage and no buffer (HttpSessionParts, borrowed from the worker while a request is
// arriving or in flight) and no timer handle of its own (a QueuedTimer on the worker's
// TimerQueue). A keep-alive connection idle for kParkGraceMs parks (http_session_park.h): the
// session and its TcpConnection are freed until the client's next bytes.

#include <memory>
#include <optional>
#include <string>

#include "http/request_parser.h"
#include "loop/timer_queue.h"
#include "net/tcp_connection.h"
#include "proxy/exchange/downstream.h"
#include "proxy/exchange/exchange.h"
#include "proxy/http/http_session_parts.h"
#include "proxy/proxy_context.h"

namespace sluice::proxy {

class HttpSession final : public Session,
                          private Downstream,
                          private net::ConnectionHandler,
                          private http::RequestHandler {
  public:
    // Takes ownership of `client`; `listener` indexes the current snapshot's listeners.
    // With `redirect`, the connection came in on the listener's tls.redirect_http address:
    // every valid request gets a 301 to its https URL.
    static void start(ProxyContext& ctx, net::TcpConnection* client, size_t listener,
                      bool redirect = false);

    // A parked connection's session again (http_session_park.h), on bytes, EOF or an error
    // on its socket: `client` comes from TcpConnection::unpark; the snapshot, lease, listener
    // and redirect flag are the original session's; the connection counts already. It reads
    // at once and closes quietly after `idle_left_ms` without a request.
    static void resume(ProxyContext& ctx, net::TcpConnection* client,
                       std::shared_ptr<WorkerSnapshot> snap, edge::ConnectionLimiter::Lease lease,
                       size_t listener, bool redirect, uint64_t idle_left_ms);

    void drain() override;
    void abort() override;

  private:
    enum class State {
        kIdle,      // keep-alive: waiting for the next request (no exchange)
        kHead,      // request head arriving (its exchange made, not started)
        kExchange,  // the exchange has the request: upstream wait, body up, response down
        kTunnel,    // after 101 Switching Protocols: bytes both ways (tunnel_)
        kClosing,   // final bytes flushing to the client
    };

    HttpSession(ProxyContext& ctx, net::TcpConnection* client, size_t listener, bool redirect);
    HttpSession(ProxyContext& ctx, net::TcpConnection* client, std::shared_ptr<WorkerSnapshot> snap,
                edge::ConnectionLimiter::Lease lease, size_t listener, bool redirect,
                uint64_t idle_left_ms);
    ~HttpSession() override;

    // net::ConnectionHandler: the client, and the upstream once it is a tunnel
    void onData(net::TcpConnection& conn, std::string_view bytes) override;
    void onEof(net::TcpConnection& conn) override;
    void onError(net::TcpConnection& conn, int uv_error) override;
    void onDrain(net::TcpConnection& conn) override;
    void onProxyHeader(net::TcpConnection& conn) override;

    // http::RequestHandler
    http::Action onRequestHead(http::RequestHead& head) override;
    http::Action onRequestBody(std::string_view decoded) override;
    void onRequestComplete() override;

    // Downstream: the exchange's view of this connection
    const net::TcpConnection& client() const override { return *client_; }
    void resumeRequestBody() override;
    SendResult sendInterim(const http::ResponseHead& head) override;
    SendResult sendResponseHead(const http::ResponseHead& head, std::string_view extra,
                                bool request_complete) override;
    SendResult sendResponseBody(std::string_view data) override;
    SendResult endResponse(const http::HeaderList* trailers) override;
    SendResult flushResponse() override;
    uint64_t sendLocalResponse(int status, std::string_view extra) override;
    bool canTunnel() const override { return true; }
    void takeTunnel(net::TcpConnection* upstream, std::string_view rest) override;
    void onExchangeEnd(ExchangeEnd end) override;

    // client side
    void onClientData(std::string_view bytes);
    // On the connection's first bytes: true when they are HTTP/2's (ALPN h2, or the h2c
    // preface), and the connection went to an Http2Connection (this session is over), or may
    // be (a prefix of the preface: held in the parts' client_in until more arrives).
    bool takeHttp2(std::string_view bytes);
    // Feed saved client bytes to the parser (while it is not paused), then read more.
    void pumpClient(bool always_feed);
    void resumeRequest();  // resume a paused request parser and pump
    void handleRequestFeed(const http::FeedResult& result, std::string_view input);
    static void onClientTimer(void* self);
    void clientTimeout();
    // Whether client bytes arriving now are kept for later (the parser waits for a response or
    // an upstream) rather than parsed.
    bool buffersClientBytes() const;
    // A request was parsed and its exchange has not ended (waiting, streaming, relaying).
    bool requestInFlight() const;
    void newExchange();     // for the request whose first byte is here
    void retireExchange();  // to the worker's delete queue (it may be on the stack)
    void startNextRequest();
    // Keep-alive wait: idle_timeout, or first kParkGraceMs (idle_grace_) when the connection
    // may park after it (http_session_park.cc).
    void startIdleTimer();
    // The grace passed: hands the connection to the worker's ParkedHttpSessions and ends this
    // session (true), or false when it cannot park now (it stays as it is).
    bool park();

    void respondRedirect(const http::RequestHead& head);
    void closeAfterFlush();
    void finish();
    // The response head not yet written (empty when it was), for coalescing with body bytes.
    std::string_view takeResponseHead();
    // The borrowed parts, taken from the worker's pool when missing; releaseParts() gives them
    // back (between requests, once nothing pipelined waits in them).
    HttpSessionParts& parts();
    void releaseParts();
    http::RequestParser& parser() { return parts().parser; }
    // Client bytes kept for the parser (none without parts).
    bool hasClientIn() const { return parts_ && !parts_->client_in.empty(); }

    ProxyContext& ctx_;
    std::shared_ptr<WorkerSnapshot> snap_;
    edge::ConnectionLimiter::Lease lease_;  // max_connections_per_ip slot (after snap_)
    size_t listener_index_;
    const config::ListenerConfig* listener_;
    net::TcpConnection* client_;
    net::TcpConnection* tunnel_ = nullptr;  // the upstream after a 101
    bool redirect_;                         // tls.redirect_http connection
    loop::QueuedTimer client_timer_;        // header, body, idle timeouts
    State state_ = State::kIdle;
    std::unique_ptr<Exchange> exchange_;       // the current request's (none between requests)
    std::unique_ptr<HttpSessionParts> parts_;  // while a request is arriving or in flight
    http::BodyFraming response_framing_ = http::BodyFraming::kNone;
    bool response_head_pending_ = false;  // response_head_ is not written yet
    bool client_keep_alive_ = true;       // the connection stays open after this response
    bool write_failed_ = false;           // a local response's write failed: no flush to wait for
    bool in_head_callback_ = false;       // inside onRequestHead: the request parser is running
    unsigned feed_depth_ = 0;             // RequestParser::feed calls running (parts stay)
    bool draining_ = false;
    bool finished_ = false;
    bool protocol_known_ = false;  // HTTP/1.x or HTTP/2 decided (takeHttp2)
    bool idle_grace_ = false;      // the idle timer runs for kParkGraceMs (startIdleTimer)
    unsigned requests_on_connection_ = 0;
};

}  // namespace sluice::proxy
