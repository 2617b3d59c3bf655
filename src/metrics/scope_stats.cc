#include "metrics/scope_stats.h"

namespace sluice::metrics {

static_assert(codeClass(100) == 0 && codeClass(199) == 0 && codeClass(200) == 1 &&
              codeClass(404) == 3 && codeClass(599) == 4);
static_assert(codeClass(0) == -1 && codeClass(99) == -1 && codeClass(600) == -1 &&
              codeClass(-200) == -1);

ListenerTotals ListenerStats::totals() const {
    ListenerTotals t;
    t.connections_total = counters_.sum(kConnections);
    t.active_connections = gauges_.sum(kActive);
    for (size_t c = 0; c < kCodeClasses; ++c) t.requests[c] = counters_.sum(kRequests1xx + c);
    t.bytes_received = counters_.sum(kBytesReceived);
    t.bytes_sent = counters_.sum(kBytesSent);
    t.rate_limited = counters_.sum(kRateLimited);
    return t;
}

PoolTotals PoolStats::totals() const {
    PoolTotals t;
    for (size_t c = 0; c < kCodeClasses; ++c) t.requests[c] = counters_.sum(c);
    t.duration = duration_.totals();
    return t;
}

ServerTotals ServerStats::totals() const {
    ServerTotals t;
    for (size_t c = 0; c < kCodeClasses; ++c) t.requests[c] = counters_.sum(kRequests1xx + c);
    t.failures = counters_.sum(kFailures);
    t.ejections = counters_.sum(kEjections);
    t.checks_passed = counters_.sum(kChecksPass);
    t.checks_failed = counters_.sum(kChecksFail);
    return t;
}

}  // namespace sluice::metrics
