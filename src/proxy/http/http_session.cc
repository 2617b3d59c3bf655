#include "proxy/http/http_session.h"

#include <cstdio>

#include "base/log.h"
#include "http/serializer.h"
#include "loop/uv_types.h"
#include "metrics/generation_stats.h"
#include "proxy/client_admission.h"
#include "proxy/http/access_log.h"
#include "proxy/http/http_session_park.h"
#include "proxy/http2/http2_connection.h"

namespace sluice::proxy {
namespace {

http::RequestLimits limitsOf(const config::ListenerConfig& listener) {
    http::RequestLimits limits;
    limits.max_header_bytes = listener.max_header_bytes;
    limits.max_headers = listener.max_headers;
    limits.max_body_bytes = listener.max_body_bytes;
    return limits;
}

}  // namespace

void HttpSession::start(ProxyContext& ctx, net::TcpConnection* client, size_t listener,
                        bool redirect) {
    metrics::connectionOpened(ctx.current()->snapshot->stats.get(), listener);
    auto* session = new HttpSession(ctx, client, listener, redirect);
    // Behind a PROXY header the client's address is known once the header is in.
    if (!session->listener_->accept_proxy_protocol &&
        !admitClient(ctx, *session->snap_, listener, *client, session->lease_)) {
        session->finish();
    }
}

void HttpSession::onProxyHeader(net::TcpConnection&) {
    if (!admitClient(ctx_, *snap_, listener_index_, *client_, lease_)) finish();
}

HttpSession::HttpSession(ProxyContext& ctx, net::TcpConnection* client, size_t listener,
                         bool redirect)
    : ctx_(ctx),
      snap_(ctx.current()),
      listener_index_(listener),
      listener_(&snap_->snapshot->config->listeners[listener]),
      client_(client),
      redirect_(redirect),
      client_timer_(ctx.timers(), &HttpSession::onClientTimer, this) {
    ctx_.add(*this);
    client_->setHandler(this);
    // Behind an L4 balancer: its PROXY header comes first, before TLS (timed by client_timer_).
    if (listener_->accept_proxy_protocol) client_->expectProxyHeader();
    if (!redirect_) {
        if (const auto& tls = snap_->snapshot->listener_tls[listener])
            client_->startServerTls(*tls);
    }
    client_->startReading();
    // The first request head (and, on a TLS listener, the handshake before it) must arrive
    // within client_header_timeout of the accept.
    client_timer_.start(static_cast<uint64_t>(listener_->client_header_timeout.count()));
}

HttpSession::~HttpSession() { releaseParts(); }

HttpSessionParts& HttpSession::parts() {
    if (!parts_) {
        parts_ = ctx_.sessionParts().take(static_cast<http::RequestHandler&>(*this),
                                          limitsOf(*listener_));
    }
    return *parts_;
}

void HttpSession::releaseParts() {
    if (parts_) ctx_.sessionParts().give(std::move(parts_));
}

// ---------------------------------------------------------------------------------------------
// Connection events

void HttpSession::onData(net::TcpConnection& conn, std::string_view bytes) {
    if (finished_) return;
    if (state_ == State::kTunnel) {
        net::TcpConnection& other = &conn == client_ ? *tunnel_ : *client_;
        if (!other.write(bytes)) return finish();
        if (other.pendingBytes() > kHighWater) conn.stopReading();
        return;
    }
    onClientData(bytes);
}

void HttpSession::onEof(net::TcpConnection& conn) {
    if (finished_) return;
    if (state_ == State::kTunnel) {
        if (&conn == client_) return tunnel_->shutdownWrite();
        client_->shutdownWrite();
        if (client_->pendingBytes() == 0)
            finish();
        else
            state_ = State::kClosing;
        return;
    }
    if (requestInFlight()) return exchange_->abortForClient();
    if (state_ == State::kHead && parts_ && parts_->parser.inHead()) {
        LOG_DEBUG("client %s closed mid-request", client_->peerAddress().c_str());
    }
    finish();
}

void HttpSession::onError(net::TcpConnection& conn, int uv_error) {
    if (finished_) return;
    if (&conn == client_) {
        LOG_DEBUG("client %s: %s", client_->peerAddress().c_str(),
                  conn.tlsError().empty() ? loop::errorText(uv_error)
                                          : ("TLS: " + conn.tlsError()).c_str());
        if (requestInFlight()) return exchange_->abortForClient();
    }
    finish();
}

void HttpSession::onDrain(net::TcpConnection& conn) {
    if (finished_) return;
    if (state_ == State::kClosing) return finish();
    if (state_ == State::kTunnel) {
        // One side caught up: the other side's bytes may flow again.
        (&conn == client_ ? tunnel_ : client_)->startReading();
        return;
    }
    // The client caught up: the exchange relays the upstream's bytes again.
    if (exchange_ && state_ == State::kExchange) {
        if (!exchange_->acceptsBody()) client_timer_.stop();
        exchange_->downstreamWritable();
    }
}

// ---------------------------------------------------------------------------------------------
// Client side

void HttpSession::newExchange() {
    if (snap_ != ctx_.current() && requests_on_connection_ > 0) {
        // Keep-alive clients move to the newest configuration at their next request.
        snap_ = ctx_.current();
        listener_ = &snap_->snapshot->config->listeners[listener_index_];
    }
    exchange_ = std::make_unique<Exchange>(
        ctx_, snap_, listener_index_, static_cast<Downstream&>(*this), parser().head(), ctx_.now());
}

void HttpSession::retireExchange() {
    if (exchange_) ctx_.deleteLater(exchange_.release());
}

bool HttpSession::takeHttp2(std::string_view bytes) {
    std::string_view first = bytes;
    if (hasClientIn()) {
        parts_->client_in.append(bytes);
        first = parts_->client_in;
    }
    const Http2Connection::Choice choice = Http2Connection::choose(*listener_, *client_, first);
    if (choice == Http2Connection::Choice::kUndecided) {
        if (!hasClientIn()) parts().client_in.assign(bytes);
        return true;
    }
    protocol_known_ = true;
    if (choice == Http2Connection::Choice::kHttp1) {
        if (!hasClientIn()) return false;  // `bytes` are parsed as usual
        std::string held;
        held.swap(parts_->client_in);
        onClientData(held);
        return true;
    }
    // The connection (its socket, address slot and accounting) is the HTTP/2 session's now;
    // `first` stays valid until this session is deleted (retire() defers it).
    finished_ = true;
    client_timer_.stop();
    Http2Connection::start(ctx_, snap_, listener_index_, std::exchange(client_, nullptr),
                           std::move(lease_), first);
    ctx_.retire(*this);
    return true;
}

void HttpSession::onClientData(std::string_view bytes) {
    if (!protocol_known_ && !redirect_ && takeHttp2(bytes)) return;
    if (state_ == State::kIdle) {
        state_ = State::kHead;
        newExchange();
        client_timer_.start(static_cast<uint64_t>(listener_->client_header_timeout.count()));
    } else if (exchange_ && exchange_->acceptsBody()) {
        // Body bytes: client_body_timeout is the longest gap between reads.
        client_timer_.start(static_cast<uint64_t>(listener_->client_body_timeout.count()));
    }
    HttpSessionParts& p = parts();
    if (!p.client_in.empty() || buffersClientBytes()) {
        // The parser is paused: keep the bytes (bounded: reads stop until it resumes).
        p.client_in.append(bytes);
        client_->stopReading();
        return;
    }
    ++feed_depth_;
    const http::FeedResult result = p.parser.feed(bytes);
    --feed_depth_;
    handleRequestFeed(result, bytes);
}

bool HttpSession::buffersClientBytes() const {
    return state_ == State::kClosing ||
           (state_ == State::kExchange && exchange_ && !exchange_->acceptsBody());
}

bool HttpSession::requestInFlight() const {
    return state_ == State::kExchange && exchange_ && exchange_->started();
}

void HttpSession::resumeRequest() {
    parser().resume();
    pumpClient(/*always_feed=*/true);
}

void HttpSession::resumeRequestBody() {
    // Inside onRequestHead the parser just continues when start() says so.
    if (finished_ || in_head_callback_) return;
    resumeRequest();
}

void HttpSession::pumpClient(bool always_feed) {
    if (finished_) return;
    if (hasClientIn() || always_feed) {
        // Feeding even zero bytes lets a parser paused right after a head reach the end of a
        // bodiless request.
        std::string pending;
        pending.swap(parts().client_in);
        ++feed_depth_;
        const http::FeedResult result = parser().feed(pending);
        --feed_depth_;
        handleRequestFeed(result, pending);
        if (finished_) return;
        // Keep the buffer's capacity unless the feed left new bytes behind.
        if (parts_->client_in.empty()) parts_->client_in.swap(pending), parts_->client_in.clear();
    }
    if (!hasClientIn() && !buffersClientBytes() && state_ != State::kTunnel) {
        if (state_ == State::kExchange && !client_->reading()) {
            // Reading resumes after our own pause: the client's body clock restarts.
            client_timer_.start(static_cast<uint64_t>(listener_->client_body_timeout.count()));
        }
        client_->startReading();
    }
}

void HttpSession::handleRequestFeed(const http::FeedResult& result, std::string_view input) {
    if (finished_ || state_ == State::kClosing) return;
    switch (result.kind) {
        case http::FeedResult::kOk:
            return;
        case http::FeedResult::kPaused:
            parts_->client_in.assign(input.substr(result.consumed));
            // A complete request waiting for its response: reading on costs nothing (anything
            // that arrives is kept by onClientData, which stops reading then), and stopping
            // now and starting after the response costs two epoll_ctl calls per request.
            if (!parts_->client_in.empty() || !buffersClientBytes()) client_->stopReading();
            return;
        case http::FeedResult::kUpgraded:
            parts_->client_in.assign(input.substr(result.consumed));
            client_->stopReading();
            return;
        case http::FeedResult::kError:
            LOG_DEBUG("client %s: bad request: %d %s", client_->peerAddress().c_str(),
                      result.status, result.reason);
            if (!exchange_) newExchange();
            // Nothing of this request went upstream (the exchange drops a half-sent attempt).
            exchange_->respondLocal(result.status, rejectionTermination(result.status));
            return;
    }
}

http::Action HttpSession::onRequestHead(http::RequestHead& head) {
    ++requests_on_connection_;
    ctx_.counters().requests.fetch_add(1, std::memory_order_relaxed);
    if (!exchange_) newExchange();
    state_ = State::kExchange;
    // The head is in; a body must now keep coming (client_body_timeout between reads).
    if (head.framing != http::BodyFraming::kNone) {
        client_timer_.start(static_cast<uint64_t>(listener_->client_body_timeout.count()));
    } else {
        client_timer_.stop();
    }
    client_keep_alive_ = head.keep_alive && !draining_ && !ctx_.draining();
    if (redirect_) {
        respondRedirect(head);
        return http::Action::kPause;
    }
    in_head_callback_ = true;
    const bool body_now = exchange_->start(/*end_of_request=*/false);
    in_head_callback_ = false;
    // Body bytes wait in client_in_ until an upstream connection is ready.
    return body_now ? http::Action::kContinue : http::Action::kPause;
}

http::Action HttpSession::onRequestBody(std::string_view decoded) {
    if (!exchange_ || !exchange_->acceptsBody()) return http::Action::kPause;
    if (exchange_->requestBody(decoded)) return http::Action::kContinue;
    // The upstream is full (it resumes us on its drain), or the exchange moved on.
    if (exchange_ && exchange_->acceptsBody()) client_->stopReading();
    return http::Action::kPause;
}

void HttpSession::onRequestComplete() {
    client_timer_.stop();
    if (exchange_) exchange_->requestEnd(&parts().parser.trailers());
}

void HttpSession::onClientTimer(void* self) { static_cast<HttpSession*>(self)->clientTimeout(); }

void HttpSession::clientTimeout() {
    if (client_->awaitingProxyHeader()) return finish();  // no PROXY header: forward nothing
    switch (state_) {
        case State::kIdle:
            if (idle_grace_) {
                // The keep-alive grace passed: park, or wait out the rest of idle_timeout.
                idle_grace_ = false;
                if (park()) return;
                client_timer_.start(static_cast<uint64_t>(listener_->idle_timeout.count()) -
                                    kParkGraceMs);
                return;
            }
            // Keep-alive (or first request) wait expired: close quietly, like nginx.
            return finish();
        case State::kHead:
            exchange_->respondLocal(408, "client_header_timeout");
            return;
        case State::kExchange:
            if (exchange_ && exchange_->acceptsBody()) {
                // 408; after the response head: logged, and the client reset (kCut).
                exchange_->respondLocal(408, "client_body_timeout");
            } else if (exchange_ && exchange_->responseStarted()) {
                // The client took no byte of its response for idle_timeout: logged, reset.
                exchange_->respondLocal(408, "client_timeout");
            }
            return;
        default:
            return;
    }
}

void HttpSession::startNextRequest() {
    state_ = State::kIdle;
    startIdleTimer();
    if (hasClientIn()) {
        parts_->parser.resume();
        // Pipelined bytes already arrived: they start the next request now.
        state_ = State::kHead;
        newExchange();
        client_timer_.start(static_cast<uint64_t>(listener_->client_header_timeout.count()));
    } else if (feed_depth_ == 0) {
        // Nothing pipelined: the idle connection gives its parser and buffers back (the next
        // request gets a fresh parser, which is what this one is between messages). Not while
        // the parser is still on the stack (an exchange that ended inside a parser callback).
        releaseParts();
    }
    pumpClient(false);
}

// ---------------------------------------------------------------------------------------------
// Downstream: the response through this connection

SendResult HttpSession::sendInterim(const http::ResponseHead& head) {
    bool ok;
    if (head.status == 100) {
        ok = client_->write("HTTP/1.1 100 Continue\r\n\r\n");
    } else {
        std::string& scratch = parts().scratch;
        scratch.clear();
        http::serializeResponseHead(head, http::BodyFraming::kNone, /*keep_alive=*/true,
                                    /*client_minor=*/1, {}, scratch);
        ok = client_->write(scratch);
    }
    return ok ? SendResult::kOk : SendResult::kGone;
}

SendResult HttpSession::sendResponseHead(const http::ResponseHead& head, std::string_view extra,
                                         bool request_complete) {
    const int client_minor = parser().head().version_minor;
    response_framing_ = head.framing;
    if (head.framing == http::BodyFraming::kChunked && client_minor == 0) {
        response_framing_ = http::BodyFraming::kUntilClose;  // HTTP/1.0 has no chunked coding
    }
    if (head.status == 101) {
        response_framing_ = http::BodyFraming::kNone;
        client_keep_alive_ = true;  // the connection becomes the tunnel
    } else if (response_framing_ == http::BodyFraming::kUntilClose || !request_complete) {
        // A response that ends with the connection, or arrives before the request finished
        // (the rest of the request body would be unread): the client connection ends here.
        client_keep_alive_ = false;
    }
    if (draining_ || ctx_.draining()) client_keep_alive_ = false;
    std::string& response_head = parts().response_head;
    response_head.clear();
    http::serializeResponseHead(head, response_framing_, client_keep_alive_, client_minor, extra,
                                response_head);
    // Written with the first body bytes (one send for small responses), or at flushResponse().
    response_head_pending_ = true;
    return SendResult::kOk;
}

SendResult HttpSession::sendResponseBody(std::string_view data) {
    const std::string_view head = takeResponseHead();
    bool ok;
    if (data.empty()) {
        ok = head.empty() || client_->write(head);
    } else if (response_framing_ == http::BodyFraming::kChunked) {
        char size_line[24];
        const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
        ok =
            client_->write(head, std::string_view(size_line, static_cast<size_t>(n)), data, "\r\n");
    } else {
        ok = client_->write(head, data);
    }
    if (!ok) return SendResult::kGone;
    if (client_->pendingBytes() <= kHighWater) return SendResult::kOk;
    // The client holds up its response: it must take bytes within idle_timeout (nginx's
    // send_timeout) unless its request body is still arriving (client_body_timeout runs).
    if (!exchange_->acceptsBody()) {
        client_timer_.start(static_cast<uint64_t>(listener_->idle_timeout.count()));
    }
    return SendResult::kFull;
}

SendResult HttpSession::endResponse(const http::HeaderList* trailers) {
    const std::string_view head = takeResponseHead();
    bool ok = true;
    if (response_framing_ == http::BodyFraming::kChunked) {
        if (trailers == nullptr || trailers->empty()) {
            ok = client_->write(head, "0\r\n\r\n");
        } else {
            std::string last_chunk;
            http::serializeLastChunk(trailers, last_chunk);
            ok = client_->write(head, last_chunk);
        }
    } else if (!head.empty()) {
        ok = client_->write(head);
    }
    return ok ? SendResult::kOk : SendResult::kGone;
}

SendResult HttpSession::flushResponse() {
    const std::string_view head = takeResponseHead();
    if (!head.empty() && !client_->write(head)) return SendResult::kGone;
    return SendResult::kOk;
}

std::string_view HttpSession::takeResponseHead() {
    if (!response_head_pending_) return {};
    response_head_pending_ = false;
    return parts_->response_head;
}

uint64_t HttpSession::sendLocalResponse(int status, std::string_view extra) {
    state_ = State::kClosing;
    client_timer_.stop();
    std::string& scratch = parts().scratch;
    scratch.clear();
    const uint64_t bytes = http::serializeErrorResponse(status, /*close=*/true, extra, scratch);
    write_failed_ = !client_->write(scratch);
    return bytes;
}

void HttpSession::takeTunnel(net::TcpConnection* upstream, std::string_view rest) {
    tunnel_ = upstream;
    tunnel_->setHandler(this);
    state_ = State::kTunnel;
    client_timer_.stop();
    write_failed_ = false;
    if (!rest.empty() && !client_->write(rest)) write_failed_ = true;
    if (hasClientIn()) {
        if (!tunnel_->write(parts_->client_in)) write_failed_ = true;
        parts_->client_in.clear();
    }
    client_->startReading();
    tunnel_->startReading();
}

void HttpSession::onExchangeEnd(ExchangeEnd end) {
    retireExchange();
    switch (end) {
        case ExchangeEnd::kComplete:
            if (!client_keep_alive_) return closeAfterFlush();
            return startNextRequest();
        case ExchangeEnd::kLocal:
            if (write_failed_) return finish();  // the client is gone
            return closeAfterFlush();
        case ExchangeEnd::kCut:
            // Part of the response went out: a reset makes the truncation visible.
            if (client_) client_->reset();
            client_ = nullptr;
            return finish();
        case ExchangeEnd::kClientGone:
            return finish();
        case ExchangeEnd::kUpgraded:
            if (write_failed_) return finish();
            return;
    }
}

// ---------------------------------------------------------------------------------------------
// Local responses and the end of the session

// redirect_http: 301 to the same host and target over https on the TLS listener's port.
void HttpSession::respondRedirect(const http::RequestHead& head) {
    std::string_view host = head.host();
    const size_t bracket = host.rfind(']');
    const size_t colon = host.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
        host = host.substr(0, colon);
    }
    std::string_view target = head.target;
    if (target.empty() || target[0] != '/') {
        // absolute-form: keep the path and query; asterisk-form (OPTIONS *): the root.
        const size_t scheme = target.find("://");
        const size_t path = scheme == std::string_view::npos ? std::string_view::npos
                                                             : target.find('/', scheme + 3);
        target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
    }
    std::string location = "Location: https://";
    location.append(host);
    if (listener_->bind.port != 443)
        location.append(":").append(std::to_string(listener_->bind.port));
    location.append(target).append("\r\n");
    exchange_->respondLocal(301, "redirect", location);
}

void HttpSession::closeAfterFlush() {
    state_ = State::kClosing;
    client_->stopReading();
    client_timer_.stop();
    if (client_->pendingBytes() == 0) return finish();
    // onDrain finishes; a client that never reads is cut off after idle_timeout.
    client_timer_.start(static_cast<uint64_t>(listener_->idle_timeout.count()));
}

void HttpSession::drain() {
    draining_ = true;
    if (state_ == State::kIdle) finish();
}

void HttpSession::abort() { finish(); }

void HttpSession::finish() {
    if (finished_) return;
    finished_ = true;
    client_timer_.stop();
    if (exchange_) {
        exchange_->cancel();  // closes its upstream connection, leaves the queue
        retireExchange();
    }
    if (tunnel_) tunnel_->destroy();
    tunnel_ = nullptr;
    metrics::connectionClosed(snap_->snapshot->stats.get(), listener_index_,
                              client_ ? client_->bytesRead() : 0,
                              client_ ? client_->bytesWritten() : 0);
    if (client_) client_->destroy();
    client_ = nullptr;
    lease_.release();    // the address's slot frees with the connection
    ctx_.retire(*this);  // deleted once the loop is back in control
}

}  // namespace sluice::proxy
