#include "proxy/edge/connection_limiter.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace sluice::proxy::edge {
namespace {

constexpr uint64_t kConnOne = uint64_t{1} << 32;  // one connection in the count field

uint32_t connCount(uint64_t state) { return static_cast<uint32_t>((state >> 32) & 0xFFFFFFu); }
uint64_t connGeneration(uint64_t state) { return state >> 56; }
uint32_t connLastLog(uint64_t state) { return static_cast<uint32_t>(state); }

SlotTable<2, 16>::Key connKey(const ClientAddress& a) {
    SlotTable<2, 16>::Key key;
    std::memcpy(key.data(), a.bytes.data(), 16);
    return key;
}

}  // namespace

ConnectionLimiter::Lease& ConnectionLimiter::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        limiter_ = other.limiter_;
        slot_ = other.slot_;
        other.limiter_ = nullptr;
    }
    return *this;
}

void ConnectionLimiter::Lease::release() {
    if (limiter_ == nullptr) return;
    limiter_->releaseSlot(slot_);
    limiter_ = nullptr;
}

ConnectionLimiter::ConnectionLimiter(size_t capacity)
    : ConnectionLimiter(capacity, KeyedHash::random()) {}

ConnectionLimiter::ConnectionLimiter(size_t capacity, KeyedHash hash)
    : hash_(hash), table_(capacity) {}

ConnectionLimiter::Homes ConnectionLimiter::homes(const ClientAddress& client) const {
    const uint64_t h = hash_(client.view());
    // The second position from the same hash, remixed (Fibonacci hashing's odd multiplier).
    return {reduceToRange(h, table_.capacity()),
            reduceToRange(h * 0x9E3779B97F4A7C15ull, table_.capacity())};
}

long ConnectionLimiter::find(const Table::Key& key, const Homes& homes, uint64_t* state) const {
    // An address goes to its second window only when its first had no free slot; the first's
    // slots never become empty again, so its scan cannot stop short of the end then.
    const long i = table_.find(key, homes.first, state);
    return i >= 0 ? i : table_.find(key, homes.second, state);
}

long ConnectionLimiter::claim(const Table::Key& key, const Homes& homes) {
    for (;;) {
        uint64_t s = 0;
        if (find(key, homes, &s) >= 0) return -2;
        // Any slot without open connections will do (never used, or its address has left),
        // in the first window, else in the second.
        long victim = -1;
        uint64_t seen = 0;
        for (size_t k = 0; k < 2 * Table::kWindow && victim < 0; ++k) {
            const size_t home = k < Table::kWindow ? homes.first : homes.second;
            const size_t i = table_.at(home, k % Table::kWindow);
            seen = table_.loadState(i);
            if (seen != Table::kBusy && connCount(seen) == 0) victim = static_cast<long>(i);
        }
        if (victim < 0) return -1;
        const uint64_t generation = connGeneration(seen) % 255 + 1;  // 1-255: never 0
        if (table_.handOver(static_cast<size_t>(victim), seen, key,
                            (generation << 56) | kConnOne)) {
            return victim;
        }
        // Revived by its own address, or taken for another stripe's: pick again.
    }
}

bool ConnectionLimiter::tryAdmit(size_t slot, uint64_t state, uint32_t limit, uint64_t now_ms,
                                 Admission* out) {
    std::atomic<uint64_t>& word = table_.state(slot);
    if (connCount(state) < limit) {
        if (!word.compare_exchange_strong(state, state + kConnOne, std::memory_order_relaxed)) {
            return false;
        }
        out->admitted = true;
        out->lease = Lease(this, slot);
        return true;
    }
    // Refused: logged only when this address's last logged refusal is a second old or more.
    out->admitted = false;
    const uint32_t now32 = std::max<uint32_t>(static_cast<uint32_t>(now_ms), 1);  // 0 = never
    const uint32_t last = connLastLog(state);
    if (last != 0 && static_cast<uint32_t>(now32 - last) < 1000) return true;
    const uint64_t logged = (state & ~uint64_t{0xFFFFFFFFu}) | now32;
    if (!word.compare_exchange_strong(state, logged, std::memory_order_relaxed)) return false;
    out->log_refusal = true;
    return true;
}

ConnectionLimiter::Admission ConnectionLimiter::tryAcquire(const ClientAddress& client,
                                                           uint32_t limit, uint64_t now_ms) {
    limit = std::clamp<uint32_t>(limit, 1, kMaxLimit);
    const Table::Key key = connKey(client);
    const Homes h = homes(client);
    for (;;) {
        Admission out;
        uint64_t s = 0;
        const long i = find(key, h, &s);
        if (i >= 0) {
            if (tryAdmit(static_cast<size_t>(i), s, limit, now_ms, &out)) return out;
            continue;  // the state moved under us: look again
        }
        std::lock_guard<std::mutex> lock(table_.stripe(h.first));
        const long claimed = claim(key, h);
        if (claimed == -2) continue;  // it had a slot after all (mid-hand-over when we looked)
        out.admitted = true;
        if (claimed >= 0) {
            out.lease = Lease(this, static_cast<size_t>(claimed));
        } else {
            // Every slot of both windows holds another address with open connections: fail open.
            untracked_.fetch_add(1, std::memory_order_relaxed);
        }
        return out;
    }
}

uint32_t ConnectionLimiter::count(const ClientAddress& client) const {
    uint64_t s = 0;
    return find(connKey(client), homes(client), &s) >= 0 ? connCount(s) : 0;
}

void ConnectionLimiter::releaseSlot(size_t slot) {
    // A lease keeps the count above zero, so the slot can be neither handed over (that needs
    // zero) nor busy: a plain decrement of the count field.
    table_.state(slot).fetch_sub(kConnOne, std::memory_order_relaxed);
}

}  // namespace sluice::proxy::edge
