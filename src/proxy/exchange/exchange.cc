#include "proxy/exchange/exchange.h"

#include <cstdio>
#include <random>

#include "base/log.h"
#include "http/serializer.h"
#include "loop/uv_types.h"
#include "metrics/generation_stats.h"
#include "proxy/client_admission.h"
#include "proxy/edge/trusted_networks.h"
#include "proxy/http/access_log.h"
#include "proxy/http/hash_key.h"

namespace sluice::proxy {
namespace {

// 16 hex digits, unique per process with overwhelming probability, no allocation.
void makeRequestId(std::string& out) {
    thread_local uint64_t state = std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32);
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    // By hand: snprintf("%016" PRIx64) cost about 1,000 instructions, a tenth of a request.
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[16];
    for (int i = 15; i >= 0; --i, z >>= 4) buf[i] = kHex[z & 0xf];
    out.assign(buf, sizeof buf);
}

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
           method == "DELETE" || method == "TRACE";
}

bool retriableStatus(int status) { return status == 502 || status == 503 || status == 504; }

// Freed exchange blocks kept by this thread for the next exchanges.
struct SpareBlocks {
    static constexpr size_t kMax = 64;
    ~SpareBlocks() {
        while (count > 0) ::operator delete(blocks[--count]);
    }
    void* blocks[kMax];
    size_t count = 0;
};
thread_local SpareBlocks spare_blocks;

}  // namespace

void* Exchange::operator new(size_t size) {
    SpareBlocks& spare = spare_blocks;
    if (size == sizeof(Exchange) && spare.count > 0) return spare.blocks[--spare.count];
    return ::operator new(size);
}

void Exchange::operator delete(void* block, size_t size) {
    SpareBlocks& spare = spare_blocks;
    if (size == sizeof(Exchange) && spare.count < SpareBlocks::kMax) {
        spare.blocks[spare.count++] = block;
        return;
    }
    ::operator delete(block);
}

Exchange::Exchange(ProxyContext& ctx, std::shared_ptr<WorkerSnapshot> snapshot, size_t listener,
                   Downstream& downstream, const http::RequestHead& head, uint64_t start_ms)
    : ctx_(ctx),
      snap_(std::move(snapshot)),
      listener_index_(listener),
      listener_(&snap_->snapshot->config->listeners[listener]),
      downstream_(downstream),
      head_(head),
      parts_(ctx.exchangeParts().take()),
      connector_(ctx.loop(), ctx.connectionPool(), *this),
      start_ms_(start_ms) {
    parts_->attach(*this, *this);
    connector_.setClient(&downstream_.client());
}

Exchange::~Exchange() {
    if (!ended_) cancel();  // after cancel() (every end calls it) nothing is left to stop
    ctx_.exchangeParts().give(std::move(parts_));
}

void Exchange::cancel() {
    ended_ = true;
    parts_->timer.stop();
    upstream_.reset();  // closes it
    connector_.cancel();
}

bool Exchange::acceptsBody() const {
    return started_ && !ended_ && upstream_ && !request_complete_;
}

// ---------------------------------------------------------------------------------------------
// Routing

bool Exchange::start(bool end_of_request) {
    started_ = true;
    request_complete_ = end_of_request;
    const net::TcpConnection& client = downstream_.client();

    // Before routing: a refused request counts for the listener, never for a pool.
    if (const uint32_t retry_after =
            checkRateLimits(ctx_, *snap_, listener_index_, client, head_)) {
        const std::string line = "Retry-After: " + std::to_string(retry_after) + "\r\n";
        respondLocal(429, "rate_limited", line);
        return false;
    }
    const int pool = snap_->routers[listener_index_]->route(head_.host(), head_.target);
    if (pool < 0) {
        respondLocal(404, "no_route");
        return false;
    }
    selector_ = snap_->selectors[static_cast<size_t>(pool)].get();

    // Request id: kept when the client sent one, generated otherwise.
    std::string& request_id = parts_->request_id;
    if (!listener_->request_id_header.empty()) {
        const size_t at = head_.headers.find(listener_->request_id_header);
        if (at != http::HeaderList::npos) {
            request_id.assign(head_.headers.value(at));
        } else {
            makeRequestId(request_id);
        }
    }
    http::ForwardInfo info;
    info.client_ip = client.peerAddress();
    info.tls = client.tls() != nullptr;
    info.trusted_client = edge::inNetworks(listener_->trusted_proxies, client.peerSockaddr());
    info.forwarded_headers = listener_->forwarded_headers;
    info.request_id_header = listener_->request_id_header;
    info.request_id = request_id;
    http::serializeRequestHead(head_, head_.framing, /*keep_alive=*/!head_.upgrade, info,
                               parts_->head_out);
    parts_->parser.setRequestMethod(head_.method);
    hash_key_ = hashKeyOf(selector_->pool().config, head_, client.peerAddress());

    in_start_ = true;
    startUpstream();
    in_start_ = false;
    return acceptsBody();
}

// ---------------------------------------------------------------------------------------------
// The request

bool Exchange::requestBody(std::string_view data) {
    if (!acceptsBody()) return false;
    body_started_ = true;
    if (!upstream_->sendBody(head_.framing, data)) {
        onUpstreamFailure(AttemptFailure::kBroken, "write failed");
        return false;
    }
    return upstream_ && upstream_->conn().pendingBytes() <= kHighWater;
}

void Exchange::requestEnd(const http::HeaderList* trailers) {
    if (ended_ || request_complete_) return;
    request_complete_ = true;
    if (head_.framing == http::BodyFraming::kChunked) {
        std::string& last_chunk = parts_->request_end;
        last_chunk.clear();
        http::serializeLastChunk(trailers, last_chunk);
        if (upstream_ && !upstream_->conn().write(last_chunk)) {
            return onUpstreamFailure(AttemptFailure::kBroken, "write failed");
        }
    }
    restartResponseTimer();  // for the response head, or the next body bytes
}

// ---------------------------------------------------------------------------------------------
// Choosing a server (the connector's) and the attempt on it

void Exchange::startUpstream(const NextStep* retry) {
    if (retry) {
        connector_.retryNow(*retry);
    } else {
        connector_.begin(*selector_, hash_key_, /*use_pool=*/!head_.upgrade);
    }
}

void Exchange::onUpstreamReady(net::TcpConnection* conn, bool reused) {
    if (ended_) return conn->destroy();
    if (!reused) connect_ms_ = connector_.connectMs();
    attachUpstream(conn, reused);
}

void Exchange::onUpstreamUnavailable(int status, const char* termination) {
    if (ended_) return;
    respondLocal(status, termination);
}

void Exchange::attachUpstream(net::TcpConnection* conn, bool reused) {
    upstream_.emplace(conn, reused, static_cast<net::ConnectionHandler&>(*this));
    held_ = false;
    // The whole request was read before this attempt (a retry, or a connect that took longer):
    // no body byte went anywhere (or there would be no retry), so a chunked body was empty and
    // needs only its last chunk (with the request's trailers).
    std::string_view last_chunk;
    if (request_complete_ && !body_started_ && head_.framing == http::BodyFraming::kChunked) {
        if (parts_->request_end.empty()) http::serializeLastChunk(nullptr, parts_->request_end);
        last_chunk = parts_->request_end;
    }
    if (!upstream_->sendHead(parts_->head_out, last_chunk)) {
        return onUpstreamFailure(AttemptFailure::kBroken, "write failed");
    }
    restartResponseTimer();
    // Inside start() the downstream delivers the body once start() returns true.
    if (!in_start_ && !request_complete_) downstream_.resumeRequestBody();
}

void Exchange::onUpstreamFailure(AttemptFailure failure, const char* what) {
    if (ended_) return;
    AttemptEnd attempt;
    attempt.failure = failure;
    attempt.reused = upstream_ && upstream_->reused();
    attempt.response_started = response_started_;
    attempt.body_started = body_started_;
    attempt.idempotent = idempotent(head_.method);
    attempt.attempts = connector_.attempts();
    attempt.retries = selector_->pool().config.retries;
    releaseUpstream(false);
    const NextStep step = connector_.decide(attempt, what);
    switch (step.action) {
        case NextStep::kCutClient:
            // Part of the response went out: the client must see the truncation.
            if (!status_) status_ = step.status;
            logAccess(step.termination);
            connector_.release();
            return end(ExchangeEnd::kCut);
        case NextStep::kRetrySameServer:
        case NextStep::kRetryOtherServer:
            return startUpstream(&step);
        case NextStep::kFail:
        case NextStep::kRelay:
            return respondLocal(step.status, step.termination);
    }
}

void Exchange::onResponseTimeout() {
    onUpstreamFailure(AttemptFailure::kResponseTimeout,
                      response_started_ ? "response timeout (body stalled)" : "response timeout");
}

// response_timeout runs only while the upstream owes us bytes: the whole request is in and we
// are reading. Before the whole request body is in, an upstream may well wait for it (the
// client's pace is the downstream's business); while we hold its reads back for a slow
// client, its silence is ours.
void Exchange::restartResponseTimer() {
    if (!upstream_ || !request_complete_ || !upstream_->conn().reading()) return;
    parts_->timer.start(static_cast<uint64_t>(selector_->pool().config.response_timeout.count()));
}

void Exchange::releaseUpstream(bool reusable, bool another_attempt) {
    parts_->timer.stop();
    parts_->upstream_in.clear();
    if (!upstream_) return;
    const upstream::Server* server = connector_.server();
    // A connection that began with a PROXY header carries this client's address: not pooled.
    upstream_->finish(reusable && !ctx_.draining() && !connector_.sendsProxyHeader(),
                      ctx_.connectionPool(), server ? server->state.get() : nullptr,
                      selector_->pool().config);
    upstream_.reset();
    if (!another_attempt) return;  // the parts are cleared when they go back to the pool
    // The next response may come over another connection: start from a clean parser, still
    // expecting the answer to this request (HEAD framing).
    parts_->parser.reset();
    parts_->parser.setRequestMethod(head_.method);
}

void Exchange::dropUpstream() {
    parts_->timer.stop();
    upstream_.reset();
}

// ---------------------------------------------------------------------------------------------
// Upstream connection events

void Exchange::onData(net::TcpConnection&, std::string_view bytes) {
    if (ended_) return;
    if (held_ || !parts_->upstream_in.empty()) {
        // Held back for the downstream: keep the bytes for later (reads stop until it drains).
        parts_->upstream_in.append(bytes);
        upstream_->conn().stopReading();
        return;
    }
    // Once the head is in, response_timeout bounds the silence between reads of the body.
    if (response_started_) restartResponseTimer();
    handleResponseFeed(parts_->parser.feed(bytes), bytes);
}

void Exchange::onEof(net::TcpConnection&) {
    if (ended_) return;
    const http::FeedResult result = parts_->parser.finish();
    if (result.kind != http::FeedResult::kError && response_complete_) {
        // The close ended an until-close body: a complete response, not a reusable connection.
        releaseUpstream(false);
        return finishExchange();
    }
    onUpstreamFailure(AttemptFailure::kBroken, "upstream closed the connection");
}

void Exchange::onError(net::TcpConnection& conn, int uv_error) {
    if (ended_) return;
    const std::string why = conn.tlsError().empty() ? std::string(loop::errorText(uv_error))
                                                    : "TLS: " + conn.tlsError();
    onUpstreamFailure(AttemptFailure::kBroken, why.c_str());
}

void Exchange::onDrain(net::TcpConnection&) {
    // The upstream caught up: the rest of the request body may come.
    if (!ended_ && upstream_ && !request_complete_) downstream_.resumeRequestBody();
}

// ---------------------------------------------------------------------------------------------
// The response

void Exchange::downstreamWritable() {
    if (ended_ || !upstream_) return;
    held_ = false;
    resumeUpstream();
}

void Exchange::resumeUpstream() {
    http::ResponseParser& parser = parts_->parser;
    parser.resume();
    std::string& held = parts_->upstream_in;
    if (!held.empty()) {
        std::string pending;
        pending.swap(held);
        handleResponseFeed(parser.feed(pending), pending);
        if (ended_) return;
        if (held.empty()) {
            pending.clear();
            held.swap(pending);  // keep the capacity
        }
    }
    if (upstream_ && held.empty() && !held_) {
        const bool was_held = !upstream_->conn().reading();
        upstream_->conn().startReading();
        // Reads were held for the client: the upstream's silence clock starts again now.
        if (was_held && response_started_) restartResponseTimer();
    }
}

void Exchange::handleResponseFeed(const http::FeedResult& result, std::string_view input) {
    if (ended_) return;
    // A head whose body has not arrived yet goes out now.
    if (response_started_ && !sent(downstream_.flushResponse())) return;
    if (retry_response_) {
        // retry_5xx: the server answered 502/503/504 to an idempotent request; try another.
        retry_response_ = false;
        releaseUpstream(false);
        return startUpstream(&retry_step_);
    }
    if (upgrade_refused_) {
        upgrade_refused_ = false;
        return onUpstreamFailure(AttemptFailure::kBroken, "101 to a request that cannot upgrade");
    }
    switch (result.kind) {
        case http::FeedResult::kOk:
            return;
        case http::FeedResult::kPaused:
            if (response_complete_) {
                // Bytes after a complete response: the server is out of step; never reuse it.
                if (result.consumed < input.size()) releaseUpstream(false);
                return finishExchange();
            }
            // Downstream backpressure: keep the rest until it drains. The upstream is silent
            // because we stopped reading it: the response timer stops until resumeUpstream().
            // A client that never reads is not bounded here (a send timeout would need write
            // progress from the downstream, not only drains).
            parts_->upstream_in.assign(input.substr(result.consumed));
            upstream_->conn().stopReading();
            parts_->timer.stop();
            return;
        case http::FeedResult::kUpgraded: {
            // 101: everything after the head belongs to the tunnel, which is the downstream's.
            parts_->timer.stop();
            const std::string_view rest = input.substr(result.consumed);
            logAccess("ok");
            connector_.release();
            net::TcpConnection* conn = upstream_->release();
            upstream_.reset();
            downstream_.takeTunnel(conn, rest);  // its handler now
            return end(ExchangeEnd::kUpgraded);
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
// path): one 100 Continue when the client asked for it, and 103 Early Hints; not to HTTP/1.0
// clients, which have no 1xx. 102 Processing and unknown 1xx codes stop here.
void Exchange::onInterimResponse(const http::ResponseHead& head) {
    if (ended_ || (head_.version_major == 1 && head_.version_minor < 1)) return;
    if (head.status == 100) {
        if (!head_.expect_continue || continue_sent_) return;
        continue_sent_ = true;  // also across a retry on another server
    } else if (head.status != 103) {
        return;
    }
    sent(downstream_.sendInterim(head));
}

http::Action Exchange::onResponseHead(http::ResponseHead& head) {
    if (ended_) return http::Action::kPause;
    parts_->timer.stop();
    const config::PoolConfig& pool = selector_->pool().config;
    if (retriableStatus(head.status)) {
        AttemptEnd attempt;
        attempt.failure = AttemptFailure::kRetriableStatus;
        attempt.status = head.status;
        attempt.reused = upstream_ && upstream_->reused();
        attempt.body_started = body_started_;
        attempt.idempotent = idempotent(head_.method);
        attempt.retry_5xx = pool.retry_5xx;
        attempt.attempts = connector_.attempts();
        attempt.retries = pool.retries;
        retry_step_ = connector_.decide(attempt, "HTTP 5xx");
        if (retry_step_.action == NextStep::kRetryOtherServer) {
            retry_response_ = true;  // acted on once the parser has returned
            return http::Action::kPause;
        }
    } else {
        connector_.reportSuccess();
    }
    if (head.status == 101 && !downstream_.canTunnel()) {
        // Only an HTTP/1.1 client can be switched (nobody asked this server to): a broken
        // attempt, acted on once the parser has returned.
        upgrade_refused_ = true;
        return http::Action::kPause;
    }
    response_started_ = true;
    restartResponseTimer();  // now the longest silence before the next body bytes
    status_ = head.status;
    first_byte_ms_ = static_cast<int64_t>(ctx_.now() - start_ms_);

    std::string& extra = parts_->extra;
    extra.clear();
    appendRequestIdLine(extra);
    // Sent with the first body bytes (one write for small responses), or once the parser
    // returns (flushResponse).
    if (!sent(downstream_.sendResponseHead(head, extra, request_complete_)))
        return http::Action::kPause;
    return http::Action::kContinue;
}

http::Action Exchange::onResponseBody(std::string_view decoded) {
    if (ended_) return http::Action::kPause;
    bytes_sent_ += decoded.size();
    const SendResult result = downstream_.sendResponseBody(decoded);
    if (!sent(result)) return http::Action::kPause;
    if (result == SendResult::kFull) {
        held_ = true;
        if (upstream_) upstream_->conn().stopReading();
        return http::Action::kPause;
    }
    return http::Action::kContinue;
}

void Exchange::onResponseComplete() {
    // A discarded answer (retried elsewhere, or a refused 101) completing within the same feed
    // is not the client's response.
    if (ended_ || retry_response_ || upgrade_refused_) return;
    if (!sent(downstream_.endResponse(&parts_->parser.trailers()))) return;
    response_complete_ = true;  // finishExchange() runs once the parser has returned
}

void Exchange::appendRequestIdLine(std::string& lines) const {
    if (parts_->request_id.empty()) return;
    lines.append(listener_->request_id_header)
        .append(": ")
        .append(parts_->request_id)
        .append("\r\n");
}

bool Exchange::sent(SendResult result) {
    if (ended_) return false;
    if (result == SendResult::kGone) {
        abortForClient();
        return false;
    }
    return true;
}

void Exchange::finishExchange() {
    const bool reusable = upstream_ && parts_->parser.head().keep_alive && request_complete_ &&
                          parts_->upstream_in.empty();
    if (const upstream::Server* server = connector_.server()) {
        selector_->observeLatency(connector_.serverIndex(), static_cast<double>(first_byte_ms_),
                                  ctx_.now());
        server->state->recordLatency(
            static_cast<uint64_t>(first_byte_ms_ < 0 ? 0 : first_byte_ms_));
    }
    logAccess("ok");
    releaseUpstream(reusable, /*another_attempt=*/false);
    connector_.release();
    end(ExchangeEnd::kComplete);
}

// ---------------------------------------------------------------------------------------------
// Ends

void Exchange::respondLocal(int status, const char* termination, std::string_view extra) {
    if (ended_) return;
    dropUpstream();
    connector_.cancel();
    if (response_started_) {
        logAccess(termination);  // with the status that went out
        return end(ExchangeEnd::kCut);
    }
    status_ = status;
    std::string& lines = parts_->extra;
    lines.clear();
    if (status == 503) lines = "Retry-After: 1\r\n";
    lines.append(extra);
    appendRequestIdLine(lines);
    bytes_sent_ = downstream_.sendLocalResponse(status, lines);
    if (status >= 500) {
        LOG_INFO("%s -> %d (%s)", downstream_.client().peerAddress().c_str(), status, termination);
    }
    logAccess(termination);
    end(ExchangeEnd::kLocal);
}

// Like nginx without proxy_ignore_client_abort: a client that goes away before its response
// is complete has gone. Waiting for a response nobody reads would hold the upstream connection
// until response_timeout; its connection is closed instead of pooled (its response is unread).
void Exchange::abortForClient() {
    if (ended_) return;
    LOG_DEBUG("client %s went away before its response was complete",
              downstream_.client().peerAddress().c_str());
    ctx_.counters().client_aborts.fetch_add(1, std::memory_order_relaxed);
    if (!response_started_) status_ = 499;  // nginx's "client closed request"
    logAccess("client_abort");
    end(ExchangeEnd::kClientGone);
}

void Exchange::end(ExchangeEnd how) {
    cancel();
    downstream_.onExchangeEnd(how);
}

void Exchange::logAccess(const char* termination) {
    const upstream::Server* answered_by = connector_.server();
    const std::string_view pool_name =
        selector_ ? std::string_view(selector_->pool().name()) : std::string_view();
    metrics::recordExchange(
        snap_->snapshot->stats.get(),
        {listener_index_, pool_name, answered_by ? connector_.serverIndex() : -1, status_,
         ctx_.now() - start_ms_});
    if (!accessLog().enabled()) return;
    const net::TcpConnection& client = downstream_.client();
    AccessRecord record;
    record.client = client.peerAddress();
    record.method = head_.method;
    record.target = head_.target;
    record.version_major = head_.version_major;
    record.version_minor = head_.version_minor;
    record.status = status_;
    record.bytes_sent = bytes_sent_;
    size_t at = head_.headers.find("Referer");
    if (at != http::HeaderList::npos) record.referer = head_.headers.value(at);
    at = head_.headers.find("User-Agent");
    if (at != http::HeaderList::npos) record.user_agent = head_.headers.value(at);
    record.host = head_.host();
    record.upstream =
        answered_by ? std::string_view(answered_by->config.name) : std::string_view("-");
    record.pool = selector_ ? pool_name : std::string_view("-");
    record.connect_ms = connect_ms_;
    record.first_byte_ms = first_byte_ms_;
    record.total_ms = static_cast<int64_t>(ctx_.now() - start_ms_);
    record.request_id = parts_->request_id;
    record.termination = termination;
    if (const tls::TlsStream* tls = client.tls()) {
        record.tls_version = tls->version();
        record.sni = tls->serverName();
    }
    accessLog().write(record, ctx_.scratch());
}

}  // namespace sluice::proxy
