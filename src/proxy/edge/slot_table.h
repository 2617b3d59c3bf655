#pragma once
// The table both edge limiters stand on: a fixed array of slots, each a key (KeyWords 64-bit
// words) and a 64-bit state word whose meaning is the limiter's, shared by all threads.
//
// Layout and lookup: a key lives in one of the Window slots from its home position (a hash of
// it, chosen by the limiter) on, wrapping at the end. A slot never returns to empty (state 0)
// once used, so an absent key is known at the first empty slot of its window or at its end.
//
// Concurrency (the contract the limiters build on):
//   - find() is lock-free: loads only. It returns the key's slot and the state it saw.
//   - The limiter then changes that state with a compare-and-swap from the state find() saw. If
//     the CAS succeeds, the slot held the key throughout: a slot only changes key through
//     handOver(), which first sets the state to kBusy, then writes the key, then publishes a new
//     state, so any hand-over that began after find()'s load makes the CAS fail. (The states a
//     limiter publishes carry a generation that changes at every hand-over, so the state cannot
//     come back to the same value: ABA would need 2^generation-bits hand-overs of that one slot
//     between a find() and its CAS.)
//   - Giving a slot to a new key happens only under stripe(home) of that key, after find() under
//     the same lock says the key is absent: claims of one key are serialized, so no key ever
//     holds two slots. Keys of other stripes may claim slots of the same window concurrently;
//     the CAS to kBusy decides who gets a slot. A kBusy slot seen under the lock belongs to
//     another stripe's key, never to the one being looked up.
//   - A limiter's states must never be 0 (empty) or kBusy once published.
//
// Memory order, and why no fences: the state is loaded with acquire (it publishes the key its
// hand-over stored before its release store of the state); the key words are stored with
// release after the kBusy CAS and loaded with acquire. If find() read a key word stored by a
// later hand-over, that store synchronizes with the load, so the hand-over's kBusy CAS happens
// before the caller's CAS, which (coherence) then sees kBusy or later and fails; a key read torn
// between two hand-overs fails the same way. (A seqlock's fences would do the same, but
// ThreadSanitizer cannot see fences and GCC refuses them under -fsanitize=thread; on x86-64
// acquire loads and release stores are plain moves anyway.)

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

namespace sluice::proxy::edge {

template <size_t KeyWords, size_t Window>
class SlotTable {
  public:
    using Key = std::array<uint64_t, KeyWords>;
    static constexpr size_t kWindow = Window;
    static constexpr size_t kStripes = 64;
    static constexpr uint64_t kEmpty = 0;
    static constexpr uint64_t kBusy = ~uint64_t{0};

    // At least kWindow slots. Allocates once, here: (KeyWords + 1) * 8 bytes per slot.
    explicit SlotTable(size_t capacity)
        : capacity_(std::max(capacity, kWindow)),
          slots_(new Slot[capacity_]),
          stripes_(new std::mutex[kStripes]) {}
    SlotTable(const SlotTable&) = delete;
    SlotTable& operator=(const SlotTable&) = delete;

    size_t capacity() const { return capacity_; }
    // The k-th slot (0 <= k < kWindow) of the window that starts at `home`.
    size_t at(size_t home, size_t k) const { return (home + k) % capacity_; }
    std::atomic<uint64_t>& state(size_t slot) { return slots_[slot].state; }
    uint64_t loadState(size_t slot) const {
        return slots_[slot].state.load(std::memory_order_acquire);
    }
    std::mutex& stripe(size_t home) { return stripes_[home % kStripes]; }

    // The slot holding `key` in the window at `home` and the state it was seen in, or -1 when
    // absent. Lock-free. May miss a slot in the middle of a hand-over: callers that need
    // certainty (before claiming) call it again under stripe(home).
    long find(const Key& key, size_t home, uint64_t* state) const {
        for (size_t k = 0; k < kWindow; ++k) {
            const size_t i = at(home, k);
            const Slot& slot = slots_[i];
            const uint64_t s = slot.state.load(std::memory_order_acquire);
            if (s == kEmpty) return -1;  // a key's slot always comes before the empty ones
            if (s == kBusy) continue;
            bool same = true;
            for (size_t w = 0; w < KeyWords; ++w) {
                same = slot.key[w].load(std::memory_order_acquire) == key[w] && same;
            }
            if (same) {
                *state = s;
                return static_cast<long>(i);
            }
        }
        return -1;
    }

    // Under stripe(home of `key`), with `key` absent: gives `slot`, last seen in state `seen`
    // (not kBusy), to `key` with state `fresh`. False when the slot changed since it was seen
    // (the caller picks again).
    bool handOver(size_t slot, uint64_t seen, const Key& key, uint64_t fresh) {
        Slot& s = slots_[slot];
        if (!s.state.compare_exchange_strong(seen, kBusy, std::memory_order_relaxed)) return false;
        for (size_t w = 0; w < KeyWords; ++w) s.key[w].store(key[w], std::memory_order_release);
        s.state.store(fresh, std::memory_order_release);
        return true;
    }

  private:
    struct Slot {
        std::atomic<uint64_t> key[KeyWords] = {};
        std::atomic<uint64_t> state{kEmpty};
    };

    size_t capacity_;
    std::unique_ptr<Slot[]> slots_;
    std::unique_ptr<std::mutex[]> stripes_;
};

}  // namespace sluice::proxy::edge
