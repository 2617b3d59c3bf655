#pragma once
// One request exchange (Envoy: a router filter's upstream request plus its retry state), from
// the validated request head to the end of its response, whatever protocol the client speaks:
// a downstream (downstream.h) feeds it the request and carries its response. It owns
// - routing: rate limits, the listener's router, the request id, forwarding headers and the
//   serialized HTTP/1.1 request head (kept for a retry on another server);
// - the upstream: the UpstreamConnector (pick, queue, connect or borrow, passive health), one
//   UpstreamRequest per attempt and the response parser;
// - the one retry-or-fail decision after a failed attempt (UpstreamConnector::decide);
// - the response relay with backpressure both ways, response_timeout, and the access log line
//   and metrics of the request.
//
// Contract:
// - Created by the downstream when a request starts (HTTP/1.1: its first byte, so timeouts
//   before the head still log with the right start time); start() once the head is valid.
//   Every path ends in exactly one Downstream::onExchangeEnd(), after which the downstream
//   retires it (ProxyContext::retire: deleted once the loop is back in control, so the
//   exchange may still return through its own frames) and never calls it again. A downstream
//   that ends first calls cancel() (silent: the upstream connection is closed, never pooled,
//   nothing is logged; abortForClient() first to log), then retires it.
// - Request bytes reach an upstream only after start() routed the request; nothing of a
//   request the exchange answered itself ever does.
// - An upstream connection goes back to the worker's pool only after a complete, reusable
//   response to a completely sent request (and never one that began with a PROXY header).
// - Failures before the response head: retried within the pool's retries and the retry budget
//   when nothing of the body went upstream (or answered 502/503/504). After the head went out:
//   ExchangeEnd::kCut. No response head within response_timeout (or a body silent for it while
//   the client takes bytes): 504 / kCut.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"
#include "proxy/exchange/downstream.h"
#include "proxy/exchange/exchange_parts.h"
#include "proxy/http/upstream_request.h"
#include "proxy/proxy_context.h"
#include "proxy/upstream_connector.h"

namespace sluice::proxy {

class Exchange final : private UpstreamConnector::Owner,
                       private ExchangeParts::Owner,
                       private net::ConnectionHandler,
                       private http::ResponseHandler {
  public:
    // Exchanges come and go with every request: their memory is recycled on the thread that
    // frees it (a worker's loop thread; a few blocks kept at most) instead of a malloc and a
    // free per request.
    static void* operator new(size_t size);
    static void operator delete(void* block, size_t size);

    // `snapshot`: the configuration the request is served with; `listener` indexes its
    // listeners. `head`: the downstream's request head, filled in as the request arrives and
    // unchanged from start() on, valid for the exchange's life. `start_ms`: the loop time the
    // request began (its first byte).
    Exchange(ProxyContext& ctx, std::shared_ptr<WorkerSnapshot> snapshot, size_t listener,
             Downstream& downstream, const http::RequestHead& head, uint64_t start_ms);
    ~Exchange() override;
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    // The head is parsed and valid. `end_of_request`: no body follows (requestEnd() is not
    // needed). Charges the rate limits, routes, and asks for an upstream. Returns true when
    // body bytes may be delivered now; false: hold them until Downstream::resumeRequestBody()
    // (or the exchange already ended: a local answer, e.g. 404 no_route, 429, 503).
    bool start(bool end_of_request);
    // Decoded request body bytes, only while acceptsBody(): all of them are taken. False: hold
    // further bytes until resumeRequestBody() (the upstream is full, or the attempt failed and
    // the exchange moved on or ended).
    bool requestBody(std::string_view data);
    // The whole request has arrived. `trailers` (null or empty: none): its trailer section, as
    // received; sent on when the upstream request is chunked (http::serializeLastChunk says
    // which fields), dropped when it has a Content-Length (HTTP/1.1 cannot carry them then).
    void requestEnd(const http::HeaderList* trailers = nullptr);
    // The downstream can take response bytes again (after a kFull).
    void downstreamWritable();

    // A response made here, without (or instead of) an upstream: 400/408/413/431 from the
    // downstream's checks, redirect_http's 301 (`extra`: its Location line). Any upstream work
    // stops first. Logged with `termination`, then onExchangeEnd(kLocal); when a response head
    // already went out, nothing more can be said: logged with `termination` and the status
    // sent, then onExchangeEnd(kCut).
    void respondLocal(int status, const char* termination, std::string_view extra = {});
    // The client went away before the response was complete: 499 (or the status already
    // sent), termination client_abort, ProcessCounters::client_aborts; the upstream connection
    // is closed. Then onExchangeEnd(kClientGone).
    void abortForClient();
    // Stops everything without a word (no log, no downstream call): for a downstream that ends
    // under a live exchange (its connection closed, a shutdown). The exchange is inert after.
    void cancel();

    bool started() const { return started_; }                   // start() was called
    bool ended() const { return ended_; }                       // onExchangeEnd() happened
    bool attached() const { return upstream_.has_value(); }     // holds an upstream connection
    bool acceptsBody() const;                                   // requestBody() may be called
    bool requestComplete() const { return request_complete_; }  // requestEnd() (or end_of_request)
    bool responseStarted() const { return response_started_; }  // a response head went out
    int status() const { return status_; }
    const std::string& requestId() const { return parts_->request_id; }

  private:
    // UpstreamConnector::Owner
    void onUpstreamReady(net::TcpConnection* conn, bool reused) override;
    void onUpstreamUnavailable(int status, const char* termination) override;
    // ExchangeParts::Owner: response_timeout
    void onResponseTimeout() override;
    // net::ConnectionHandler: the attached upstream connection
    void onData(net::TcpConnection& conn, std::string_view bytes) override;
    void onEof(net::TcpConnection& conn) override;
    void onError(net::TcpConnection& conn, int uv_error) override;
    void onDrain(net::TcpConnection& conn) override;
    // http::ResponseHandler
    void onInterimResponse(const http::ResponseHead& head) override;
    http::Action onResponseHead(http::ResponseHead& head) override;
    http::Action onResponseBody(std::string_view decoded) override;
    void onResponseComplete() override;

    // Asks the connector for a server: ends attached, waiting (queue, connect), or answered.
    // `retry`: a step of the connector's retry decision instead of a new request.
    void startUpstream(const NextStep* retry = nullptr);
    void attachUpstream(net::TcpConnection* conn, bool reused);
    // An attempt on the attached connection failed: the connector decides retry or fail.
    void onUpstreamFailure(AttemptFailure failure, const char* what);
    void restartResponseTimer();
    void resumeUpstream();
    void handleResponseFeed(const http::FeedResult& result, std::string_view input);
    void finishExchange();  // the response is complete
    // Ends the attempt: the connection is pooled (`reusable`) or closed; the parser is made
    // ready for a response on another connection (only outside parser callbacks) unless
    // `another_attempt` is false (the exchange is ending).
    void releaseUpstream(bool reusable, bool another_attempt = true);
    void dropUpstream();  // closes the attempt's connection (also inside parser callbacks)
    // A send's result: false when the exchange cannot go on (kGone: aborted for the client).
    bool sent(SendResult result);
    // "<request_id_header>: <id>\r\n" when the request has an id.
    void appendRequestIdLine(std::string& lines) const;
    void logAccess(const char* termination);
    void end(ExchangeEnd how);  // the last act of every path

    ProxyContext& ctx_;
    std::shared_ptr<WorkerSnapshot> snap_;
    size_t listener_index_;
    const config::ListenerConfig* listener_;
    Downstream& downstream_;
    const http::RequestHead& head_;
    std::unique_ptr<ExchangeParts> parts_;     // the worker's; given back by the destructor
    std::optional<UpstreamRequest> upstream_;  // the current attempt's
    UpstreamConnector connector_;
    upstream::ServerSelector* selector_ = nullptr;  // the routed pool's (null: not routed)
    std::string_view hash_key_;  // what consistent-hash pools hash on (the head's or the client's)
    NextStep retry_step_;        // retry_5xx decided in onResponseHead; acted on after the feed

    bool started_ = false;
    bool ended_ = false;
    bool in_start_ = false;           // inside start(): the downstream delivers the body itself
    bool request_complete_ = false;   // whole request read from the client
    bool body_started_ = false;       // some body bytes went upstream (no replay possible)
    bool response_started_ = false;   // response head sent to the client
    bool continue_sent_ = false;      // a 100 Continue was relayed to the client
    bool response_complete_ = false;  // set by the parser; acted on once feed() returns
    bool retry_response_ = false;     // retry_5xx decided in onResponseHead
    bool upgrade_refused_ = false;    // a 101 for a downstream that cannot tunnel
    bool held_ = false;               // upstream reads held back for the downstream (kFull)
    int status_ = 0;                  // answered (0: nothing yet)
    uint64_t bytes_sent_ = 0;
    uint64_t start_ms_;
    int64_t connect_ms_ = -1;
    int64_t first_byte_ms_ = -1;
};

}  // namespace sluice::proxy
