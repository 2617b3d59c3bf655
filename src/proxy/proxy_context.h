#pragma once
// What a worker gives its proxy sessions: the loop, the current snapshot with this worker's
// balancer state, the idle upstream connections, process-wide counters and the list of live
// sessions (for graceful stop). One per worker; touched only on that worker's thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loop/delete_queue.h"
#include "loop/timer_queue.h"
#include "loop/uv_types.h"
#include "proxy/edge/edge_limits.h"
#include "proxy/exchange/exchange_parts.h"
#include "proxy/http/http_session_parts.h"
#include "routing/router.h"
#include "routing/snapshot.h"
#include "upstream/connection_pool.h"
#include "upstream/server_selector.h"

namespace sluice::proxy {

// Sessions pause reading one side when the other side has this much queued: bounded memory
// per session (TCP and HTTP, both directions).
constexpr size_t kHighWater = 256 * 1024;

// Process-wide counters, shared by all workers and read by the main thread.
struct ProcessCounters {
    std::atomic<int64_t> open_connections{0};
    std::atomic<uint64_t> accepted{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> client_aborts{0};   // HTTP requests whose client went away
    std::atomic<uint64_t> refused_per_ip{0};  // connections over max_connections_per_ip
    std::atomic<uint64_t> rate_limited{0};    // requests refused by a [[listener.rate_limit]]
};

// One snapshot as seen by one worker: selectors (balancer state) per pool and routers per listener.
struct WorkerSnapshot {
    WorkerSnapshot(uv_loop_t* loop, std::shared_ptr<const routing::Snapshot> snap, uint64_t seed);
    std::shared_ptr<const routing::Snapshot> snapshot;
    std::vector<std::unique_ptr<upstream::ServerSelector>> selectors;  // by pool index
    std::vector<std::unique_ptr<routing::Router>> routers;             // by listener index
    std::shared_ptr<const edge::EdgeLimits> limits;  // the process's limiter tables
};

class Session {
  public:
    virtual ~Session() = default;
    // Graceful stop: finish what is in flight, then close (keep-alive ends).
    virtual void drain() = 0;
    // Shutdown timeout expired: close now.
    virtual void abort() = 0;

  private:
    friend class ProxyContext;
    Session* prev_ = nullptr;
    Session* next_ = nullptr;
};

class ParkedHttpSessions;

class ProxyContext {
  public:
    ProxyContext(uv_loop_t* loop, ProcessCounters& counters);
    ~ProxyContext();

    uv_loop_t* loop() const { return loop_; }
    uint64_t now() const { return loop::now(loop_); }
    ProcessCounters& counters() { return counters_; }
    upstream::ConnectionPool& connectionPool() { return connection_pool_; }

    const std::shared_ptr<WorkerSnapshot>& current() const { return current_; }
    void adopt(std::shared_ptr<WorkerSnapshot> snapshot) { current_ = std::move(snapshot); }

    // The worker's per-connection timeouts (client header, body and idle timeouts) on one
    // libuv timer.
    loop::TimerQueue& timers() { return timers_; }
    // What HTTP/1.1 sessions borrow while a request is arriving or in flight.
    HttpSessionPartsPool& sessionParts() { return session_parts_; }
    // What exchanges borrow for their life (exchange_parts.h).
    ExchangePartsPool& exchangeParts() { return exchange_parts_; }
    // Objects that end inside their own callbacks (exchanges): deleted once the loop is back
    // in control.
    template <class T>
    void deleteLater(T* object) {
        retired_.deleteLater(object);
    }
    // Scratch for one formatting job that ends before the loop runs again (access log lines).
    std::string& scratch() { return scratch_; }

    // `counted`: the session is a new connection (open_connections up by one); false for a
    // parked connection's session coming back (http_session_park.h), which still counted.
    void add(Session& session, bool counted = true);
    // A session that ended (its connections closed, its timers stopped): out of the live list
    // now, deleted once the loop is back in control, so it may keep running until it returns.
    // `counted`: its connection ends (open_connections down by one); false when it was parked
    // (the ParkedHttpSessions record counts it now).
    void retire(Session& session, bool counted = true);
    // The worker's parked HTTP/1.1 keep-alive connections (made on first use). drainAll() and
    // abortAll() close them.
    ParkedHttpSessions& parkedSessions();
    bool draining() const { return draining_; }
    // Keep-alive ends; sessions drain at drainAll(). The exchange parts pool closes: nothing
    // pooled keeps the loop alive once the sessions are gone.
    void markDraining();
    void drainAll();
    void abortAll();

  private:
    uv_loop_t* loop_;
    ProcessCounters& counters_;
    loop::TimerQueue timers_;  // before anything whose timers are queued on it
    upstream::ConnectionPool connection_pool_;
    std::shared_ptr<WorkerSnapshot> current_;
    Session* head_ = nullptr;
    bool draining_ = false;
    std::string scratch_;
    ExchangePartsPool exchange_parts_;    // before retired_: retired exchanges give parts back
    HttpSessionPartsPool session_parts_;  // the same for retired sessions
    std::unique_ptr<ParkedHttpSessions> parked_;  // after timers_: records hold QueuedTimers
    loop::DeleteQueue retired_;                   // last: sessions still queued go before the rest
};

}  // namespace sluice::proxy
