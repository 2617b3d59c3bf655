#pragma once
// One HTTP/2 request stream as the downstream of its Exchange (proxy/exchange/downstream.h).
// Request DATA goes to Exchange::requestBody(); the stream's receive window reopens
// (ServerSession::consumed) only for bytes the exchange took, so a slow upstream stalls its own
// stream and no other. The exchange's response goes out as this stream's HEADERS and DATA
// frames; a response without a body (HEAD, 204, 304) is one HEADERS frame with END_STREAM.
//
// Contract:
// - Made by Http2Connection::onRequest() for a validated request; it owns the request head
//   (the exchange reads it for its life) and the exchange.
// - Two lives end independently: the exchange's (onExchangeEnd) and the session stream's
//   (onClose, or a reset sent from here). The connection deletes the stream (deferred) once
//   both are over; neither side is called after its end.
// - A session stream that ends first (RST_STREAM from the client, the connection gone) aborts a
//   live exchange for the client: 499 / client_abort, its upstream connection closed.
// - A response cut after its head (ExchangeEnd::kCut) resets the stream with INTERNAL_ERROR, so
//   the client sees the truncation; a client gone mid-send, with CANCEL.
// - Request trailers go to Exchange::requestEnd() (an upstream request without Content-Length
//   is chunked and carries them); response trailers go out as a trailing HEADERS frame.
// - client_body_timeout, per stream: while the exchange waits for request DATA that nothing
//   here holds back (the body is not paused, no held bytes), the longest gap between DATA
//   frames. On expiry the exchange answers 408 client_body_timeout (a stream whose response
//   already started is reset); the connection and its other streams go on. A response the
//   client takes no byte of (its window shut) for idle_timeout is reset (client_timeout).
// - Nothing here writes to the socket: sends submit frames and ask the connection for a flush
//   once the current batch of events is over (Http2Connection::flushSoon).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/header_list.h"
#include "http/message.h"
#include "http2/server_session.h"
#include "loop/timer_queue.h"
#include "proxy/exchange/downstream.h"
#include "proxy/exchange/exchange.h"

namespace sluice::proxy {

class Http2Connection;

class Http2Stream final : public Downstream, public http2::StreamHandler {
  public:
    // `head`: the request (moved in; Request::head is only valid during onRequest()).
    Http2Stream(Http2Connection& connection, int32_t id, http::RequestHead&& head);
    ~Http2Stream() override;
    Http2Stream(const Http2Stream&) = delete;
    Http2Stream& operator=(const Http2Stream&) = delete;

    // Makes the exchange and starts it with `snapshot` (the newest: streams after a reload use
    // the new config). `end_stream`: no body follows. Returns false when the exchange already
    // ended (answered here: 404, 429, 503...): the session wants no further events for it.
    bool start(std::shared_ptr<WorkerSnapshot> snapshot, size_t listener, bool end_stream);
    // The connection ends under the stream: the exchange stops without a word (no log).
    void cancel();
    // Both lives are over: the connection may delete it.
    bool finished() const { return exchange_done_ && stream_done_; }
    int32_t id() const { return id_; }

    // http2::StreamHandler
    void onRequestData(std::string_view data) override;
    void onRequestTrailers(const http::HeaderList& trailers) override;
    void onRequestEnd() override;
    void onResponseWritable() override;
    void onClose(http2::StreamEnd end) override;

    // Downstream
    const net::TcpConnection& client() const override;
    void resumeRequestBody() override;
    SendResult sendInterim(const http::ResponseHead& head) override;
    SendResult sendResponseHead(const http::ResponseHead& head, std::string_view extra,
                                bool request_complete) override;
    SendResult sendResponseBody(std::string_view data) override;
    SendResult endResponse(const http::HeaderList* trailers) override;
    SendResult flushResponse() override;
    uint64_t sendLocalResponse(int status, std::string_view extra) override;
    void onExchangeEnd(ExchangeEnd end) override;

  private:
    bool exchangeLive() const { return exchange_ && !exchange_done_; }
    // Held request bytes to the exchange while it takes them; then the request's end.
    void deliverBody();
    // "Name: value\r\n" lines (the exchange's extra header lines) as fields.
    const http::HeaderList* extraFields(std::string_view lines);
    void reset(http2::ErrorCode code);
    // The stream's one clock: client_body_timeout while the exchange waits for DATA nothing
    // here holds back (`bytes_came` restarts it), idle_timeout while the client's window holds
    // up the response (send_blocked_); stopped otherwise.
    void watchBody(bool bytes_came);
    bool waitingForBody() const;
    static void onBodyTimer(void* self);

    Http2Connection& connection_;
    int32_t id_;
    http::RequestHead head_;
    std::unique_ptr<Exchange> exchange_;
    std::string held_;              // request body bytes not taken yet (< the stream's window)
    http::HeaderList extra_;        // scratch for extraFields()
    http::HeaderList trailers_;     // the request's trailer section (onRequestTrailers)
    loop::QueuedTimer body_timer_;  // client_body_timeout
    uint64_t body_timeout_ms_ = 0;
    uint64_t send_timeout_ms_ = 0;  // idle_timeout
    bool send_blocked_ = false;     // the last send was kFull: onResponseWritable() not yet
    bool exchange_done_ = false;
    bool stream_done_ = false;     // onClose() came, or the stream was reset from here
    bool body_paused_ = false;     // the exchange takes no body bytes until resumeRequestBody()
    bool request_ended_ = false;   // the client's END_STREAM (onRequestEnd) arrived
    bool end_delivered_ = false;   // Exchange::requestEnd() was called
    bool response_ended_ = false;  // END_STREAM submitted (with the head, or after the body)
};

}  // namespace sluice::proxy
