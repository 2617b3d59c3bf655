#pragma once
// L7 proxy session: one client connection, requests one at a time (pipelined ones answered in
// order), each routed to a pool, sent to a server chosen by the pool's balancer over a pooled or
// new upstream connection, the response relayed back.
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

#include <memory>
#include <optional>
#include <string>

#include "http/request_parser.h"
#include "http/response_parser.h"
#include "loop/deadline_timer.h"
#include "net/tcp_connection.h"
#include "proxy/http/exchange.h"
#include "proxy/http/upstream_request.h"
#include "proxy/proxy_context.h"
#include "proxy/upstream_connector.h"

namespace sluice::proxy {

class HttpSession final : public Session,
                          private UpstreamConnector::Owner,
                          private net::ConnectionHandler,
                          private http::RequestHandler,
                          private http::ResponseHandler {
  public:
    // Takes ownership of `client`; `listener` indexes the current snapshot's listeners.
    // With `redirect`, the connection came in on the listener's tls.redirect_http address:
    // every valid request gets a 301 to its https URL.
    static void start(ProxyContext& ctx, net::TcpConnection* client, size_t listener,
                      bool redirect = false);

    void drain() override;
    void abort() override;

  private:
    enum class State {
        kIdle,        // keep-alive: waiting for the next request
        kHead,        // request head arriving
        kQueued,      // head parsed, every available server at its cap: in the pool's queue
        kConnecting,  // head parsed, waiting for an upstream connection (the connector's)
        kExchange,    // request streaming up and/or response streaming down
        kTunnel,      // after 101 Switching Protocols: bytes both ways
        kClosing,     // final bytes flushing to the client
    };

    HttpSession(ProxyContext& ctx, net::TcpConnection* client, size_t listener, bool redirect);
    ~HttpSession() override;

    // net::ConnectionHandler (client and upstream side)
    void onData(net::TcpConnection& conn, std::string_view bytes) override;
    void onEof(net::TcpConnection& conn) override;
    void onError(net::TcpConnection& conn, int uv_error) override;
    void onDrain(net::TcpConnection& conn) override;
    void onProxyHeader(net::TcpConnection& conn) override;

    // http::RequestHandler
    http::Action onRequestHead(http::RequestHead& head) override;
    http::Action onRequestBody(std::string_view decoded) override;
    void onRequestComplete() override;

    // http::ResponseHandler
    void onInterimResponse(const http::ResponseHead& head) override;
    http::Action onResponseHead(http::ResponseHead& head) override;
    http::Action onResponseBody(std::string_view decoded) override;
    void onResponseComplete() override;

    // client side
    void onClientData(std::string_view bytes);
    // Feed saved client bytes to the parser (while it is not paused), then read more.
    void pumpClient(bool always_feed);
    void resumeRequest();  // resume a paused request parser and pump
    void handleRequestFeed(const http::FeedResult& result, std::string_view input);
    void onClientTimer();
    // A request was parsed and its response is not complete (queued, connecting, exchanging).
    bool requestInFlight() const;
    void abortForClient();  // the client went away while requestInFlight()
    void clientGone();      // a write to the client failed: abortForClient() or finish()
    void startNextRequest();

    // upstream side (http_session_upstream.cc)
    // Asks the connector for a server: ends attached (kExchange), connecting, queued, or
    // answered with an error. `retry`: a step of the connector's retry decision instead of a
    // new request.
    void startUpstream(const NextStep* retry = nullptr);
    void onUpstreamReady(net::TcpConnection* conn, bool reused) override;
    void onUpstreamUnavailable(int status, const char* termination) override;
    void attachUpstream(net::TcpConnection* conn, bool reused);
    void onUpstreamData(std::string_view bytes);
    void resumeUpstream();
    void handleResponseFeed(const http::FeedResult& result, std::string_view input);
    // An attempt on an attached connection failed: the connector decides retry or fail.
    void onUpstreamFailure(AttemptFailure failure, const char* what);
    void onUpstreamTimer();
    void restartResponseTimer();
    void finishExchange();
    void releaseUpstream(bool reusable);

    // responses made here
    // Whether client bytes arriving now are kept for later (the parser waits for a response or
    // an upstream) rather than parsed.
    bool buffersClientBytes() const;
    // retry_after_s > 0 adds "Retry-After: N" (a 429 of a rate limit).
    void respondError(int status, const char* termination, uint32_t retry_after_s = 0);
    void appendRequestIdHeader();  // to extra_, when the request has an id
    void respondRedirect(const http::RequestHead& head);
    void closeAfterFlush();
    void finish();
    void logAccess(const char* termination);
    // False: `to` is broken (the caller ends the exchange or the session).
    [[nodiscard]] bool writeBody(net::TcpConnection& to, http::BodyFraming framing,
                                 std::string_view data, std::string_view prefix = {});
    // The response head not yet written (empty when it was), for coalescing with body bytes.
    std::string_view takeResponseHead();
    void flushResponseHead();

    ProxyContext& ctx_;
    std::shared_ptr<WorkerSnapshot> snap_;
    edge::ConnectionLimiter::Lease lease_;  // max_connections_per_ip slot (after snap_)
    size_t listener_index_;
    const config::ListenerConfig* listener_;
    net::TcpConnection* client_;
    bool redirect_;                            // tls.redirect_http connection
    std::optional<UpstreamRequest> upstream_;  // the current attempt's (connected or pooled)
    UpstreamConnector connector_;
    http::RequestParser request_parser_;
    http::ResponseParser response_parser_;
    loop::DeadlineTimer client_timer_;    // header, body, idle timeouts
    loop::DeadlineTimer upstream_timer_;  // response_timeout (head, body gaps)
    State state_ = State::kIdle;

    std::string client_in_;      // client bytes not yet parsed (parser paused)
    std::string upstream_in_;    // upstream bytes not yet parsed (client backpressure)
    std::string head_out_;       // serialized request head (kept for a retry on another server)
    std::string scratch_;        // response heads, error responses, log lines
    std::string extra_;          // extra response header lines (request id, Retry-After)
    std::string response_head_;  // serialized response head, sent with the first body bytes
    std::string request_id_;     // Exchange::request_id's storage
    std::optional<Exchange> exchange_;  // the current request's (none between requests)
    bool in_head_callback_ = false;     // inside onRequestHead: the request parser is running
    bool draining_ = false;
    bool finished_ = false;
    unsigned requests_on_connection_ = 0;
};

}  // namespace sluice::proxy
