#include "proxy/http/http_session.h"

#include <cinttypes>
#include <cstdio>
#include <random>

#include "base/log.h"
#include "http/serializer.h"
#include "proxy/http/access_log.h"

namespace sluice::proxy {
namespace {

// Pause reading a side when the other side has this much queued: bounded memory per session.
constexpr size_t kHighWater = 256 * 1024;

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
           method == "DELETE" || method == "TRACE";
}

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

void HttpSession::start(ProxyContext& ctx, net::TcpConnection* client, size_t listener) {
    new HttpSession(ctx, client, listener);
}

HttpSession::HttpSession(ProxyContext& ctx, net::TcpConnection* client, size_t listener)
    : ctx_(ctx),
      snap_(ctx.current()),
      listener_index_(listener),
      listener_(&snap_->snapshot->config->listeners[listener]),
      client_(client),
      request_parser_(*this, limitsOf(*listener_)),
      response_parser_(*this),
      client_timer_(ctx.loop(),
                    [this] {
                        Entry entry(*this);
                        onClientTimer();
                    }),
      upstream_timer_(ctx.loop(), [this] {
          Entry entry(*this);
          onUpstreamTimer();
      }) {
    ctx_.add(*this);
    client_->setHandler(this);
    client_->startReading();
    // The first request head must arrive within client_header_timeout of the accept.
    client_timer_.start(static_cast<uint64_t>(listener_->client_header_timeout.count()));
}

HttpSession::~HttpSession() { ctx_.remove(*this); }

// ---------------------------------------------------------------------------------------------
// Connection events

void HttpSession::onData(net::TcpConnection& conn, std::string_view bytes) {
    Entry entry(*this);
    if (finished_) return;
    if (&conn == client_) {
        if (state_ == State::kTunnel) {
            if (!upstream_->write(bytes)) return finish();
            if (upstream_->pendingBytes() > kHighWater) client_->stopReading();
            return;
        }
        onClientData(bytes);
    } else {
        if (state_ == State::kTunnel) {
            if (!client_->write(bytes)) return finish();
            if (client_->pendingBytes() > kHighWater) upstream_->stopReading();
            return;
        }
        onUpstreamData(bytes);
    }
}

void HttpSession::onEof(net::TcpConnection& conn) {
    Entry entry(*this);
    if (finished_) return;
    if (&conn == client_) {
        if (state_ == State::kTunnel) {
            upstream_->shutdownWrite();
            return;
        }
        // A client that half-closes after a complete request still gets its response.
        if (state_ == State::kExchange && request_complete_) {
            client_keep_alive_ = false;
            return;
        }
        if (state_ == State::kHead && request_parser_.inHead()) {
            LOG_DEBUG("client %s closed mid-request", client_->peerAddress().c_str());
        }
        return finish();
    }
    // Upstream EOF
    if (state_ == State::kTunnel) {
        client_->shutdownWrite();
        if (client_->pendingBytes() == 0) finish();
        else state_ = State::kClosing;
        return;
    }
    http::FeedResult result = response_parser_.finish();
    if (result.kind != http::FeedResult::kError && response_complete_) {
        // The close ended an until-close body: a complete response, not a reusable connection.
        releaseUpstream(false);
        return finishExchange();
    }
    onUpstreamFailure("upstream closed the connection", 502);
}

void HttpSession::onError(net::TcpConnection& conn, int uv_error) {
    Entry entry(*this);
    if (finished_) return;
    if (&conn == client_) {
        LOG_DEBUG("client %s: %s", client_->peerAddress().c_str(), uv_strerror(uv_error));
        return finish();
    }
    if (state_ == State::kTunnel) return finish();
    onUpstreamFailure(uv_strerror(uv_error), 502);
}

void HttpSession::onDrain(net::TcpConnection& conn) {
    Entry entry(*this);
    if (finished_) return;
    if (&conn == client_) {
        if (state_ == State::kClosing) return finish();
        // Client caught up: let the upstream's bytes flow again.
        if (upstream_ && state_ == State::kTunnel) upstream_->startReading();
        if (upstream_ && state_ == State::kExchange) resumeUpstream();
    } else {
        // Upstream caught up: resume the request body.
        if (state_ == State::kTunnel) {
            client_->startReading();
        } else if (state_ == State::kExchange && !request_complete_) {
            resumeRequest();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Client side

void HttpSession::onClientData(std::string_view bytes) {
    if (state_ == State::kIdle) {
        state_ = State::kHead;
        request_start_ms_ = ctx_.now();
        client_timer_.start(static_cast<uint64_t>(listener_->client_header_timeout.count()));
    } else if (state_ == State::kExchange && !request_complete_) {
        // Body bytes: client_body_timeout is the longest gap between reads.
        client_timer_.start(static_cast<uint64_t>(listener_->client_body_timeout.count()));
    }
    if (!client_in_.empty() || state_ == State::kConnecting || state_ == State::kClosing ||
        (state_ == State::kExchange && request_complete_)) {
        // The parser is paused: keep the bytes (bounded: reads stop until it resumes).
        client_in_.append(bytes);
        client_->stopReading();
        return;
    }
    handleRequestFeed(request_parser_.feed(bytes), bytes);
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
    if (client_in_.empty() && state_ != State::kConnecting && state_ != State::kClosing &&
        !(state_ == State::kExchange && request_complete_)) {
        client_->startReading();
    }
}

void HttpSession::handleRequestFeed(const http::FeedResult& result, std::string_view input) {
    if (finished_ || state_ == State::kClosing) return;
    switch (result.kind) {
        case http::FeedResult::kOk:
            return;
        case http::FeedResult::kPaused:
        case http::FeedResult::kUpgraded:
            client_in_.assign(input.substr(result.consumed));
            client_->stopReading();
            return;
        case http::FeedResult::kError:
            LOG_DEBUG("client %s: bad request: %d %s", client_->peerAddress().c_str(),
                      result.status, result.reason);
            if (response_started_) return finish();
            // Nothing of this request went upstream; drop a half-sent exchange, if any.
            releaseUpstream(false);
            releaseServer();
            respondError(result.status, result.reason);
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
    if (request_start_ms_ == 0) request_start_ms_ = ctx_.now();
    client_timer_.stop();
    client_keep_alive_ = head.keep_alive && !draining_ && !ctx_.draining();
    request_framing_ = head.framing;

    int pool = snap_->routers[listener_index_]->route(head.host(), head.target);
    if (pool < 0) {
        respondError(404, "no_route");
        return http::Action::kPause;
    }
    selector_ = snap_->selectors[static_cast<size_t>(pool)].get();

    // Request id: kept when the client sent one, generated otherwise.
    request_id_.clear();
    if (!listener_->request_id_header.empty()) {
        size_t at = head.headers.find(listener_->request_id_header);
        if (at != http::HeaderList::npos) {
            request_id_.assign(head.headers.value(at));
        } else {
            makeRequestId(request_id_);
        }
    }
    http::ForwardInfo info;
    info.client_ip = client_->peerAddress();
    info.tls = false;
    info.forwarded_headers = listener_->forwarded_headers;
    info.request_id_header = listener_->request_id_header;
    info.request_id = request_id_;
    head_out_.clear();
    http::serializeRequestHead(head, head.framing, /*keep_alive=*/!head.upgrade, info, head_out_);
    response_parser_.setRequestMethod(head.method);

    tried_.clear();
    attempts_ = 0;
    if (!pickServer()) {
        respondError(503, "no_server");
        return http::Action::kPause;
    }
    state_ = State::kConnecting;
    net::TcpConnection* pooled =
        head.upgrade ? nullptr : ctx_.connectionPool().take(server_->state.get());
    if (pooled) {
        attachUpstream(pooled, true);
        return http::Action::kContinue;
    }
    connectUpstream();
    // Body bytes wait in client_in_ until the upstream connection is ready.
    return state_ == State::kExchange ? http::Action::kContinue : http::Action::kPause;
}

http::Action HttpSession::onRequestBody(std::string_view decoded) {
    if (!upstream_ || state_ != State::kExchange) return http::Action::kPause;
    body_started_ = true;
    writeBody(*upstream_, request_framing_, decoded);
    if (upstream_ && upstream_->pendingBytes() > kHighWater) {
        client_->stopReading();
        return http::Action::kPause;
    }
    return http::Action::kContinue;
}

void HttpSession::onRequestComplete() {
    request_complete_ = true;
    client_timer_.stop();
    if (upstream_ && request_framing_ == http::BodyFraming::kChunked) {
        upstream_->write("0\r\n\r\n");
    }
    if (upstream_ && !response_started_) {
        upstream_timer_.start(static_cast<uint64_t>(selector_->pool().config.response_timeout.count()));
    }
}

void HttpSession::onClientTimer() {
    switch (state_) {
        case State::kIdle:
            // Keep-alive (or first request) wait expired: close quietly, like nginx.
            return finish();
        case State::kHead:
            respondError(408, "client_header_timeout");
            return;
        case State::kExchange:
            if (!request_complete_) {
                if (response_started_) return finish();
                releaseUpstream(false);
                releaseServer();
                respondError(408, "client_body_timeout");
            }
            return;
        default:
            return;
    }
}

void HttpSession::startNextRequest() {
    state_ = State::kIdle;
    request_complete_ = false;
    body_started_ = false;
    response_started_ = false;
    response_complete_ = false;
    upstream_reused_ = false;
    status_ = 0;
    bytes_sent_ = 0;
    request_start_ms_ = 0;
    connect_ms_ = -1;
    first_byte_ms_ = -1;
    selector_ = nullptr;
    client_timer_.start(static_cast<uint64_t>(listener_->idle_timeout.count()));
    request_parser_.resume();
    if (!client_in_.empty()) {
        // Pipelined bytes already arrived: they start the next request now.
        state_ = State::kHead;
        request_start_ms_ = ctx_.now();
        client_timer_.start(static_cast<uint64_t>(listener_->client_header_timeout.count()));
    }
    pumpClient(false);
}

// ---------------------------------------------------------------------------------------------
// Upstream side

bool HttpSession::pickServer() {
    const auto& pool = selector_->pool();
    if (attempts_ > pool.config.retries) return false;
    int index = selector_->select(tried_, client_->peerAddress(), ctx_.now());
    if (index < 0) return false;
    ++attempts_;
    tried_.add(static_cast<size_t>(index));
    server_ = &pool.servers[static_cast<size_t>(index)];
    server_->state->active.fetch_add(1, std::memory_order_relaxed);
    server_->state->requests.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void HttpSession::connectUpstream() {
    connect_start_ms_ = ctx_.now();
    net::TcpConnection* conn = net::TcpConnection::connect(
        ctx_.loop(), reinterpret_cast<const sockaddr*>(&server_->config.address.sockaddr), this);
    if (!conn) {
        onUpstreamFailure("connect failed", 502);
        return;
    }
    upstream_ = conn;
    upstream_reused_ = false;
    upstream_timer_.start(static_cast<uint64_t>(selector_->pool().config.connect_timeout.count()));
}

void HttpSession::onConnected(net::TcpConnection&) {
    Entry entry(*this);
    if (finished_) return;
    upstream_timer_.stop();
    connect_ms_ = static_cast<int64_t>(ctx_.now() - connect_start_ms_);
    attachUpstream(upstream_, false);
    resumeRequest();
}

void HttpSession::attachUpstream(net::TcpConnection* conn, bool reused) {
    upstream_ = conn;
    upstream_reused_ = reused;
    upstream_->setHandler(this);
    upstream_->startReading();
    state_ = State::kExchange;
    sendRequestHead();
    if (request_complete_) {
        upstream_timer_.start(
            static_cast<uint64_t>(selector_->pool().config.response_timeout.count()));
    }
}

void HttpSession::sendRequestHead() { upstream_->write(head_out_); }

void HttpSession::onUpstreamData(std::string_view bytes) {
    if (!upstream_in_.empty() || state_ != State::kExchange) {
        // Paused for client backpressure (or bytes after a response): keep them for later.
        upstream_in_.append(bytes);
        upstream_->stopReading();
        return;
    }
    handleResponseFeed(response_parser_.feed(bytes), bytes);
}

void HttpSession::resumeUpstream() {
    response_parser_.resume();
    if (!upstream_in_.empty()) {
        std::string pending;
        pending.swap(upstream_in_);
        handleResponseFeed(response_parser_.feed(pending), pending);
        if (upstream_in_.empty()) upstream_in_.swap(pending), upstream_in_.clear();
    }
    if (upstream_ && upstream_in_.empty() && state_ == State::kExchange) upstream_->startReading();
}

void HttpSession::handleResponseFeed(const http::FeedResult& result, std::string_view input) {
    if (finished_) return;
    switch (result.kind) {
        case http::FeedResult::kOk:
            return;
        case http::FeedResult::kPaused:
            if (response_complete_) {
                // Bytes after a complete response: the server is out of step; never reuse it.
                if (result.consumed < input.size()) releaseUpstream(false);
                return finishExchange();
            }
            // Client backpressure: keep the rest until the client drains.
            upstream_in_.assign(input.substr(result.consumed));
            upstream_->stopReading();
            return;
        case http::FeedResult::kUpgraded: {
            // 101: everything after the head belongs to the tunnel.
            std::string_view rest = input.substr(result.consumed);
            state_ = State::kTunnel;
            upstream_timer_.stop();
            client_timer_.stop();
            if (!rest.empty()) client_->write(rest);
            if (!client_in_.empty()) {
                upstream_->write(client_in_);
                client_in_.clear();
            }
            client_->startReading();
            upstream_->startReading();
            return;
        }
        case http::FeedResult::kError:
            LOG_WARN("pool %s server %s: bad response: %s", selector_->pool().name().c_str(),
                     server_ ? server_->config.name.c_str() : "-", result.reason);
            onUpstreamFailure(result.reason, 502);
            return;
    }
}

void HttpSession::onInterimResponse(const http::ResponseHead& head) {
    if (head.status == 100 && request_parser_.head().version_minor >= 1) {
        client_->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
}

http::Action HttpSession::onResponseHead(http::ResponseHead& head) {
    upstream_timer_.stop();
    response_started_ = true;
    status_ = head.status;
    first_byte_ms_ = static_cast<int64_t>(ctx_.now() - request_start_ms_);
    const http::RequestHead& request = request_parser_.head();
    const int client_minor = request.version_minor;

    response_framing_ = head.framing;
    if (head.framing == http::BodyFraming::kChunked && client_minor == 0) {
        response_framing_ = http::BodyFraming::kUntilClose;  // HTTP/1.0 has no chunked coding
    }
    if (head.status == 101) {
        response_framing_ = http::BodyFraming::kNone;
        client_keep_alive_ = true;  // the connection becomes the tunnel
    } else if (response_framing_ == http::BodyFraming::kUntilClose || !request_complete_) {
        // A response that ends with the connection, or arrives before the request finished
        // (the rest of the request body would be unread): the client connection ends here.
        client_keep_alive_ = false;
    }
    if (draining_ || ctx_.draining()) client_keep_alive_ = false;

    extra_.clear();
    if (!request_id_.empty()) {
        extra_.append(listener_->request_id_header).append(": ").append(request_id_).append("\r\n");
    }
    scratch_.clear();
    http::serializeResponseHead(head, response_framing_, client_keep_alive_, client_minor, extra_,
                                scratch_);
    if (!client_->write(scratch_)) {
        finish();
        return http::Action::kPause;
    }
    return http::Action::kContinue;
}

http::Action HttpSession::onResponseBody(std::string_view decoded) {
    bytes_sent_ += decoded.size();
    writeBody(*client_, response_framing_, decoded);
    if (client_->pendingBytes() > kHighWater) {
        if (upstream_) upstream_->stopReading();
        return http::Action::kPause;
    }
    return http::Action::kContinue;
}

void HttpSession::onResponseComplete() {
    if (response_framing_ == http::BodyFraming::kChunked) client_->write("0\r\n\r\n");
    response_complete_ = true;  // finishExchange() runs once the parser has returned
}

void HttpSession::writeBody(net::TcpConnection& to, http::BodyFraming framing,
                            std::string_view data) {
    if (data.empty()) return;
    if (framing == http::BodyFraming::kChunked) {
        char size_line[24];
        int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
        to.write(std::string_view(size_line, static_cast<size_t>(n)), data, "\r\n");
    } else {
        to.write(data);
    }
}

void HttpSession::finishExchange() {
    const bool reusable = upstream_ && response_parser_.head().keep_alive && request_complete_ &&
                          upstream_in_.empty() && state_ == State::kExchange;
    if (server_ && selector_) {
        selector_->observeLatency(static_cast<int>(server_ - selector_->pool().servers.data()),
                                  static_cast<double>(first_byte_ms_), ctx_.now());
    }
    releaseUpstream(reusable);
    releaseServer();
    logAccess();
    if (!client_keep_alive_) return closeAfterFlush();
    startNextRequest();
}

void HttpSession::releaseUpstream(bool reusable) {
    upstream_timer_.stop();
    upstream_in_.clear();
    if (!upstream_) return;
    net::TcpConnection* conn = upstream_;
    upstream_ = nullptr;
    if (reusable && server_ && !ctx_.draining()) {
        response_parser_.resume();
        const auto& pool = selector_->pool().config;
        ctx_.connectionPool().put(server_->state.get(), conn,
                                  static_cast<uint64_t>(pool.idle_timeout.count()), pool.keepalive);
    } else {
        conn->destroy();
    }
    // A fresh parser state for the next upstream response.
    response_parser_.~ResponseParser();
    new (&response_parser_) http::ResponseParser(*this);
}

void HttpSession::releaseServer() {
    if (server_) server_->state->active.fetch_sub(1, std::memory_order_relaxed);
    server_ = nullptr;
}

void HttpSession::onUpstreamFailure(const char* what, int status) {
    if (finished_) return;
    const bool before_response = !response_started_;
    const bool connecting = upstream_ && !upstream_->connected();
    if (server_) {
        server_->state->failures.fetch_add(1, std::memory_order_relaxed);
        LOG_WARN("pool %s server %s: %s", selector_->pool().name().c_str(),
                 server_->config.name.c_str(), what);
    }
    const bool reused = upstream_reused_;
    releaseUpstream(false);
    if (!before_response) {
        // Part of the response went out: cut the client off so the truncation is visible.
        status_ = status_ ? status_ : status;
        logAccess();
        releaseServer();
        client_->reset();
        client_ = nullptr;
        return finish();
    }
    // Nothing of the response went out. Replay is safe when no body byte left the client's
    // buffer: always after a connect failure, and for idempotent requests on a reused
    // connection that died before answering.
    const std::string_view method = request_parser_.head().method;
    const bool replay = !body_started_ && (connecting || (reused && idempotent(method)));
    if (replay) {
        if (reused && !connecting) {
            // Same server, fresh connection: the pooled one was stale.
            connectUpstream();
            return;
        }
        releaseServer();
        if (pickServer()) {
            state_ = State::kConnecting;
            net::TcpConnection* pooled = ctx_.connectionPool().take(server_->state.get());
            if (pooled) {
                attachUpstream(pooled, true);
                resumeRequest();
            } else {
                connectUpstream();
            }
            return;
        }
    }
    releaseServer();
    respondError(status, "upstream_error");
}

void HttpSession::onUpstreamTimer() {
    if (upstream_ && !upstream_->connected()) {
        onUpstreamFailure("connect timeout", 504);
    } else {
        onUpstreamFailure("response timeout", 504);
    }
}

// ---------------------------------------------------------------------------------------------
// Local responses and the end of the session

void HttpSession::respondError(int status, const char* termination) {
    status_ = status;
    state_ = State::kClosing;
    client_timer_.stop();
    upstream_timer_.stop();
    extra_.clear();
    if (status == 503) extra_ = "Retry-After: 1\r\n";
    if (!request_id_.empty()) {
        extra_.append(listener_->request_id_header).append(": ").append(request_id_).append("\r\n");
    }
    scratch_.clear();
    http::serializeErrorResponse(status, /*close=*/true, extra_, scratch_);
    client_->write(scratch_);
    if (status >= 500) {
        LOG_INFO("%s -> %d (%s)", client_->peerAddress().c_str(), status, termination);
    }
    logAccess();
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

void HttpSession::logAccess() {
    if (!accessLog().enabled()) return;
    const http::RequestHead& head = request_parser_.head();
    AccessRecord record;
    record.client = client_ ? std::string_view(client_->peerAddress()) : std::string_view("-");
    record.method = head.method;
    record.target = head.target;
    record.version_minor = head.version_minor;
    record.status = status_;
    record.bytes_sent = bytes_sent_;
    size_t at = head.headers.find("Referer");
    if (at != http::HeaderList::npos) record.referer = head.headers.value(at);
    at = head.headers.find("User-Agent");
    if (at != http::HeaderList::npos) record.user_agent = head.headers.value(at);
    record.host = head.host();
    record.upstream = server_ ? std::string_view(server_->config.name) : std::string_view("-");
    record.pool = selector_ ? std::string_view(selector_->pool().name()) : std::string_view("-");
    record.connect_ms = connect_ms_;
    record.first_byte_ms = first_byte_ms_;
    record.total_ms = request_start_ms_ ? static_cast<int64_t>(ctx_.now() - request_start_ms_) : 0;
    record.request_id = request_id_;
    record.termination = status_ >= 400 ? "error" : "ok";
    accessLog().write(record, scratch_);
}

void HttpSession::drain() {
    Entry entry(*this);
    draining_ = true;
    if (state_ == State::kIdle) finish();
}

void HttpSession::abort() {
    Entry entry(*this);
    finish();
}

void HttpSession::finish() {
    if (finished_) return;
    finished_ = true;
    client_timer_.stop();
    upstream_timer_.stop();
    if (upstream_) {
        upstream_->destroy();
        upstream_ = nullptr;
    }
    releaseServer();
    if (client_) client_->destroy();
    client_ = nullptr;
    // Deleted by the outermost Entry (every path here runs under one).
}

}  // namespace sluice::proxy
