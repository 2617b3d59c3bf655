#pragma once
// max_connections_per_ip: open connections per client address, counted for a whole process (all
// workers share one table per listener), exactly, in memory fixed at construction.
//
// Use (on a worker, right after accept, before any read):
//   auto admission = limiter.tryAcquire(client, listener.max_connections_per_ip, loop::now(loop));
//   if (!admission.admitted) { if (admission.log_refusal) LOG_WARN(...); count it; close; }
//   else session keeps admission.lease until the connection ends (its destructor frees the slot).
//
// Contract:
//   - Any thread, concurrently. `limit` >= 1 (0 = unlimited is the caller's: don't call), at most
//     kMaxLimit; it comes with each call, so a reload may change it without touching the table.
//   - Exact: an address holds one slot, its count is the number of live leases for it, and
//     tryAcquire admits only while that count is below `limit`, under any interleaving of
//     threads. A slot frees (for another address) when its count drops to zero.
//   - Bounded: `capacity` slots of 24 bytes, allocated once. An address may use the 16 slots
//     from its hash's position on, or else the 16 from a second position (two choices: far
//     fewer full windows than one longer window); when all 32 are held by other addresses with
//     open connections the connection is admitted *untracked* (fail open: an empty lease,
//     counted in untrackedAdmissions()) rather than refused: full windows mean a crowd of
//     distinct clients, and refusing an innocent one would be worse than not limiting it. Size
//     the table for that not to happen: capacity >= 2 x the connections the process may hold
//     open (each has one address, so the table is at most half full; the unit test
//     ConnectionLimiter.HalfFullTableNeverOverflows fills one so, with no overflow; one window
//     of 16 overflowed 16 times in 65,536). 131,072 slots (max_connections = 65536) = 3 MiB.
//   - log_refusal is true for at most one refusal per address per second (loop clock, ms), so
//     a client hammering a full address cannot flood the log.
//   - A Lease must not outlive its limiter: keep the limiter in the snapshot the session holds
//     (it then lives as long as the session), and carry it across reloads with
//     LimiterRegistry (limiter_registry.h) so old and new connections of a listener count in the
//     same table.
//
// Why lock-free on the common path: every accept and every close of a limited listener touches
// the table, from every worker. Finding an address's slot and moving its count are plain loads
// and one compare-and-swap on the slot's state word; releasing is one fetch_sub. Only giving a
// slot to a new address takes a lock (one of 64 mutexes, by the address's first position, held
// for a scan of its two windows): that is what keeps one address from ever getting two slots,
// which would split its count (slot_table.h has the protocol and why it is exact; all claims of
// an address are made under its first position's lock, whichever window gets the slot).

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "proxy/edge/client_address.h"
#include "proxy/edge/keyed_hash.h"
#include "proxy/edge/slot_table.h"

namespace sluice::proxy::edge {

class ConnectionLimiter {
  public:
    static constexpr uint32_t kMaxLimit = (1u << 24) - 2;

    // Holds one counted connection; releases it when destroyed (or by release()). Move-only.
    class Lease {
      public:
        Lease() = default;
        Lease(Lease&& other) noexcept : limiter_(other.limiter_), slot_(other.slot_) {
            other.limiter_ = nullptr;
        }
        Lease& operator=(Lease&& other) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { release(); }

        void release();
        // False for an empty lease (refused, untracked, released, moved from).
        bool tracked() const { return limiter_ != nullptr; }

      private:
        friend class ConnectionLimiter;
        Lease(ConnectionLimiter* limiter, size_t slot) : limiter_(limiter), slot_(slot) {}
        ConnectionLimiter* limiter_ = nullptr;
        size_t slot_ = 0;
    };

    struct Admission {
        bool admitted = false;
        bool log_refusal = false;  // refused, and the first refusal of this address this second
        Lease lease;               // tracked when admitted into a slot
    };

    // `capacity` slots (at least 16); a random hash secret unless `hash` is given (tests).
    explicit ConnectionLimiter(size_t capacity);
    ConnectionLimiter(size_t capacity, KeyedHash hash);
    ConnectionLimiter(const ConnectionLimiter&) = delete;
    ConnectionLimiter& operator=(const ConnectionLimiter&) = delete;

    [[nodiscard]] Admission tryAcquire(const ClientAddress& client, uint32_t limit,
                                       uint64_t now_ms);

    // Open connections counted for `client` (a racy snapshot while others run; exact when
    // quiescent). For tests and the status page.
    uint32_t count(const ClientAddress& client) const;
    uint64_t untrackedAdmissions() const { return untracked_.load(std::memory_order_relaxed); }
    size_t capacity() const { return table_.capacity(); }

  private:
    // A slot's state: [generation 1-255:8 | count:24 | last logged refusal, ms mod 2^32:32].
    using Table = SlotTable<2, 16>;

    struct Homes {
        size_t first, second;  // where the address's two windows start
    };
    Homes homes(const ClientAddress& client) const;
    long find(const Table::Key& key, const Homes& homes, uint64_t* state) const;
    // Under the first home's stripe lock: a slot handed to `key` with its first connection
    // counted; -2 when the address turns out to have a slot already, -1 when no slot of its
    // windows is free.
    long claim(const Table::Key& key, const Homes& homes);
    // One attempt on `slot` seen in `state`: admits, refuses, or returns false to retry.
    bool tryAdmit(size_t slot, uint64_t state, uint32_t limit, uint64_t now_ms, Admission* out);
    void releaseSlot(size_t slot);

    KeyedHash hash_;
    Table table_;
    std::atomic<uint64_t> untracked_{0};
};

}  // namespace sluice::proxy::edge
