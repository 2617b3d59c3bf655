#include "proxy/http2/http2_stream.h"

#include <cstring>

#include "http/serializer.h"
#include "proxy/http2/http2_connection.h"

namespace sluice::proxy {

Http2Stream::Http2Stream(Http2Connection& connection, int32_t id, http::RequestHead&& head)
    : connection_(connection),
      id_(id),
      head_(std::move(head)),
      body_timer_(connection.context().timers(), &Http2Stream::onBodyTimer, this) {}

Http2Stream::~Http2Stream() = default;

bool Http2Stream::start(std::shared_ptr<WorkerSnapshot> snapshot, size_t listener,
                        bool end_stream) {
    ProxyContext& ctx = connection_.context();
    body_timeout_ms_ = static_cast<uint64_t>(
        snapshot->snapshot->config->listeners[listener].client_body_timeout.count());
    send_timeout_ms_ =
        static_cast<uint64_t>(snapshot->snapshot->config->listeners[listener].idle_timeout.count());
    ctx.counters().requests.fetch_add(1, std::memory_order_relaxed);
    exchange_ = std::make_unique<Exchange>(ctx, std::move(snapshot), listener,
                                           static_cast<Downstream&>(*this), head_, ctx.now());
    request_ended_ = end_stream;
    end_delivered_ = end_stream;
    const bool body_now = exchange_->start(end_stream);
    if (exchange_done_) {
        // Answered here, inside onRequest(): the session discards the rest of the request.
        stream_done_ = true;
        return false;
    }
    body_paused_ = !body_now;
    watchBody(false);
    return true;
}

void Http2Stream::cancel() {
    body_timer_.stop();
    if (exchangeLive()) {
        exchange_->cancel();
        exchange_done_ = true;
        connection_.context().deleteLater(exchange_.release());
    }
    stream_done_ = true;
}

// ---------------------------------------------------------------------------------------------
// The request, from the session

void Http2Stream::onRequestData(std::string_view data) {
    if (!exchangeLive()) {
        // The exchange is over (answered, or the response already complete): the rest of the
        // request is not wanted, but the window must not stay shut on it.
        connection_.session().consumed(id_, data.size());
        return;
    }
    held_.append(data);
    deliverBody();
    watchBody(true);
}

void Http2Stream::onRequestTrailers(const http::HeaderList& trailers) { trailers_ = trailers; }

void Http2Stream::onRequestEnd() {
    request_ended_ = true;
    deliverBody();
    watchBody(false);
}

void Http2Stream::resumeRequestBody() {
    body_paused_ = false;
    deliverBody();
    watchBody(false);
    connection_.flushSoon();  // WINDOW_UPDATEs for what the exchange took
}

void Http2Stream::deliverBody() {
    if (!held_.empty() && exchangeLive() && !body_paused_ && exchange_->acceptsBody()) {
        std::string bytes;
        bytes.swap(held_);
        // requestBody() takes all of them whatever it returns; false: hold what comes next.
        const bool more = exchange_->requestBody(bytes);
        connection_.session().consumed(id_, bytes.size());
        body_paused_ = !more;
        if (held_.empty()) {
            bytes.clear();
            held_.swap(bytes);  // keep the capacity
        }
    }
    if (request_ended_ && !end_delivered_ && held_.empty() && exchangeLive()) {
        end_delivered_ = true;
        exchange_->requestEnd(&trailers_);
    }
}

// ---------------------------------------------------------------------------------------------
// The response, from the exchange

const net::TcpConnection& Http2Stream::client() const { return connection_.client(); }

SendResult Http2Stream::sendInterim(const http::ResponseHead& head) {
    if (stream_done_) return SendResult::kGone;
    connection_.session().submitInformational(id_, head);
    connection_.flushSoon();
    return SendResult::kOk;
}

const http::HeaderList* Http2Stream::extraFields(std::string_view lines) {
    if (lines.empty()) return nullptr;
    extra_.clear();
    while (!lines.empty()) {
        const size_t eol = lines.find("\r\n");
        const std::string_view line = lines.substr(0, eol);
        lines.remove_prefix(eol == std::string_view::npos ? lines.size() : eol + 2);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        extra_.add(line.substr(0, colon), value);
    }
    return &extra_;
}

SendResult Http2Stream::sendResponseHead(const http::ResponseHead& head, std::string_view extra,
                                         bool request_complete) {
    (void)request_complete;  // HTTP/2: the session ends an unfinished request with NO_ERROR
    if (stream_done_) return SendResult::kGone;
    // No body will follow (HEAD, 204, 304): END_STREAM on the HEADERS frame itself.
    const bool end_stream = head.framing == http::BodyFraming::kNone;
    if (!connection_.session().submitResponse(id_, head, end_stream, extraFields(extra))) {
        return SendResult::kGone;
    }
    response_ended_ = end_stream;
    connection_.flushSoon();
    return SendResult::kOk;
}

SendResult Http2Stream::sendResponseBody(std::string_view data) {
    if (stream_done_) return SendResult::kGone;
    if (response_ended_) return SendResult::kOk;  // a body where none may be: dropped
    const http2::WriteStatus status = connection_.session().writeBody(id_, data);
    connection_.flushSoon();
    switch (status) {
        case http2::WriteStatus::kWritable:
            return SendResult::kOk;
        case http2::WriteStatus::kFull:
            if (!send_blocked_) {
                send_blocked_ = true;
                watchBody(false);
            }
            return SendResult::kFull;
        case http2::WriteStatus::kClosed:
            break;
    }
    return SendResult::kGone;
}

SendResult Http2Stream::endResponse(const http::HeaderList* trailers) {
    if (stream_done_) return SendResult::kGone;
    if (!response_ended_) {
        response_ended_ = true;
        if (!connection_.session().endResponse(id_, trailers)) return SendResult::kGone;
    }
    connection_.flushSoon();
    return SendResult::kOk;
}

SendResult Http2Stream::flushResponse() {
    if (stream_done_) return SendResult::kGone;
    connection_.flushSoon();
    return SendResult::kOk;
}

uint64_t Http2Stream::sendLocalResponse(int status, std::string_view extra) {
    if (stream_done_) return 0;
    response_ended_ = true;
    connection_.session().sendErrorResponse(id_, status, extraFields(extra));
    connection_.flushSoon();
    // The body http2::ServerSession sends: "<status> <reason>\n".
    return std::to_string(status).size() + 2 + http::reasonPhrase(status).size();
}

void Http2Stream::reset(http2::ErrorCode code) {
    if (stream_done_) return;
    stream_done_ = true;  // a stream reset from here gets no onClose()
    connection_.session().resetStream(id_, code);
    connection_.flushSoon();
}

bool Http2Stream::waitingForBody() const {
    return exchangeLive() && !request_ended_ && !body_paused_ && held_.empty();
}

void Http2Stream::watchBody(bool bytes_came) {
    if (waitingForBody()) {
        if (bytes_came || !body_timer_.active()) body_timer_.start(body_timeout_ms_);
    } else if (send_blocked_ && exchangeLive()) {
        if (!body_timer_.active()) body_timer_.start(send_timeout_ms_);
    } else {
        body_timer_.stop();
    }
}

void Http2Stream::onBodyTimer(void* self) {
    Http2Stream& s = *static_cast<Http2Stream*>(self);
    if (!s.exchangeLive()) return;
    // 408, or (the response already started) the stream is reset as a cut response is.
    s.exchange_->respondLocal(408, s.waitingForBody() ? "client_body_timeout" : "client_timeout");
}

void Http2Stream::onExchangeEnd(ExchangeEnd end) {
    body_timer_.stop();
    exchange_done_ = true;
    connection_.context().deleteLater(exchange_.release());
    switch (end) {
        case ExchangeEnd::kComplete:
        case ExchangeEnd::kLocal:
            // The stream ends when its END_STREAM goes out (onClose(kCompleted)). Request bytes
            // never delivered are not wanted any more: their window reopens.
            if (!held_.empty()) {
                connection_.session().consumed(id_, held_.size());
                held_.clear();
            }
            break;
        case ExchangeEnd::kCut:
            reset(http2::ErrorCode::kInternalError);
            break;
        case ExchangeEnd::kClientGone:
        case ExchangeEnd::kUpgraded:  // never: canTunnel() is false
            reset(http2::ErrorCode::kCancel);
            break;
    }
    connection_.streamChanged(*this);
}

// ---------------------------------------------------------------------------------------------
// The session stream's events

void Http2Stream::onResponseWritable() {
    if (send_blocked_) {
        send_blocked_ = false;
        watchBody(false);
    }
    if (exchangeLive()) exchange_->downstreamWritable();
}

void Http2Stream::onClose(http2::StreamEnd end) {
    stream_done_ = true;
    body_timer_.stop();
    if (exchangeLive()) {
        if (end.reason == http2::CloseReason::kCompleted) {
            // The whole response went out before the exchange noticed: nothing to tell.
            cancel();
        } else {
            exchange_->abortForClient();  // 499, client_abort; onExchangeEnd(kClientGone)
        }
    }
    connection_.streamChanged(*this);
}

}  // namespace sluice::proxy
