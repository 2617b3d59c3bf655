#pragma once
// Per-writer counters and gauges for the data path: no locks, no shared cache lines, no
// allocation after construction.
//
// A PerWriter<T, N> holds one slot per writer thread (the workers, plus the main thread when a
// scope needs it: by convention its slot index is the worker count). A slot is N atomics of T,
// aligned to and padded to a multiple of a 64-byte cache line, so two writers never write the same
// line (no false sharing: a worker's increment never invalidates another core's cache).
//
// Contract:
//   - add(slot, i, n) is called only by the one thread that owns `slot` (its single writer).
//     Nothing checks this in release builds; two writers on one slot would lose updates.
//   - value(), sum() may be called by any thread at any time. sum() reads each slot once with a
//     relaxed load: it is exact once the writers are quiescent; while they run each slot's part
//     is a value that slot really held (never torn), so a counter's sum never goes down between two
//     reads by one thread.
//   - The number of slots is fixed at construction; slot indexes are checked by assert only.
//
// Why a relaxed load + store and not fetch_add: with a single writer no other thread can change
// the slot between our load and our store, so the read-modify-write needs no atomicity, only
// the store must be atomic so that readers never see a torn value. On x86-64 the pair compiles to
// plain mov/add/mov, where fetch_add is a `lock xadd` (a full barrier, some 20 cycles, that also
// stops the core's other memory work). Relaxed order is enough because a counter publishes no
// other data: readers want the number, not a happens-before edge.
//
// Counters use T = uint64_t (WorkerCounters<N>): they only go up, wrap-around is out of reach
// (2^64 requests). Gauges use T = int64_t (WorkerGauges<N>): a worker's part may go negative
// when something opened on one writer is closed on another; the sum is what matters.

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace sluice::metrics {

inline constexpr size_t kCacheLineBytes = 64;

template <typename T, size_t N>
struct alignas(kCacheLineBytes) WriterSlot {
    static_assert(N > 0);
    std::atomic<T> values[N];  // value-initialized (zero) by std::atomic's C++20 constructor
};

template <typename T, size_t N>
class PerWriter {
  public:
    static_assert(std::is_integral_v<T>);
    static_assert(std::atomic<T>::is_always_lock_free);
    using Slot = WriterSlot<T, N>;
    static constexpr size_t kValues = N;

    // `writers` slots, all zero. Allocates once, here.
    explicit PerWriter(size_t writers) : slots_(new Slot[writers]()), writers_(writers) {
        assert(writers > 0);
    }
    PerWriter(const PerWriter&) = delete;
    PerWriter& operator=(const PerWriter&) = delete;

    size_t writers() const { return writers_; }

    // Single writer of `slot` only.
    void add(size_t slot, size_t index, T n = 1) {
        assert(slot < writers_ && index < N);
        std::atomic<T>& v = slots_[slot].values[index];
        v.store(static_cast<T>(v.load(std::memory_order_relaxed) + n), std::memory_order_relaxed);
    }

    // Any thread.
    T value(size_t slot, size_t index) const {
        assert(slot < writers_ && index < N);
        return slots_[slot].values[index].load(std::memory_order_relaxed);
    }
    // Any thread: the sum over all slots of value `index`.
    T sum(size_t index) const {
        assert(index < N);
        T total = 0;
        for (size_t s = 0; s < writers_; ++s) {
            total = static_cast<T>(total + slots_[s].values[index].load(std::memory_order_relaxed));
        }
        return total;
    }

    // For tests and sizing checks.
    const Slot* slotAddress(size_t slot) const { return &slots_[slot]; }

  private:
    std::unique_ptr<Slot[]> slots_;
    size_t writers_;
};

template <size_t N>
using WorkerCounters = PerWriter<uint64_t, N>;
template <size_t N>
using WorkerGauges = PerWriter<int64_t, N>;

}  // namespace sluice::metrics
