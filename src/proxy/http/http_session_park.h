#pragma once
// Parked HTTP/1.1 keep-alive client connections of one worker (issue 16: an idle connection in
// a couple of hundred bytes). An HttpSession idle between requests for kParkGraceMs, with more
// of its idle_timeout left, gives up its HttpSession, TcpConnection and libuv handle; what stays
// is one ParkedHttpSession record in this slab: the socket with its addresses and counters
// (net::TcpConnection::Parked), the session's snapshot, listener and max_connections_per_ip
// lease, and its idle deadline (a QueuedTimer on the worker's TimerQueue). Every parked socket
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

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
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
    struct Record {
        Record(ParkedHttpSessions& owner, uint32_t slot);
        ParkedHttpSessions* owner;
        net::TcpConnection::Parked socket;
        std::shared_ptr<WorkerSnapshot> snap;
        edge::ConnectionLimiter::Lease lease;
        loop::QueuedTimer idle;
        uint64_t idle_deadline = 0;  // loop time
        uint32_t slot;
        uint32_t serial = 0;  // with the slot, the epoll cookie
        uint32_t listener = 0;
        bool redirect = false;
    };
    static constexpr uint32_t kChunkRecords = 256;
    struct Chunk {
        std::optional<Record> records[kChunkRecords];
    };

    static void onReady(void* self, uint64_t cookie);
    static void onIdleTimeout(void* record);
    Record* find(uint32_t slot);
    void resume(Record& r);
    // The socket's end while parked: the accounting of HttpSession::finish().
    void close(Record& r);
    void release(Record& r);
    void trimSoon();

    ProxyContext& ctx_;
    loop::EpollSet epoll_;
    loop::Timer trim_;
    std::vector<std::unique_ptr<Chunk>> chunks_;
    std::vector<uint32_t> free_;  // free slots, the lowest last
    size_t count_ = 0;
    uint32_t next_serial_ = 1;
    size_t parked_since_trim_ = 0;
};

}  // namespace sluice::proxy
