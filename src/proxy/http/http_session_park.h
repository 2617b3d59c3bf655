#pragma once
// Parked HTTP/1.1 keep-alive client connections of one worker (issue 16: an idle connection in
// a couple of hundred bytes). An HttpSession idle between requests for kParkGraceMs, with more
// of its idle_timeout left, gives up its HttpSession, TcpConnection and libuv handle; what stays
// is one ParkedHttpSession record in this slab: the socket with its addresses and counters
// (net::TcpConnection::Parked), the session's snapshot, listener and max_connections_per_ip
// lease, and its idle deadline (in a lane of this slab, behind ONE QueuedTimer on the worker's
// TimerQueue). Every parked socket
// is watched by the worker's one loop::EpollSet. TLS and HTTP/2 connections are never parked.
//
// Contract:
// - Bytes, EOF or an error on a parked socket: the session is rebuilt (HttpSession::resume)
//   and reads the socket as the original session would have, with what is left of its idle
//   timeout; requests, the access log, metrics and counters see one connection throughout.
// - The idle deadline, closeAll() (drain, abort) or destruction: the socket is closed (FIN,
//   as an idle session's finish() does) with a finish()'s accounting: connectionClosed
//   metrics with the connection's byte counts, the lease released, open_connections down by
//   one. A parked connection still counts in ProcessCounters::open_connections (so toward
//   max_connections) and holds its per-address slot.
// - Records live in fixed chunks (no malloc per connection); the chunks are freed when the
//   last parked connection leaves. After a run of parkings malloc_trim hands the memory the
//   released sessions held back to the system (RSS, not just the allocator, goes down).
// Loop thread only; owned by the ProxyContext, destroyed before its TimerQueue.

#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "loop/epoll_set.h"
#include "loop/timer.h"
#include "loop/timer_queue.h"
#include "net/tcp_connection.h"
#include "proxy/edge/connection_limiter.h"

namespace sluice::proxy {

class ProxyContext;
struct WorkerSnapshot;

// How long a keep-alive connection stays a whole session after a response before it parks.
constexpr uint64_t kParkGraceMs = 1000;

class ParkedHttpSessions {
  public:
    explicit ParkedHttpSessions(ProxyContext& ctx);
    ~ParkedHttpSessions();  // closeAll()
    ParkedHttpSessions(const ParkedHttpSessions&) = delete;
    ParkedHttpSessions& operator=(const ParkedHttpSessions&) = delete;

    // Parks `client`'s socket (see TcpConnection::parkSocket) with the session's state; the
    // lease moves in. True: the caller destroys `client` and ends its session without its own
    // accounting. False: nothing changed (not parkable, out of descriptors, epoll refused).
    [[nodiscard]] bool park(const net::TcpConnection& client,
                            const std::shared_ptr<WorkerSnapshot>& snap, size_t listener,
                            bool redirect, edge::ConnectionLimiter::Lease& lease,
                            uint64_t idle_left_ms);
    // Closes every parked connection (drain, abort).
    void closeAll();
    size_t size() const { return count_; }

  private:
    static constexpr uint32_t kNone = UINT32_MAX;
    // One parked connection: 144 bytes. In use while serial != 0.
    struct Record {
        net::TcpConnection::Parked socket;
        std::shared_ptr<WorkerSnapshot> snap;
        edge::ConnectionLimiter::Lease lease;
        uint64_t idle_deadline = 0;  // loop time
        uint32_t prev = kNone;       // the neighbours in its deadline lane (slots)
        uint32_t next = kNone;
        uint32_t serial = 0;  // with the slot, the epoll cookie; 0: free
        uint16_t listener = 0;
        uint8_t lane = 0;
        bool redirect = false;
    };
    // Records of one idle_left duration, in parking order, so in deadline order: the head is
    // the next to expire (as in loop::TimerQueue, with slot numbers for links).
    struct Lane {
        uint64_t duration_ms;
        uint32_t head = kNone;
        uint32_t tail = kNone;
    };
    static constexpr uint32_t kChunkRecords = 256;
    struct Chunk {
        Record records[kChunkRecords];
    };

    static void onReady(void* self, uint64_t cookie);
    static void onIdleTimer(void* self);
    Record& at(uint32_t slot) {
        return chunks_[slot / kChunkRecords]->records[slot % kChunkRecords];
    }
    Record* find(uint32_t slot);
    // Deadline lanes: link at the tail, unlink anywhere, arm idle_timer_ for the earliest head.
    uint8_t laneFor(uint64_t duration_ms);
    void link(uint32_t slot);
    void unlink(uint32_t slot);
    void arm();
    void expire();
    void resume(uint32_t slot);
    // The socket's end while parked: the accounting of HttpSession::finish().
    void close(uint32_t slot);
    void release(uint32_t slot);
    void trimSoon();

    ProxyContext& ctx_;
    loop::EpollSet epoll_;
    loop::Timer trim_;
    loop::QueuedTimer idle_timer_;  // the earliest idle deadline of all lanes
    std::vector<Lane> lanes_;       // few: one per idle_timeout in the configuration
    std::vector<std::unique_ptr<Chunk>> chunks_;
    std::vector<uint32_t> free_;  // free slots, the lowest last
    size_t count_ = 0;
    uint32_t next_serial_ = 1;
    size_t parked_since_trim_ = 0;
};

}  // namespace sluice::proxy
