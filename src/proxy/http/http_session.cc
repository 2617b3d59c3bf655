#include "proxy/http/http_session.h"

#include <cinttypes>
#include <cstdio>
#include <random>

#include "base/log.h"
#include "http/serializer.h"
#include "metrics/generation_stats.h"
#include "proxy/client_admission.h"
#include "proxy/edge/trusted_networks.h"
#include "proxy/http/access_log.h"

namespace sluice::proxy {
namespace {

// 16 hex digits, unique per process with overwhelming probability, no allocation.
void makeRequestId(std::string& out) {
    thread_local uint64_t state = std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32);
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, z);
    out.assign(buf, 16);
}

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
      connector_(ctx.loop(), ctx.connectionPool(), *this),
      request_parser_(*this, limitsOf(*listener_)),
      response_parser_(*this),
      client_timer_(ctx.loop(), [this] { onClientTimer(); }),
      upstream_timer_(ctx.loop(), [this] { onUpstreamTimer(); }) {
    ctx_.add(*this);
    client_->setHandler(this);
    connector_.setClient(client_);
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

HttpSession::~HttpSession() = default;

// ---------------------------------------------------------------------------------------------
// Connection events

void HttpSession::onData(net::TcpConnection& conn, std::string_view bytes) {
    if (finished_) return;
    if (&conn == client_) {
        if (state_ == State::kTunnel) {
            if (!upstream_->conn().write(bytes)) return finish();
            if (upstream_->conn().pendingBytes() > kHighWater) client_->stopReading();
            return;
        }
        onClientData(bytes);
    } else {
        if (state_ == State::kTunnel) {
            if (!client_->write(bytes)) return finish();
            if (client_->pendingBytes() > kHighWater) upstream_->conn().stopReading();
            return;
        }
        onUpstreamData(bytes);
    }
}

void HttpSession::onEof(net::TcpConnection& conn) {
    if (finished_) return;
    if (&conn == client_) {
        if (state_ == State::kTunnel) {
            upstream_->conn().shutdownWrite();
            return;
        }
        if (requestInFlight()) return abortForClient();
        if (state_ == State::kHead && request_parser_.inHead()) {
            LOG_DEBUG("client %s closed mid-request", client_->peerAddress().c_str());
        }
        return finish();
    }
    // Upstream EOF
    if (state_ == State::kTunnel) {
        client_->shutdownWrite();
        if (client_->pendingBytes() == 0)
            finish();
        else
            state_ = State::kClosing;
        return;
    }
    http::FeedResult result = response_parser_.finish();
    if (result.kind != http::FeedResult::kError && exchange_->response_complete) {
        // The close ended an until-close body: a complete response, not a reusable connection.
        releaseUpstream(false);
        return finishExchange();
    }
    onUpstreamFailure(AttemptFailure::kBroken, "upstream closed the connection");
}

void HttpSession::onError(net::TcpConnection& conn, int uv_error) {
    if (finished_) return;
    const std::string why =
        conn.tlsError().empty() ? std::string(uv_strerror(uv_error)) : "TLS: " + conn.tlsError();
    if (&conn == client_) {
        LOG_DEBUG("client %s: %s", client_->peerAddress().c_str(), why.c_str());
        if (requestInFlight()) return abortForClient();
        return finish();
    }
    if (state_ == State::kTunnel) return finish();
    onUpstreamFailure(AttemptFailure::kBroken, why.c_str());
}

void HttpSession::onDrain(net::TcpConnection& conn) {
    if (finished_) return;
    if (&conn == client_) {
        if (state_ == State::kClosing) return finish();
        // Client caught up: let the upstream's bytes flow again.
        if (upstream_ && state_ == State::kTunnel) upstream_->conn().startReading();
        if (upstream_ && state_ == State::kExchange) resumeUpstream();
    } else {
        // Upstream caught up: resume the request body.
        if (state_ == State::kTunnel) {
            client_->startReading();
        } else if (state_ == State::kExchange && !exchange_->request_complete) {
            resumeRequest();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Client side

void HttpSession::onClientData(std::string_view bytes) {
    if (state_ == State::kIdle) {
        state_ = State::kHead;
        exchange_.emplace(ctx_.now(), request_id_);
        client_timer_.start(static_cast<uint64_t>(listener_->client_header_timeout.count()));
    } else if (state_ == State::kExchange && !exchange_->request_complete) {
        // Body bytes: client_body_timeout is the longest gap between reads.
        client_timer_.start(static_cast<uint64_t>(listener_->client_body_timeout.count()));
    }
    if (!client_in_.empty() || buffersClientBytes()) {
        // The parser is paused: keep the bytes (bounded: reads stop until it resumes).
        client_in_.append(bytes);
        client_->stopReading();
        return;
    }
    handleRequestFeed(request_parser_.feed(bytes), bytes);
}

bool HttpSession::buffersClientBytes() const {
    return state_ == State::kQueued || state_ == State::kConnecting || state_ == State::kClosing ||
           (state_ == State::kExchange && exchange_->request_complete);
}

void HttpSession::resumeRequest() {
    request_parser_.resume();
    pumpClient(/*always_feed=*/true);
}

void HttpSession::pumpClient(bool always_feed) {
    if (finished_) return;
    if (!client_in_.empty() || always_feed) {
        // Feeding even zero bytes lets a parser paused right after a head reach the end of a
        // bodiless request.
        std::string pending;
        pending.swap(client_in_);
        handleRequestFeed(request_parser_.feed(pending), pending);
        if (client_in_.empty()) client_in_.swap(pending), client_in_.clear();
        if (finished_) return;
    }
    if (client_in_.empty() && state_ != State::kQueued && state_ != State::kConnecting &&
        state_ != State::kClosing && !(state_ == State::kExchange && exchange_->request_complete)) {
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
            client_in_.assign(input.substr(result.consumed));
            // A complete request waiting for its response: reading on costs nothing (anything
            // that arrives is kept by onClientData, which stops reading then), and stopping
            // now and starting after the response costs two epoll_ctl calls per request.
            if (!client_in_.empty() || !buffersClientBytes()) client_->stopReading();
            return;
        case http::FeedResult::kUpgraded:
            client_in_.assign(input.substr(result.consumed));
            client_->stopReading();
            return;
        case http::FeedResult::kError:
            LOG_DEBUG("client %s: bad request: %d %s", client_->peerAddress().c_str(),
                      result.status, result.reason);
            if (exchange_->response_started) return finish();
            // Nothing of this request went upstream; drop a half-sent exchange, if any.
            releaseUpstream(false);
            connector_.cancel();
            respondError(result.status, rejectionTermination(result.status));
            return;
    }
}

http::Action HttpSession::onRequestHead(http::RequestHead& head) {
    if (snap_ != ctx_.current() && requests_on_connection_ > 0) {
        // Keep-alive clients move to the newest configuration at their next request.
        snap_ = ctx_.current();
        listener_ = &snap_->snapshot->config->listeners[listener_index_];
    }
    ++requests_on_connection_;
    ctx_.counters().requests.fetch_add(1, std::memory_order_relaxed);
    if (!exchange_) exchange_.emplace(ctx_.now(), request_id_);
    // The head is in; a body must now keep coming (client_body_timeout between reads).
    if (head.framing != http::BodyFraming::kNone) {
        client_timer_.start(static_cast<uint64_t>(listener_->client_body_timeout.count()));
    } else {
        client_timer_.stop();
    }
    exchange_->client_keep_alive = head.keep_alive && !draining_ && !ctx_.draining();
    exchange_->request_framing = head.framing;
    if (redirect_) {
        respondRedirect(head);
        return http::Action::kPause;
    }

    // Before routing: a refused request counts for the listener, never for a pool.
    if (const uint32_t retry_after =
            checkRateLimits(ctx_, *snap_, listener_index_, *client_, head)) {
        respondError(429, "rate_limited", retry_after);
        return http::Action::kPause;
    }

    const int pool = snap_->routers[listener_index_]->route(head.host(), head.target);
    if (pool < 0) {
        respondError(404, "no_route");
        return http::Action::kPause;
    }
    exchange_->selector = snap_->selectors[static_cast<size_t>(pool)].get();

    // Request id: kept when the client sent one, generated otherwise.
    if (!listener_->request_id_header.empty()) {
        size_t at = head.headers.find(listener_->request_id_header);
        if (at != http::HeaderList::npos) {
            exchange_->request_id.assign(head.headers.value(at));
        } else {
            makeRequestId(exchange_->request_id);
        }
    }
    http::ForwardInfo info;
    info.client_ip = client_->peerAddress();
    info.tls = client_->tls() != nullptr;
    info.trusted_client = edge::inNetworks(listener_->trusted_proxies, client_->peerSockaddr());
    info.forwarded_headers = listener_->forwarded_headers;
    info.request_id_header = listener_->request_id_header;
    info.request_id = exchange_->request_id;
    head_out_.clear();
    http::serializeRequestHead(head, head.framing, /*keep_alive=*/!head.upgrade, info, head_out_);
    response_parser_.setRequestMethod(head.method);

    in_head_callback_ = true;
    startUpstream();
    in_head_callback_ = false;
    // Body bytes wait in client_in_ until an upstream connection is ready.
    return state_ == State::kExchange ? http::Action::kContinue : http::Action::kPause;
}

http::Action HttpSession::onRequestBody(std::string_view decoded) {
    if (!upstream_ || state_ != State::kExchange) return http::Action::kPause;
    exchange_->body_started = true;
    if (!writeBody(upstream_->conn(), exchange_->request_framing, decoded)) {
        onUpstreamFailure(AttemptFailure::kBroken, "write failed");
        return http::Action::kPause;
    }
    if (upstream_ && upstream_->conn().pendingBytes() > kHighWater) {
        client_->stopReading();
        return http::Action::kPause;
    }
    return http::Action::kContinue;
}

void HttpSession::onRequestComplete() {
    exchange_->request_complete = true;
    client_timer_.stop();
    if (upstream_ && exchange_->request_framing == http::BodyFraming::kChunked &&
        !upstream_->conn().write("0\r\n\r\n")) {
        return onUpstreamFailure(AttemptFailure::kBroken, "write failed");
    }
    restartResponseTimer();  // for the response head, or the next body bytes
}

void HttpSession::onClientTimer() {
    if (client_->awaitingProxyHeader()) return finish();  // no PROXY header: forward nothing
    switch (state_) {
        case State::kIdle:
            // Keep-alive (or first request) wait expired: close quietly, like nginx.
            return finish();
        case State::kHead:
            respondError(408, "client_header_timeout");
            return;
        case State::kExchange:
            if (!exchange_->request_complete) {
                if (exchange_->response_started) return finish();
                releaseUpstream(false);
                connector_.cancel();
                respondError(408, "client_body_timeout");
            }
            return;
        default:
            return;
    }
}

bool HttpSession::requestInFlight() const {
    return state_ == State::kQueued || state_ == State::kConnecting || state_ == State::kExchange;
}

// Like nginx without proxy_ignore_client_abort: a client that sends FIN (or errors) before its
// response is complete has gone, whether it closed or only half-closed. Waiting for a response
// nobody reads would hold the upstream connection and both descriptors until response_timeout;
// finish() closes the upstream connection instead of pooling it (its response is unread).
void HttpSession::abortForClient() {
    LOG_DEBUG("client %s went away before its response was complete",
              client_->peerAddress().c_str());
    ctx_.counters().client_aborts.fetch_add(1, std::memory_order_relaxed);
    if (!exchange_->response_started) exchange_->status = 499;  // nginx's "client closed request"
    logAccess("client_abort");
    finish();
}

void HttpSession::appendRequestIdHeader() {
    if (exchange_->request_id.empty()) return;
    extra_.append(listener_->request_id_header)
        .append(": ")
        .append(exchange_->request_id)
        .append("\r\n");
}

void HttpSession::clientGone() {
    if (requestInFlight()) return abortForClient();
    finish();
}

void HttpSession::startNextRequest() {
    state_ = State::kIdle;
    exchange_.reset();
    client_timer_.start(static_cast<uint64_t>(listener_->idle_timeout.count()));
    request_parser_.resume();
    if (!client_in_.empty()) {
        // Pipelined bytes already arrived: they start the next request now.
        state_ = State::kHead;
        exchange_.emplace(ctx_.now(), request_id_);
        client_timer_.start(static_cast<uint64_t>(listener_->client_header_timeout.count()));
    }
    pumpClient(false);
}

// ---------------------------------------------------------------------------------------------
// Local responses and the end of the session

void HttpSession::respondError(int status, const char* termination, uint32_t retry_after_s) {
    if (!exchange_) exchange_.emplace(ctx_.now(), request_id_);
    exchange_->status = status;
    state_ = State::kClosing;
    client_timer_.stop();
    upstream_timer_.stop();
    extra_.clear();
    if (status == 503) extra_ = "Retry-After: 1\r\n";
    if (retry_after_s > 0)
        extra_.append("Retry-After: ").append(std::to_string(retry_after_s)).append("\r\n");
    appendRequestIdHeader();
    scratch_.clear();
    exchange_->bytes_sent = http::serializeErrorResponse(status, /*close=*/true, extra_, scratch_);
    const bool sent = client_->write(scratch_);
    if (status >= 500) {
        LOG_INFO("%s -> %d (%s)", client_->peerAddress().c_str(), status, termination);
    }
    logAccess(termination);
    if (!sent) return finish();  // the client is gone
    closeAfterFlush();
}

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
    extra_.assign("Location: https://").append(host);
    if (listener_->bind.port != 443)
        extra_.append(":").append(std::to_string(listener_->bind.port));
    extra_.append(target).append("\r\n");
    if (!exchange_) exchange_.emplace(ctx_.now(), request_id_);
    exchange_->status = 301;
    state_ = State::kClosing;
    client_timer_.stop();
    scratch_.clear();
    exchange_->bytes_sent = http::serializeErrorResponse(301, /*close=*/true, extra_, scratch_);
    const bool sent = client_->write(scratch_);
    logAccess("redirect");
    if (!sent) return finish();  // the client is gone
    closeAfterFlush();
}

void HttpSession::closeAfterFlush() {
    state_ = State::kClosing;
    client_->stopReading();
    client_timer_.stop();
    if (client_->pendingBytes() == 0) return finish();
    // onDrain finishes; a client that never reads is cut off after idle_timeout.
    client_timer_.start(static_cast<uint64_t>(listener_->idle_timeout.count()));
}

void HttpSession::logAccess(const char* termination) {
    if (!exchange_) return;
    const upstream::Server* answered_by = connector_.server();
    metrics::recordExchange(
        snap_->snapshot->stats.get(),
        {listener_index_,
         exchange_->selector ? std::string_view(exchange_->selector->pool().name())
                             : std::string_view(),
         answered_by ? connector_.serverIndex() : -1, exchange_->status,
         ctx_.now() - exchange_->request_start_ms});
    if (!accessLog().enabled()) return;
    const http::RequestHead& head = request_parser_.head();
    AccessRecord record;
    record.client = client_ ? std::string_view(client_->peerAddress()) : std::string_view("-");
    record.method = head.method;
    record.target = head.target;
    record.version_minor = head.version_minor;
    record.status = exchange_->status;
    record.bytes_sent = exchange_->bytes_sent;
    size_t at = head.headers.find("Referer");
    if (at != http::HeaderList::npos) record.referer = head.headers.value(at);
    at = head.headers.find("User-Agent");
    if (at != http::HeaderList::npos) record.user_agent = head.headers.value(at);
    record.host = head.host();
    const upstream::Server* server = connector_.server();
    record.upstream = server ? std::string_view(server->config.name) : std::string_view("-");
    record.pool = exchange_->selector ? std::string_view(exchange_->selector->pool().name())
                                      : std::string_view("-");
    record.connect_ms = exchange_->connect_ms;
    record.first_byte_ms = exchange_->first_byte_ms;
    record.total_ms = static_cast<int64_t>(ctx_.now() - exchange_->request_start_ms);
    record.request_id = exchange_->request_id;
    record.termination = termination;
    if (const tls::TlsStream* tls = client_ ? client_->tls() : nullptr) {
        record.tls_version = tls->version();
        record.sni = tls->serverName();
    }
    accessLog().write(record, scratch_);
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
    upstream_timer_.stop();
    if (upstream_) {
        upstream_.reset();  // closes it
    }
    connector_.cancel();
    metrics::connectionClosed(snap_->snapshot->stats.get(), listener_index_,
                              client_ ? client_->bytesRead() : 0,
                              client_ ? client_->bytesWritten() : 0);
    if (client_) client_->destroy();
    client_ = nullptr;
    lease_.release();    // the address's slot frees with the connection
    ctx_.retire(*this);  // deleted once the loop is back in control
}

}  // namespace sluice::proxy
