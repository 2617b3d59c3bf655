#pragma once
// A configured upstream server and its shared runtime state.
//
// ServerState outlives configuration snapshots: it is keyed by pool + server name and carried
// over a reload, so health, admin state and counters survive. Every field is atomic; workers and
// the main thread read and write it without locks.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "upstream/admin_state.h"

namespace sluice::upstream {

struct ServerState {
    std::atomic<AdminState> admin{AdminState::kReady};
    std::atomic<bool> healthy{true};            // active health check verdict (true without one)
    std::atomic<uint64_t> ejected_until_ms{0};  // passive ejection, loop clock of any worker
    std::atomic<unsigned> weight{1};            // current (runtime-overridable) weight
    std::atomic<uint32_t> active{0};            // requests/sessions in flight, all workers
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> failures{0};
    std::atomic<uint32_t> consecutive_failures{0};  // passive health: reset by a success
    std::atomic<uint64_t> ejections{0};
    // Slow start: when the server last became available (added, health up, admin back to
    // ready), loop clock; 0 = available from the start. An ejection's end also restarts the
    // ramp (rampFromMs()).
    std::atomic<uint64_t> ramp_from_ms{0};
    // Time to first response byte (HTTP), for `show stats`.
    std::atomic<uint64_t> latency_count{0};
    std::atomic<uint64_t> latency_sum_ms{0};
    std::atomic<uint64_t> latency_max_ms{0};

    void recordLatency(uint64_t ms) {
        latency_count.fetch_add(1, std::memory_order_relaxed);
        latency_sum_ms.fetch_add(ms, std::memory_order_relaxed);
        uint64_t max = latency_max_ms.load(std::memory_order_relaxed);
        while (ms > max && !latency_max_ms.compare_exchange_weak(max, ms)) {
        }
    }

    // Start of the current slow-start ramp: the later of the last transition and the end of
    // the last ejection.
    uint64_t rampFromMs() const {
        const uint64_t from = ramp_from_ms.load(std::memory_order_relaxed);
        const uint64_t ejected = ejected_until_ms.load(std::memory_order_relaxed);
        return from > ejected ? from : ejected;
    }

    // Admin ready, healthy, not ejected.
    bool available(uint64_t now_ms) const {
        return admin.load(std::memory_order_relaxed) == AdminState::kReady &&
               healthy.load(std::memory_order_relaxed) &&
               ejected_until_ms.load(std::memory_order_relaxed) <= now_ms;
    }
};

struct Server {
    config::ServerConfig config;
    std::shared_ptr<ServerState> state;
};

}  // namespace sluice::upstream
