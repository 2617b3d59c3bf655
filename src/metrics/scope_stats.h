#pragma once
// The counting scopes of admin.md: one ListenerStats per listener, one PoolStats per pool, one
// ServerStats per pool/server, each over per-writer slots (worker_counters.h).
//
// Writers: a scope built for `workers` workers has workers + 1 slots. Worker i writes slot i;
// the main thread (health checker, control commands) writes slot `workers`, mainSlot(). Each
// slot has exactly one writing thread; recording never locks or allocates. Reading (totals())
// is for any thread and sums the slots.
//
// These objects outlive configuration generations (see stats_registry.h): a worker holds a
// shared_ptr to the scope it counts into, as it holds upstream::ServerState today.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/duration_histogram.h"
#include "metrics/worker_counters.h"

namespace sluice::metrics {

// Status classes, label `code`: index 0..4 = "1xx".."5xx".
inline constexpr size_t kCodeClasses = 5;
inline constexpr std::array<std::string_view, kCodeClasses> kCodeClassNames = {"1xx", "2xx", "3xx",
                                                                               "4xx", "5xx"};
using CodeCounts = std::array<uint64_t, kCodeClasses>;

// 100..199 -> 0, ..., 500..599 -> 4. Anything else -> -1: status 0 ("no response was sent", e.g.
// the client left first) and values outside 100..599 are counted in no class (the record
// functions below ignore them). Count the status sluice actually sent to the client, so
// sluice's own 400/408/413/502/503/504 land in their class; a backend status above 599 never
// reaches a client as such (the response parser turns it into a 502).
constexpr int codeClass(int status) {
    return status >= 100 && status <= 599 ? status / 100 - 1 : -1;
}

struct ListenerTotals {
    uint64_t connections_total = 0;
    int64_t active_connections = 0;
    CodeCounts requests{};
    uint64_t bytes_received = 0;
    uint64_t bytes_sent = 0;
    uint64_t rate_limited = 0;
};

class ListenerStats {
  public:
    explicit ListenerStats(size_t workers) : counters_(workers + 1), gauges_(workers + 1) {}
    size_t mainSlot() const { return counters_.writers() - 1; }

    // Writer of `slot` only.
    void connectionOpened(size_t slot) {
        counters_.add(slot, kConnections);
        gauges_.add(slot, kActive, 1);
    }
    void connectionClosed(size_t slot) { gauges_.add(slot, kActive, -1); }
    void request(size_t slot, int status) {
        const int c = codeClass(status);
        if (c >= 0) counters_.add(slot, kRequests1xx + static_cast<size_t>(c));
    }
    void bytesReceived(size_t slot, uint64_t n) { counters_.add(slot, kBytesReceived, n); }
    void bytesSent(size_t slot, uint64_t n) { counters_.add(slot, kBytesSent, n); }
    void rateLimited(size_t slot) { counters_.add(slot, kRateLimited); }

    // Any thread.
    ListenerTotals totals() const;

  private:
    enum : size_t {
        kConnections,
        kRequests1xx,
        kBytesReceived = kRequests1xx + kCodeClasses,
        kBytesSent,
        kRateLimited,
        kCount
    };
    enum : size_t { kActive, kGaugeCount };
    WorkerCounters<kCount> counters_;
    WorkerGauges<kGaugeCount> gauges_;
};

struct PoolTotals {
    CodeCounts requests{};
    HistogramTotals duration;
};

class PoolStats {
  public:
    explicit PoolStats(size_t workers) : counters_(workers + 1), duration_(workers + 1) {}
    size_t mainSlot() const { return counters_.writers() - 1; }

    // Writer of `slot` only. `duration_micros`: request head complete to last response byte.
    void request(size_t slot, int status) {
        const int c = codeClass(status);
        if (c >= 0) counters_.add(slot, static_cast<size_t>(c));
    }
    void observeDuration(size_t slot, uint64_t duration_micros) {
        duration_.observeMicros(slot, duration_micros);
    }

    // Any thread.
    PoolTotals totals() const;

  private:
    WorkerCounters<kCodeClasses> counters_;
    DurationHistogram duration_;
};

struct ServerTotals {
    CodeCounts requests{};
    uint64_t failures = 0;
    uint64_t ejections = 0;
    uint64_t checks_passed = 0;
    uint64_t checks_failed = 0;
};

class ServerStats {
  public:
    explicit ServerStats(size_t workers) : counters_(workers + 1) {}
    size_t mainSlot() const { return counters_.writers() - 1; }

    // Writer of `slot` only. Checks come from the health checker: pass mainSlot().
    void request(size_t slot, int status) {
        const int c = codeClass(status);
        if (c >= 0) counters_.add(slot, kRequests1xx + static_cast<size_t>(c));
    }
    void failure(size_t slot) { counters_.add(slot, kFailures); }
    void ejection(size_t slot) { counters_.add(slot, kEjections); }
    void check(size_t slot, bool passed) {
        counters_.add(slot, passed ? kChecksPass : kChecksFail);
    }

    // Any thread.
    ServerTotals totals() const;

  private:
    enum : size_t {
        kRequests1xx,
        kFailures = kRequests1xx + kCodeClasses,
        kEjections,
        kChecksPass,
        kChecksFail,
        kCount
    };
    WorkerCounters<kCount> counters_;
};

}  // namespace sluice::metrics
