#pragma once
// The one upstream acquisition path of L4 and L7 sessions (nginx: ngx_event_connect_peer plus
// ngx_http_upstream_next): pick a server of the pool, wait in the pool's queue while every
// available server is at its cap, take a pooled connection or connect within connect_timeout,
// report failures to the server's passive health, and decide after a failed attempt whether to
// try again (same server over a fresh connection, or another server, within `retries` and the
// retry budget) or to fail with a status.
//
// Contract:
// - One connector per session, one request (L7) or connection (L4) at a time: begin() starts
//   it, release() ends it (the server slot goes back). The destructor leaves the queue, closes
//   a connection still connecting and releases the slot.
// - While connecting, the connector is the connection's handler; Owner::onUpstreamReady hands
//   the connected (or pooled) connection to the owner, which must set its own handler.
// - Owner callbacks come last in every connector function: the owner may destroy the connector
//   from inside one. They may also run synchronously inside begin() and retry().
// - A server slot is held from the selection until release() (or the next retry).

#include <cstdint>
#include <optional>
#include <string_view>

#include "loop/timer.h"
#include "net/tcp_connection.h"
#include "upstream/connection_pool.h"
#include "upstream/server_selector.h"

namespace sluice::proxy {

// How an attempt on one server ended.
enum class AttemptFailure {
    kConnect,          // connect (or upstream TLS handshake) failed: 502
    kConnectTimeout,   // no connection within connect_timeout: 504
    kBroken,           // error, EOF or bad response on an established connection: 502
    kResponseTimeout,  // no response head (or body bytes) within response_timeout: 504
    kRetriableStatus,  // the server answered 502/503/504 (only retried with retry_5xx)
};

struct AttemptEnd {
    AttemptFailure failure = AttemptFailure::kConnect;
    int status = 0;                 // kRetriableStatus: the server's status
    bool reused = false;            // the connection came from the worker's pool
    bool response_started = false;  // response bytes already went to the client
    bool body_started = false;      // request body bytes went upstream: no replay possible
    bool idempotent = true;         // the request may be sent twice (L4: always)
    bool retry_5xx = false;         // the pool's retry_5xx
    unsigned attempts = 0;          // servers tried so far, this one included
    unsigned retries = 0;           // the pool's retries
};

struct NextStep {
    enum Action {
        kRetrySameServer,   // a pooled connection went stale: same server, fresh connection
        kRetryOtherServer,  // pick another server (the retry budget still has to agree)
        kFail,              // answer the client with `status`
        kCutClient,         // response already started: reset the client (truncation visible)
        kRelay,             // kRetriableStatus not retried: relay the server's answer
    };
    Action action = kFail;
    bool server_failed = true;  // counts against the server's passive health
    int status = 502;
    const char* termination = "upstream_error";
};

// The decision alone (pure): what follows an attempt that ended as `end`.
NextStep decideNext(const AttemptEnd& end);

class UpstreamConnector final : private upstream::SlotWaiter, private net::ConnectionHandler {
  public:
    class Owner {
      public:
        virtual ~Owner() = default;
        // A connection to server(): freshly connected, or `reused` from the worker's pool.
        virtual void onUpstreamReady(net::TcpConnection* conn, bool reused) = 0;
        // No (more) server for this request: no_server / queue_timeout 503, or the last
        // attempt's status once a retry found nothing left (upstream_error).
        virtual void onUpstreamUnavailable(int status, const char* termination) = 0;
    };

    UpstreamConnector(uv_loop_t* loop, upstream::ConnectionPool& pool, Owner& owner);
    ~UpstreamConnector() override;
    UpstreamConnector(const UpstreamConnector&) = delete;
    UpstreamConnector& operator=(const UpstreamConnector&) = delete;

    // Starts acquiring a server of `selector` for a new request (counted by the retry budget).
    // `hash_key` must stay valid until release(). `use_pool`: a pooled connection may serve.
    void begin(upstream::ServerSelector& selector, std::string_view hash_key, bool use_pool);
    // After a failed attempt (connection already closed by the caller): reports it to the
    // server's health and decides. kRetry* actions are carried out at once (owner callbacks
    // follow, maybe synchronously); kRetryOtherServer turns into kFail when the retry budget
    // refuses. kFail releases the server slot; the others keep it (kCutClient and
    // kRelay until release()).
    NextStep next(const AttemptEnd& end, const char* what);
    // Like next(), but leaves a retry for retryNow() (retry_5xx decides under a parser callback).
    NextStep decide(const AttemptEnd& end, const char* what);
    void retryNow(const NextStep& step);
    // The exchange is over: the server slot goes back.
    void release();
    // Stops whatever is under way: leaves the queue, closes a connection still connecting,
    // releases the slot. No owner callback follows.
    void cancel();

    // The client connection whose addresses a PROXY header carries (pools with
    // send_proxy_protocol). Such a pool's connections are never taken from the worker's pool:
    // each carries one client's address.
    void setClient(const net::TcpConnection* client) { client_ = client; }
    bool sendsProxyHeader() const;

    void reportSuccess();
    bool waiting() const { return queued(); }
    bool connecting() const { return conn_ != nullptr; }
    upstream::ServerSelector* selector() const { return selector_; }
    const upstream::Server* server() const { return server_; }
    int serverIndex() const { return server_index_; }
    unsigned attempts() const { return attempts_; }
    int64_t connectMs() const { return connect_ms_; }  // -1: no fresh connection made

  private:
    // Picks a server and takes a pooled connection or connects. Returns true when it must wait
    // in the queue (computed before any owner callback).
    bool dispatch(bool from_queue);
    void connect();
    void onConnectFailure(AttemptFailure failure, const char* what);
    bool retryAllowed();
    void releaseServer();
    void stopConnectTimer();

    bool onSlotMaybeFree() override;
    void onQueueTimeout() override;
    void onConnected(net::TcpConnection& conn) override;
    void onData(net::TcpConnection&, std::string_view) override {}
    void onEof(net::TcpConnection& conn) override;
    void onError(net::TcpConnection& conn, int uv_error) override;

    uv_loop_t* loop_;
    upstream::ConnectionPool& pool_;
    Owner& owner_;
    std::optional<loop::Timer> connect_timer_;  // made at the first connect (pooled: never)
    upstream::ServerSelector* selector_ = nullptr;
    const upstream::Server* server_ = nullptr;  // holds a slot (ServerState::active) while set
    int server_index_ = -1;
    upstream::TriedSet tried_;
    std::string_view hash_key_;
    net::TcpConnection* conn_ = nullptr;  // connecting
    const net::TcpConnection* client_ = nullptr;
    unsigned attempts_ = 0;
    int last_failure_status_ = 502;
    uint64_t connect_start_ms_ = 0;
    int64_t connect_ms_ = -1;
    bool use_pool_ = false;
};

}  // namespace sluice::proxy
