#include "metrics/admin_families.h"

namespace sluice::metrics {

void declareAdminFamilies(Exposition& out) {
    for (const FamilySpec& spec : kAdminFamilies) out.family(spec);
}

void appendListener(Exposition& out, std::string_view listener, const ListenerTotals& totals,
                    bool http) {
    out.sample(out.family(family::kListenerConnections), {{"listener", listener}},
               totals.connections_total);
    out.sample(out.family(family::kListenerActiveConnections), {{"listener", listener}},
               totals.active_connections);
    if (http) {
        const auto requests = out.family(family::kListenerRequests);
        for (size_t c = 0; c < kCodeClasses; ++c) {
            out.sample(requests, {{"listener", listener}, {"code", kCodeClassNames[c]}},
                       totals.requests[c]);
        }
    }
    out.sample(out.family(family::kListenerBytesReceived), {{"listener", listener}},
               totals.bytes_received);
    out.sample(out.family(family::kListenerBytesSent), {{"listener", listener}}, totals.bytes_sent);
    out.sample(out.family(family::kRateLimitedRequests), {{"listener", listener}},
               totals.rate_limited);
}

void appendPool(Exposition& out, std::string_view pool, const PoolTotals& totals) {
    const auto requests = out.family(family::kPoolRequests);
    for (size_t c = 0; c < kCodeClasses; ++c) {
        out.sample(requests, {{"pool", pool}, {"code", kCodeClassNames[c]}}, totals.requests[c]);
    }
    out.histogram(out.family(family::kPoolRequestDuration), {{"pool", pool}}, totals.duration);
}

void appendServer(Exposition& out, std::string_view pool, std::string_view server,
                  const ServerTotals& totals) {
    const auto requests = out.family(family::kServerRequests);
    for (size_t c = 0; c < kCodeClasses; ++c) {
        out.sample(requests, {{"pool", pool}, {"server", server}, {"code", kCodeClassNames[c]}},
                   totals.requests[c]);
    }
    out.sample(out.family(family::kServerFailures), {{"pool", pool}, {"server", server}},
               totals.failures);
    out.sample(out.family(family::kServerEjections), {{"pool", pool}, {"server", server}},
               totals.ejections);
    const auto checks = out.family(family::kServerChecks);
    out.sample(checks, {{"pool", pool}, {"server", server}, {"result", "pass"}},
               totals.checks_passed);
    out.sample(checks, {{"pool", pool}, {"server", server}, {"result", "fail"}},
               totals.checks_failed);
}

}  // namespace sluice::metrics
