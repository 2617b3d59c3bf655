#include "proxy/upstream_connector.h"

#include <string>

#include "base/log.h"
#include "loop/uv_types.h"
#include "net/proxy_header.h"

namespace sluice::proxy {

NextStep decideNext(const AttemptEnd& end) {
    NextStep step;
    if (end.failure == AttemptFailure::kRetriableStatus) {
        step.status = end.status;
        step.action =
            end.retry_5xx && !end.body_started && end.idempotent && end.attempts <= end.retries
                ? NextStep::kRetryOtherServer
                : NextStep::kRelay;
        return step;
    }
    const bool connecting =
        end.failure == AttemptFailure::kConnect || end.failure == AttemptFailure::kConnectTimeout;
    const bool timeout = end.failure == AttemptFailure::kConnectTimeout ||
                         end.failure == AttemptFailure::kResponseTimeout;
    step.status = timeout ? 504 : 502;
    step.termination = timeout ? "upstream_timeout" : "upstream_error";
    // A pooled connection that fails before any response byte was most likely closed by the
    // server while idle: that says nothing about the server's health, and the request may go
    // to it again. Silence (a timeout) or a failure once the response has started is the
    // server's.
    const bool stale = end.reused && !connecting && !timeout && !end.response_started;
    step.server_failed = !stale;
    if (end.response_started) {
        step.action = NextStep::kCutClient;
        step.termination =
            timeout ? "upstream_timeout_mid_response" : "upstream_error_mid_response";
        return step;
    }
    // Nothing of the response went out. Replay is safe when no body byte left the client's
    // buffer: always after a connect failure, and for idempotent requests on a reused
    // connection that died before answering.
    if (!end.body_started && stale && end.idempotent) {
        step.action = NextStep::kRetrySameServer;
    } else if (!end.body_started && (connecting || end.idempotent) && end.attempts <= end.retries) {
        step.action = NextStep::kRetryOtherServer;
    } else {
        step.action = NextStep::kFail;
    }
    return step;
}

UpstreamConnector::UpstreamConnector(uv_loop_t* loop, upstream::ConnectionPool& pool, Owner& owner)
    : loop_(loop), pool_(pool), owner_(owner) {}

UpstreamConnector::~UpstreamConnector() { cancel(); }

void UpstreamConnector::cancel() {
    if (queued()) selector_->dequeue(*this);
    stopConnectTimer();
    if (conn_) conn_->destroy();
    conn_ = nullptr;
    releaseServer();
}

void UpstreamConnector::begin(upstream::ServerSelector& selector, std::string_view hash_key,
                              bool use_pool) {
    cancel();
    selector_ = &selector;
    hash_key_ = hash_key;
    use_pool_ = use_pool;
    tried_.clear();
    attempts_ = 0;
    last_failure_status_ = 502;
    connect_ms_ = -1;
    selector_->retryBudget().recordRequest(loop::now(loop_));
    dispatch(/*from_queue=*/false);
}

bool UpstreamConnector::dispatch(bool from_queue) {
    const uint64_t now = loop::now(loop_);
    const upstream::Selection sel = selector_->acquire(tried_, hash_key_, now);
    switch (sel.kind) {
        case upstream::Selection::kNone:
            // Nothing left to try: a retry answers with what the last server did.
            LOG_DEBUG("pool %s: no server available", selector_->pool().name().c_str());
            if (attempts_ > 0) {
                owner_.onUpstreamUnavailable(last_failure_status_, "upstream_error");
            } else {
                owner_.onUpstreamUnavailable(503, "no_server");
            }
            return false;
        case upstream::Selection::kFull:
            // Every available server is at its cap: wait our turn in the pool's queue (when
            // called from the queue, the queue keeps us at its front).
            if (!from_queue) selector_->enqueue(*this, now);
            return true;
        case upstream::Selection::kSelected:
            break;
    }
    ++attempts_;
    tried_.add(static_cast<size_t>(sel.index));
    server_index_ = sel.index;
    server_ = &selector_->pool().servers[static_cast<size_t>(sel.index)];
    net::TcpConnection* pooled =
        use_pool_ && !sendsProxyHeader() ? pool_.take(server_->state.get()) : nullptr;
    if (pooled) {
        owner_.onUpstreamReady(pooled, /*reused=*/true);
    } else {
        connect();
    }
    return false;
}

void UpstreamConnector::connect() {
    connect_start_ms_ = loop::now(loop_);
    conn_ = net::TcpConnection::connect(
        loop_, reinterpret_cast<const sockaddr*>(&server_->config.address.sockaddr), this,
        selector_->pool().tls.get(), server_->config.address.host);
    if (!conn_) return onConnectFailure(AttemptFailure::kConnect, "connect failed");
    if (sendsProxyHeader()) {
        // The client's address and the one it reached (a received PROXY header's, if any).
        char header[net::kProxyV2HeaderWrittenMax > net::kProxyV1MaxBytes
                        ? net::kProxyV2HeaderWrittenMax
                        : net::kProxyV1MaxBytes];
        const bool v1 = selector_->pool().config.send_proxy_protocol == config::ProxyProtocol::kV1;
        size_t n =
            v1 ? net::writeProxyV1(client_->peerSockaddr(), client_->localSockaddr(), header)
               : net::writeProxyV2(client_->peerSockaddr(), client_->localSockaddr(), header);
        if (n == 0 && v1) {
            constexpr std::string_view kUnknown = "PROXY UNKNOWN\r\n";
            kUnknown.copy(header, kUnknown.size());
            n = kUnknown.size();
        } else if (n == 0) {
            n = net::writeProxyV2Local(header);
        }
        conn_->writePrelude(std::string_view(header, n));
    }
    if (!connect_timer_) {
        connect_timer_.emplace(loop_, [this] {
            if (!conn_) return;
            conn_->destroy();
            conn_ = nullptr;
            onConnectFailure(AttemptFailure::kConnectTimeout, "connect timeout");
        });
    }
    connect_timer_->start(static_cast<uint64_t>(selector_->pool().config.connect_timeout.count()));
}

bool UpstreamConnector::onSlotMaybeFree() { return !dispatch(/*from_queue=*/true); }

void UpstreamConnector::onQueueTimeout() {
    LOG_DEBUG("pool %s: queue timeout", selector_->pool().name().c_str());
    owner_.onUpstreamUnavailable(503, "queue_timeout");
}

void UpstreamConnector::onConnected(net::TcpConnection&) {
    stopConnectTimer();
    connect_ms_ = static_cast<int64_t>(loop::now(loop_) - connect_start_ms_);
    net::TcpConnection* conn = conn_;
    conn_ = nullptr;
    owner_.onUpstreamReady(conn, /*reused=*/false);
}

void UpstreamConnector::onEof(net::TcpConnection&) {
    stopConnectTimer();
    conn_->destroy();
    conn_ = nullptr;
    onConnectFailure(AttemptFailure::kConnect, "connection closed while connecting");
}

void UpstreamConnector::onError(net::TcpConnection& conn, int uv_error) {
    const std::string why = conn.tlsError().empty() ? std::string(loop::errorText(uv_error))
                                                    : "TLS: " + conn.tlsError();
    stopConnectTimer();
    conn_->destroy();
    conn_ = nullptr;
    onConnectFailure(AttemptFailure::kConnect, why.c_str());
}

void UpstreamConnector::onConnectFailure(AttemptFailure failure, const char* what) {
    AttemptEnd end;
    end.failure = failure;
    end.attempts = attempts_;
    end.retries = selector_->pool().config.retries;
    const NextStep step = next(end, what);
    if (step.action == NextStep::kFail) owner_.onUpstreamUnavailable(step.status, step.termination);
}

NextStep UpstreamConnector::decide(const AttemptEnd& end, const char* what) {
    NextStep step = decideNext(end);
    const uint64_t now = loop::now(loop_);
    if (server_) {
        if (end.failure == AttemptFailure::kRetriableStatus) {
            selector_->reportFailure(server_index_, now, "HTTP 5xx");
        } else {
            LOG_WARN("pool %s server %s: %s", selector_->pool().name().c_str(),
                     server_->config.name.c_str(), what);
            if (step.server_failed) selector_->reportFailure(server_index_, now, what);
        }
    }
    if (step.action == NextStep::kRetryOtherServer && !selector_->retryBudget().tryRetry(now)) {
        step.action =
            end.failure == AttemptFailure::kRetriableStatus ? NextStep::kRelay : NextStep::kFail;
    }
    if (step.action == NextStep::kRetryOtherServer && server_ &&
        end.failure == AttemptFailure::kRetriableStatus) {
        LOG_INFO("pool %s server %s answered %d; retrying elsewhere",
                 selector_->pool().name().c_str(), server_->config.name.c_str(), end.status);
    }
    if (step.action == NextStep::kRetryOtherServer || step.action == NextStep::kFail) {
        last_failure_status_ = step.status;
    }
    if (step.action == NextStep::kFail) releaseServer();
    return step;
}

NextStep UpstreamConnector::next(const AttemptEnd& end, const char* what) {
    const NextStep step = decide(end, what);
    retryNow(step);  // may end in owner callbacks: nothing of `this` is used after it
    return step;
}

void UpstreamConnector::retryNow(const NextStep& step) {
    if (step.action == NextStep::kRetrySameServer && server_) {
        connect();  // same server, fresh connection: the pooled one was stale
    } else if (step.action == NextStep::kRetryOtherServer) {
        releaseServer();
        dispatch(/*from_queue=*/false);
    }
}

void UpstreamConnector::stopConnectTimer() {
    if (connect_timer_) connect_timer_->stop();
}

bool UpstreamConnector::sendsProxyHeader() const {
    return client_ && selector_ &&
           selector_->pool().config.send_proxy_protocol != config::ProxyProtocol::kNone;
}

void UpstreamConnector::reportSuccess() {
    if (server_) selector_->reportSuccess(server_index_);
}

void UpstreamConnector::release() { releaseServer(); }

void UpstreamConnector::releaseServer() {
    if (server_) selector_->release(server_index_, loop::now(loop_));
    server_ = nullptr;
    server_index_ = -1;
}

}  // namespace sluice::proxy
