#include "proxy/proxy_context.h"

#include "proxy/http/http_session_park.h"

namespace sluice::proxy {

WorkerSnapshot::WorkerSnapshot(uv_loop_t* loop, std::shared_ptr<const routing::Snapshot> snap,
                               uint64_t seed)
    : snapshot(std::move(snap)),
      limits(edge::EdgeLimits::forGeneration(*snapshot->config, snapshot->generation)) {
    for (const auto& pool : snapshot->pools) {
        selectors.push_back(std::make_unique<upstream::ServerSelector>(loop, pool, seed++));
    }
    for (const auto& listener : snapshot->config->listeners) {
        routers.push_back(std::make_unique<routing::Router>(listener, *snapshot));
    }
}

ProxyContext::ProxyContext(uv_loop_t* loop, ProcessCounters& counters)
    : loop_(loop),
      counters_(counters),
      timers_(loop),
      connection_pool_(loop),
      exchange_parts_(loop),
      retired_(loop) {}

ProxyContext::~ProxyContext() = default;

ParkedHttpSessions& ProxyContext::parkedSessions() {
    if (!parked_) parked_ = std::make_unique<ParkedHttpSessions>(*this);
    return *parked_;
}

void ProxyContext::add(Session& session, bool counted) {
    session.next_ = head_;
    session.prev_ = nullptr;
    if (head_) head_->prev_ = &session;
    head_ = &session;
    if (counted) counters_.open_connections.fetch_add(1, std::memory_order_relaxed);
}

void ProxyContext::retire(Session& session, bool counted) {
    if (session.prev_) session.prev_->next_ = session.next_;
    if (session.next_) session.next_->prev_ = session.prev_;
    if (head_ == &session) head_ = session.next_;
    session.prev_ = session.next_ = nullptr;
    if (counted) counters_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    retired_.deleteLater(&session);
}

void ProxyContext::markDraining() {
    draining_ = true;
    exchange_parts_.close();
}

void ProxyContext::drainAll() {
    markDraining();
    connection_pool_.closeAll();
    if (parked_) parked_->closeAll();  // idle: closed as idle sessions are
    // drain() may end (and remove) the session itself: step before calling.
    for (Session* s = head_; s;) {
        Session* next = s->next_;
        s->drain();
        s = next;
    }
}

void ProxyContext::abortAll() {
    exchange_parts_.close();
    for (Session* s = head_; s;) {
        Session* next = s->next_;
        s->abort();
        s = next;
    }
    if (parked_) parked_->closeAll();
    connection_pool_.closeAll();
}

}  // namespace sluice::proxy
