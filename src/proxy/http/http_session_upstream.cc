// HttpSession, upstream half: the attached upstream connection (servers, queue, retries and
// passive health are the UpstreamConnector's), and relaying the response.

#include <cstdio>
#include <string>

#include "base/log.h"
#include "http/serializer.h"
#include "proxy/http/hash_key.h"
#include "proxy/http/http_session.h"

namespace sluice::proxy {
namespace {

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
           method == "DELETE" || method == "TRACE";
}

bool retriableStatus(int status) { return status == 502 || status == 503 || status == 504; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Choosing a server (the connector's)

void HttpSession::startUpstream(const NextStep* retry) {
    state_ = State::kConnecting;
    if (retry) {
        connector_.retryNow(*retry);
    } else {
        const http::RequestHead& head = request_parser_.head();
        connector_.begin(
            *exchange_->selector,
            hashKeyOf(exchange_->selector->pool().config, head, client_->peerAddress()),
            /*use_pool=*/!head.upgrade);
    }
    // The connector may have answered already (attached, or no server).
    if (state_ == State::kConnecting && connector_.waiting()) state_ = State::kQueued;
}

void HttpSession::onUpstreamReady(net::TcpConnection* conn, bool reused) {
    if (finished_) return conn->destroy();
    if (!reused) exchange_->connect_ms = connector_.connectMs();
    attachUpstream(conn, reused);
}

void HttpSession::onUpstreamUnavailable(int status, const char* termination) {
    if (finished_) return;
    respondError(status, termination);
}

void HttpSession::attachUpstream(net::TcpConnection* conn, bool reused) {
    upstream_.emplace(conn, reused, static_cast<net::ConnectionHandler&>(*this));
    state_ = State::kExchange;
    // A retry after the whole request was read: no body byte went anywhere (or there would be
    // no retry), so a chunked body was empty and needs only its last chunk.
    const bool last_chunk = exchange_->request_complete && !exchange_->body_started &&
                            exchange_->request_framing == http::BodyFraming::kChunked;
    if (!upstream_->sendHead(head_out_, last_chunk)) {
        return onUpstreamFailure(AttemptFailure::kBroken, "write failed");
    }
    restartResponseTimer();
    // The request parser sits paused unless we are inside onRequestHead (it just continues).
    // Resume it only for the rest of this request's body: once the request is complete, bytes
    // after it are a pipelined next request, which waits until this response is done.
    if (!in_head_callback_ && !exchange_->request_complete) resumeRequest();
}

void HttpSession::onUpstreamFailure(AttemptFailure failure, const char* what) {
    if (finished_) return;
    AttemptEnd end;
    end.failure = failure;
    end.reused = upstream_ && upstream_->reused();
    end.response_started = exchange_->response_started;
    end.body_started = exchange_->body_started;
    end.idempotent = idempotent(request_parser_.head().method);
    end.attempts = connector_.attempts();
    end.retries = exchange_->selector->pool().config.retries;
    releaseUpstream(false);
    const NextStep step = connector_.decide(end, what);
    switch (step.action) {
        case NextStep::kCutClient:
            // Part of the response went out: cut the client off so the truncation is visible.
            if (!exchange_->status) exchange_->status = step.status;
            logAccess(step.termination);
            connector_.release();
            client_->reset();
            client_ = nullptr;
            return finish();
        case NextStep::kRetrySameServer:
        case NextStep::kRetryOtherServer:
            return startUpstream(&step);
        case NextStep::kFail:
        case NextStep::kRelay:
            return respondError(step.status, step.termination);
    }
}

void HttpSession::onUpstreamTimer() {
    onUpstreamFailure(AttemptFailure::kResponseTimeout, exchange_->response_started
                                                            ? "response timeout (body stalled)"
                                                            : "response timeout");
}

// response_timeout runs only while the upstream owes us bytes: the whole request is in and we
// are reading. Before the whole request body is in, an upstream may well wait for it (the
// client's pace is client_body_timeout's business); while we hold its reads back for a slow
// client, its silence is ours.
void HttpSession::restartResponseTimer() {
    if (!upstream_ || !exchange_->request_complete || !upstream_->conn().reading()) return;
    upstream_timer_.start(
        static_cast<uint64_t>(exchange_->selector->pool().config.response_timeout.count()));
}

// ---------------------------------------------------------------------------------------------
// The response

void HttpSession::onUpstreamData(std::string_view bytes) {
    if (!upstream_in_.empty() || state_ != State::kExchange) {
        // Paused for client backpressure (or bytes after a response): keep them for later.
        upstream_in_.append(bytes);
        upstream_->conn().stopReading();
        return;
    }
    // Once the head is in, response_timeout bounds the silence between reads of the body.
    if (exchange_->response_started) restartResponseTimer();
    handleResponseFeed(response_parser_.feed(bytes), bytes);
}

void HttpSession::resumeUpstream() {
    response_parser_.resume();
    if (!upstream_in_.empty()) {
        std::string pending;
        pending.swap(upstream_in_);
        handleResponseFeed(response_parser_.feed(pending), pending);
        if (upstream_in_.empty()) {
            pending.clear();
            upstream_in_.swap(pending);  // keep the capacity
        }
    }
    if (upstream_ && upstream_in_.empty() && state_ == State::kExchange) {
        const bool held = !upstream_->conn().reading();
        upstream_->conn().startReading();
        // Reads were held for the client: the upstream's silence clock starts again now.
        if (held && exchange_->response_started) restartResponseTimer();
    }
}

void HttpSession::handleResponseFeed(const http::FeedResult& result, std::string_view input) {
    if (finished_) return;
    flushResponseHead();  // a head whose body has not arrived yet goes out now
    if (finished_) return;
    if (exchange_->retry_response) {
        // retry_5xx: the server answered 502/503/504 to an idempotent request; try another.
        exchange_->retry_response = false;
        releaseUpstream(false);
        return startUpstream(&exchange_->retry_step);
    }
    switch (result.kind) {
        case http::FeedResult::kOk:
            return;
        case http::FeedResult::kPaused:
            if (exchange_->response_complete) {
                // Bytes after a complete response: the server is out of step; never reuse it.
                if (result.consumed < input.size()) releaseUpstream(false);
                return finishExchange();
            }
            // Client backpressure: keep the rest until the client drains. The upstream is silent
            // because we stopped reading it: the response timer stops until resumeUpstream().
            // A client that never reads is not bounded here (a send timeout would need write
            // progress from net::TcpConnection, not only drains).
            upstream_in_.assign(input.substr(result.consumed));
            upstream_->conn().stopReading();
            upstream_timer_.stop();
            return;
        case http::FeedResult::kUpgraded: {
            // 101: everything after the head belongs to the tunnel.
            std::string_view rest = input.substr(result.consumed);
            state_ = State::kTunnel;
            upstream_timer_.stop();
            client_timer_.stop();
            if (!rest.empty() && !client_->write(rest)) return finish();
            if (!client_in_.empty()) {
                if (!upstream_->conn().write(client_in_)) return finish();
                client_in_.clear();
            }
            client_->startReading();
            upstream_->conn().startReading();
            return;
        }
        case http::FeedResult::kError: {
            // Logged once, by onUpstreamFailure.
            const std::string what = std::string("bad response: ") + result.reason;
            onUpstreamFailure(AttemptFailure::kBroken, what.c_str());
            return;
        }
    }
}

// Relays only what the client can use (the parser bounds how many arrive, 101 is the upgrade
// path): one 100 Continue when the client asked for it, and 103 Early Hints; to HTTP/1.1
// clients only, as HTTP/1.0 has no 1xx. 102 Processing and unknown 1xx codes stop here.
void HttpSession::onInterimResponse(const http::ResponseHead& head) {
    const http::RequestHead& req = request_parser_.head();
    if (req.version_minor < 1) return;
    if (head.status == 100) {
        if (!req.expect_continue || exchange_->continue_sent) return;
        exchange_->continue_sent = true;  // also across a retry on another server
        if (!client_->write("HTTP/1.1 100 Continue\r\n\r\n")) clientGone();
    } else if (head.status == 103) {
        scratch_.clear();
        http::serializeResponseHead(head, http::BodyFraming::kNone, /*keep_alive=*/true,
                                    /*client_minor=*/1, {}, scratch_);
        if (!client_->write(scratch_)) clientGone();
    }
}

http::Action HttpSession::onResponseHead(http::ResponseHead& head) {
    upstream_timer_.stop();
    const http::RequestHead& req = request_parser_.head();
    if (retriableStatus(head.status)) {
        AttemptEnd end;
        end.failure = AttemptFailure::kRetriableStatus;
        end.status = head.status;
        end.reused = upstream_ && upstream_->reused();
        end.body_started = exchange_->body_started;
        end.idempotent = idempotent(req.method);
        end.retry_5xx = exchange_->selector->pool().config.retry_5xx;
        end.attempts = connector_.attempts();
        end.retries = exchange_->selector->pool().config.retries;
        exchange_->retry_step = connector_.decide(end, "HTTP 5xx");
        if (exchange_->retry_step.action == NextStep::kRetryOtherServer) {
            exchange_->retry_response = true;  // acted on once the parser has returned
            return http::Action::kPause;
        }
    } else {
        connector_.reportSuccess();
    }
    exchange_->response_started = true;
    restartResponseTimer();  // now the longest silence before the next body bytes
    exchange_->status = head.status;
    exchange_->first_byte_ms = static_cast<int64_t>(ctx_.now() - exchange_->request_start_ms);
    const int client_minor = req.version_minor;

    exchange_->response_framing = head.framing;
    if (head.framing == http::BodyFraming::kChunked && client_minor == 0) {
        exchange_->response_framing =
            http::BodyFraming::kUntilClose;  // HTTP/1.0 has no chunked coding
    }
    if (head.status == 101) {
        exchange_->response_framing = http::BodyFraming::kNone;
        exchange_->client_keep_alive = true;  // the connection becomes the tunnel
    } else if (exchange_->response_framing == http::BodyFraming::kUntilClose ||
               !exchange_->request_complete) {
        // A response that ends with the connection, or arrives before the request finished
        // (the rest of the request body would be unread): the client connection ends here.
        exchange_->client_keep_alive = false;
    }
    if (draining_ || ctx_.draining()) exchange_->client_keep_alive = false;

    extra_.clear();
    appendRequestIdHeader();
    response_head_.clear();
    http::serializeResponseHead(head, exchange_->response_framing, exchange_->client_keep_alive,
                                client_minor, extra_, response_head_);
    // Written with the first body bytes (one send for small responses), or once the parser
    // returns.
    exchange_->response_head_pending = true;
    return http::Action::kContinue;
}

http::Action HttpSession::onResponseBody(std::string_view decoded) {
    exchange_->bytes_sent += decoded.size();
    if (!writeBody(*client_, exchange_->response_framing, decoded, takeResponseHead())) {
        clientGone();
        return http::Action::kPause;
    }
    if (client_->pendingBytes() > kHighWater) {
        if (upstream_) upstream_->conn().stopReading();
        return http::Action::kPause;
    }
    return http::Action::kContinue;
}

void HttpSession::onResponseComplete() {
    const std::string_view head = takeResponseHead();
    bool sent = true;
    if (exchange_->response_framing == http::BodyFraming::kChunked) {
        sent = client_->write(head, "0\r\n\r\n");
    } else if (!head.empty()) {
        sent = client_->write(head);
    }
    if (!sent) return clientGone();
    exchange_->response_complete = true;  // finishExchange() runs once the parser has returned
}

bool HttpSession::writeBody(net::TcpConnection& to, http::BodyFraming framing,
                            std::string_view data, std::string_view prefix) {
    if (data.empty()) return prefix.empty() || to.write(prefix);
    if (framing == http::BodyFraming::kChunked) {
        char size_line[24];
        int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
        return to.write(prefix, std::string_view(size_line, static_cast<size_t>(n)), data, "\r\n");
    }
    return to.write(prefix, data);
}

std::string_view HttpSession::takeResponseHead() {
    if (!exchange_->response_head_pending) return {};
    exchange_->response_head_pending = false;
    return response_head_;
}

void HttpSession::flushResponseHead() {
    const std::string_view head = takeResponseHead();
    if (!head.empty() && client_ && !client_->write(head)) clientGone();
}

void HttpSession::finishExchange() {
    const bool reusable = upstream_ && response_parser_.head().keep_alive &&
                          exchange_->request_complete && upstream_in_.empty() &&
                          state_ == State::kExchange;
    if (const upstream::Server* server = connector_.server()) {
        exchange_->selector->observeLatency(
            connector_.serverIndex(), static_cast<double>(exchange_->first_byte_ms), ctx_.now());
        server->state->recordLatency(
            static_cast<uint64_t>(exchange_->first_byte_ms < 0 ? 0 : exchange_->first_byte_ms));
    }
    logAccess("ok");
    releaseUpstream(reusable);
    connector_.release();
    if (!exchange_->client_keep_alive) return closeAfterFlush();
    startNextRequest();
}

void HttpSession::releaseUpstream(bool reusable) {
    upstream_timer_.stop();
    upstream_in_.clear();
    if (!upstream_) return;
    const upstream::Server* server = connector_.server();
    // A connection that began with a PROXY header carries this client's address: not pooled.
    upstream_->finish(reusable && !ctx_.draining() && !connector_.sendsProxyHeader(),
                      ctx_.connectionPool(), server ? server->state.get() : nullptr,
                      exchange_->selector->pool().config);
    upstream_.reset();
    // The next response may come over another connection: start from a clean parser, still
    // expecting the answer to the current request (HEAD framing).
    response_parser_.reset();
    response_parser_.setRequestMethod(request_parser_.head().method);
}

}  // namespace sluice::proxy
