#include "proxy/http/http_session_park.h"

#include <unistd.h>

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "base/log.h"
#include "metrics/generation_stats.h"
#include "proxy/http/http_session.h"
#include "proxy/proxy_context.h"

namespace sluice::proxy {
namespace {

// Parkings since the last trim that make another worthwhile, and how long to let a sweep of
// the timer queue (many sessions parking at once) finish before trimming.
constexpr size_t kTrimAfterParkings = 64;
constexpr uint64_t kTrimDelayMs = 100;
// Spare HttpSessionParts left in the worker's pool at a trim.
constexpr size_t kKeptParts = 16;

}  // namespace

ParkedHttpSessions::ParkedHttpSessions(ProxyContext& ctx)
    : ctx_(ctx),
      epoll_(ctx.loop(), &ParkedHttpSessions::onReady, this),
      trim_(ctx.loop(),
            [this] {
                // The sessions' parts the worker keeps for busy connections go too (as many as
                // were in flight at once); the next requests make new ones.
                ctx_.sessionParts().shrink(kKeptParts);
#if defined(__GLIBC__)
                malloc_trim(0);
#endif
            }),
      idle_timer_(ctx.timers(), &ParkedHttpSessions::onIdleTimer, this) {
}

ParkedHttpSessions::~ParkedHttpSessions() { closeAll(); }

bool ParkedHttpSessions::park(const net::TcpConnection& client,
                              const std::shared_ptr<WorkerSnapshot>& snap, size_t listener,
                              bool redirect, edge::ConnectionLimiter::Lease& lease,
                              uint64_t idle_left_ms) {
    if (listener > UINT16_MAX) return false;
    const uint8_t lane = laneFor(idle_left_ms);
    if (lane == UINT8_MAX) return false;  // more distinct idle timeouts than lanes
    net::TcpConnection::Parked socket;
    if (!client.parkSocket(socket)) return false;
    if (free_.empty()) {
        const auto base = static_cast<uint32_t>(chunks_.size() * kChunkRecords);
        chunks_.push_back(std::make_unique<Chunk>());
        for (uint32_t i = kChunkRecords; i > 0; --i) free_.push_back(base + i - 1);
    }
    const uint32_t slot = free_.back();
    if (++next_serial_ == 0) next_serial_ = 1;  // 0 marks a free record
    const uint32_t serial = next_serial_;
    if (!epoll_.add(socket.fd, (static_cast<uint64_t>(serial) << 32) | slot)) {
        ::close(socket.fd);
        return false;
    }
    free_.pop_back();
    Record& r = at(slot);
    r.socket = socket;
    r.snap = snap;
    r.lease = std::move(lease);
    r.listener = static_cast<uint16_t>(listener);
    r.redirect = redirect;
    r.serial = serial;
    r.lane = lane;
    r.idle_deadline = ctx_.now() + idle_left_ms;
    link(slot);
    ++count_;
    if (++parked_since_trim_ >= kTrimAfterParkings) trimSoon();
    return true;
}

void ParkedHttpSessions::trimSoon() {
    if (trim_.active()) return;
    parked_since_trim_ = 0;
    trim_.start(kTrimDelayMs);
}

ParkedHttpSessions::Record* ParkedHttpSessions::find(uint32_t slot) {
    if (slot / kChunkRecords >= chunks_.size()) return nullptr;
    Record& r = at(slot);
    return r.serial != 0 ? &r : nullptr;
}

uint8_t ParkedHttpSessions::laneFor(uint64_t duration_ms) {
    for (size_t i = 0; i < lanes_.size(); ++i) {
        if (lanes_[i].duration_ms == duration_ms) return static_cast<uint8_t>(i);
    }
    if (lanes_.size() >= UINT8_MAX) return UINT8_MAX;
    lanes_.push_back(Lane{duration_ms});
    return static_cast<uint8_t>(lanes_.size() - 1);
}

void ParkedHttpSessions::link(uint32_t slot) {
    Record& r = at(slot);
    Lane& lane = lanes_[r.lane];
    r.prev = lane.tail;
    r.next = kNone;
    if (lane.tail != kNone) {
        at(lane.tail).next = slot;
    } else {
        lane.head = slot;
    }
    lane.tail = slot;
    if (lane.head == slot) arm();  // a lane's first: maybe the earliest deadline now
}

void ParkedHttpSessions::unlink(uint32_t slot) {
    Record& r = at(slot);
    Lane& lane = lanes_[r.lane];
    (r.prev != kNone ? at(r.prev).next : lane.head) = r.next;
    (r.next != kNone ? at(r.next).prev : lane.tail) = r.prev;
    r.prev = r.next = kNone;
    // A later head fires later: the timer finds out when it fires (expire() re-arms), as
    // TimerQueue does; only an empty slab stops it.
}

void ParkedHttpSessions::arm() {
    uint64_t earliest = UINT64_MAX;
    for (const Lane& lane : lanes_) {
        if (lane.head != kNone) earliest = std::min(earliest, at(lane.head).idle_deadline);
    }
    if (earliest == UINT64_MAX) return idle_timer_.stop();
    const uint64_t now = ctx_.now();
    idle_timer_.start(earliest > now ? earliest - now : 1);
}

void ParkedHttpSessions::onIdleTimer(void* self) {
    static_cast<ParkedHttpSessions*>(self)->expire();
}

void ParkedHttpSessions::expire() {
    const uint64_t now = ctx_.now();
    for (size_t i = 0; i < lanes_.size() && count_ > 0; ++i) {
        while (count_ > 0 && lanes_[i].head != kNone && at(lanes_[i].head).idle_deadline <= now) {
            const uint32_t slot = lanes_[i].head;
            epoll_.remove(at(slot).socket.fd);
            ::close(at(slot).socket.fd);
            close(slot);  // unlinks it
        }
    }
    if (count_ > 0) arm();
}

void ParkedHttpSessions::onReady(void* self, uint64_t cookie) {
    auto* parked = static_cast<ParkedHttpSessions*>(self);
    const auto slot = static_cast<uint32_t>(cookie);
    Record* r = parked->find(slot);
    // A socket that left earlier in this batch (its slot empty or someone else's now).
    if (!r || r->serial != static_cast<uint32_t>(cookie >> 32)) return;
    parked->resume(slot);
}

void ParkedHttpSessions::resume(uint32_t slot) {
    Record& r = at(slot);
    epoll_.remove(r.socket.fd);
    const uint64_t now = ctx_.now();
    const uint64_t left = r.idle_deadline > now ? r.idle_deadline - now : 1;
    net::TcpConnection* conn = net::TcpConnection::unpark(ctx_.loop(), r.socket);
    if (!conn) return close(slot);  // the socket is closed
    HttpSession::resume(ctx_, conn, std::move(r.snap), std::move(r.lease), r.listener, r.redirect,
                        left);
    release(slot);
}

void ParkedHttpSessions::close(uint32_t slot) {
    Record& r = at(slot);
    metrics::connectionClosed(r.snap->snapshot->stats.get(), r.listener, r.socket.bytes_read,
                              r.socket.bytes_written);
    r.lease.release();
    ctx_.counters().open_connections.fetch_sub(1, std::memory_order_relaxed);
    release(slot);
}

void ParkedHttpSessions::release(uint32_t slot) {
    unlink(slot);
    Record& r = at(slot);
    r = Record{};  // snapshot and lease references go; serial 0: free
    free_.push_back(slot);
    if (--count_ == 0) {
        // Nobody parked: the slab goes (a later parking makes a chunk again).
        idle_timer_.stop();
        chunks_.clear();
        chunks_.shrink_to_fit();
        free_.clear();
        free_.shrink_to_fit();
    }
}

void ParkedHttpSessions::closeAll() {
    // close() frees the slab with the last record: count_, not the chunks, bounds the walk.
    for (uint32_t slot = 0; count_ > 0 && slot / kChunkRecords < chunks_.size(); ++slot) {
        Record* r = find(slot);
        if (!r) continue;
        epoll_.remove(r->socket.fd);
        ::close(r->socket.fd);
        close(slot);
    }
}

}  // namespace sluice::proxy

// ---------------------------------------------------------------------------------------------
// HttpSession's side of parking

namespace sluice::proxy {

void HttpSession::startIdleTimer() {
    const auto idle = static_cast<uint64_t>(listener_->idle_timeout.count());
    // Only a plain connection parks; TLS ones (and short idle timeouts) wait it out whole.
    idle_grace_ = idle > kParkGraceMs && client_->tls() == nullptr;
    client_timer_.start(idle_grace_ ? kParkGraceMs : idle);
}

bool HttpSession::park() {
    if (finished_ || state_ != State::kIdle || !client_ || tunnel_ || exchange_ || hasClientIn() ||
        feed_depth_ > 0 || draining_ || ctx_.draining() || !client_->parkable()) {
        return false;
    }
    const uint64_t idle_left =
        static_cast<uint64_t>(listener_->idle_timeout.count()) - kParkGraceMs;
    if (!ctx_.parkedSessions().park(*client_, snap_, listener_index_, redirect_, lease_,
                                    idle_left)) {
        return false;
    }
    LOG_DEBUG("client %s: parked (idle for %llu ms more)", client_->peerAddress().c_str(),
              static_cast<unsigned long long>(idle_left));
    // The record has the socket and the accounting: this session ends without a finish().
    finished_ = true;
    client_timer_.stop();
    releaseParts();
    std::exchange(client_, nullptr)->destroy();  // the socket stays open through the record's copy
    ctx_.retire(*this, /*counted=*/false);
    return true;
}

void HttpSession::resume(ProxyContext& ctx, net::TcpConnection* client,
                         std::shared_ptr<WorkerSnapshot> snap, edge::ConnectionLimiter::Lease lease,
                         size_t listener, bool redirect, uint64_t idle_left_ms) {
    new HttpSession(ctx, client, std::move(snap), std::move(lease), listener, redirect,
                    idle_left_ms);
}

HttpSession::HttpSession(ProxyContext& ctx, net::TcpConnection* client,
                         std::shared_ptr<WorkerSnapshot> snap, edge::ConnectionLimiter::Lease lease,
                         size_t listener, bool redirect, uint64_t idle_left_ms)
    : ctx_(ctx),
      snap_(std::move(snap)),
      lease_(std::move(lease)),
      listener_index_(listener),
      listener_(&snap_->snapshot->config->listeners[listener]),
      client_(client),
      redirect_(redirect),
      client_timer_(ctx.timers(), &HttpSession::onClientTimer, this) {
    ctx_.add(*this, /*counted=*/false);
    protocol_known_ = true;       // it served HTTP/1.x before parking
    requests_on_connection_ = 1;  // (at least): the next request may take a newer snapshot
    client_->setHandler(this);
    client_->startReading();
    client_timer_.start(idle_left_ms);  // what is left of idle_timeout (no second grace)
}

}  // namespace sluice::proxy
