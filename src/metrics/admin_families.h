#pragma once
// The metric families of admin.md (names, types, labels are the contract there) and the writers
// that turn the counting scopes into their samples.
//
// A scrape (main thread):
//   Exposition out;
//   declareAdminFamilies(out);                  // admin.md's table order, whatever fills first
//   out.sample(out.family(family::kBuildInfo), {{"version", kVersion}}, 1);
//   for (const auto& [name, stats] : registries.listeners.entries())
//       appendListener(out, name, stats->totals(), /*http=*/...);
//   ... appendPool, appendServer; the gauges that live elsewhere (sluice_server_up, _state,
//   _active_requests, pool queue length, ...) come from the snapshot's ServerState and Pool.
//   std::string body = out.text();
// Every scope writes all five `code` classes, zeros included, so a series exists from the first
// scrape and rate() sees its first increase.

#include <array>
#include <string_view>

#include "metrics/exposition.h"
#include "metrics/scope_stats.h"

namespace sluice::metrics {

namespace family {
inline constexpr FamilySpec kBuildInfo{"sluice_build_info", MetricType::kGauge,
                                       "Always 1; the version of sluice that serves."};
inline constexpr FamilySpec kStartTime{"sluice_start_time_seconds", MetricType::kGauge,
                                       "Process start time, Unix seconds."};
inline constexpr FamilySpec kConfigGeneration{
    "sluice_config_generation", MetricType::kGauge,
    "Generation of the configuration in use (1 at start, +1 per applied reload)."};
inline constexpr FamilySpec kConfigReloads{"sluice_config_reloads_total", MetricType::kCounter,
                                           "Configuration reloads, by result."};
inline constexpr FamilySpec kListenerConnections{
    "sluice_listener_connections_total", MetricType::kCounter, "Client connections accepted."};
inline constexpr FamilySpec kListenerActiveConnections{
    "sluice_listener_active_connections", MetricType::kGauge, "Client connections open now."};
inline constexpr FamilySpec kListenerRequests{
    "sluice_listener_requests_total", MetricType::kCounter,
    "HTTP responses sent to clients, by status class (sluice's own included)."};
inline constexpr FamilySpec kListenerBytesReceived{
    "sluice_listener_bytes_received_total", MetricType::kCounter, "Bytes received from clients."};
inline constexpr FamilySpec kListenerBytesSent{"sluice_listener_bytes_sent_total",
                                               MetricType::kCounter, "Bytes sent to clients."};
inline constexpr FamilySpec kPoolRequests{
    "sluice_pool_requests_total", MetricType::kCounter,
    "Responses for requests routed to the pool, by status class."};
inline constexpr FamilySpec kPoolRequestDuration{"sluice_pool_request_duration_seconds",
                                                 MetricType::kHistogram,
                                                 "Request head complete to last response byte."};
inline constexpr FamilySpec kPoolQueueLength{"sluice_pool_queue_length", MetricType::kGauge,
                                             "Requests waiting for a server slot."};
inline constexpr FamilySpec kPoolAvailableServers{"sluice_pool_available_servers",
                                                  MetricType::kGauge,
                                                  "Servers available (ready, up, not ejected)."};
inline constexpr FamilySpec kServerRequests{"sluice_server_requests_total", MetricType::kCounter,
                                            "Responses from the server, by status class."};
inline constexpr FamilySpec kServerActiveRequests{"sluice_server_active_requests",
                                                  MetricType::kGauge,
                                                  "Requests or sessions in flight to the server."};
inline constexpr FamilySpec kServerUp{
    "sluice_server_up", MetricType::kGauge,
    "1 when the server is available (ready, up, not ejected), else 0."};
inline constexpr FamilySpec kServerState{"sluice_server_state", MetricType::kGauge,
                                         "Admin state, one-hot: ready, drain or maint."};
inline constexpr FamilySpec kServerFailures{
    "sluice_server_failures_total", MetricType::kCounter,
    "Failed attempts (connect, timeout, reset) to the server."};
inline constexpr FamilySpec kServerEjections{"sluice_server_ejections_total", MetricType::kCounter,
                                             "Passive ejections of the server."};
inline constexpr FamilySpec kServerChecks{"sluice_server_checks_total", MetricType::kCounter,
                                          "Active health checks of the server, by result."};
inline constexpr FamilySpec kRateLimitedRequests{
    "sluice_rate_limited_requests_total", MetricType::kCounter,
    "Requests or connections refused by a rate limit."};
inline constexpr FamilySpec kTlsCertificateExpiry{"sluice_tls_certificate_expiry_seconds",
                                                  MetricType::kGauge,
                                                  "Certificate notAfter, Unix seconds."};
}  // namespace family

// admin.md's table, in its order.
inline constexpr std::array<FamilySpec, 22> kAdminFamilies = {
    family::kBuildInfo,
    family::kStartTime,
    family::kConfigGeneration,
    family::kConfigReloads,
    family::kListenerConnections,
    family::kListenerActiveConnections,
    family::kListenerRequests,
    family::kListenerBytesReceived,
    family::kListenerBytesSent,
    family::kPoolRequests,
    family::kPoolRequestDuration,
    family::kPoolQueueLength,
    family::kPoolAvailableServers,
    family::kServerRequests,
    family::kServerActiveRequests,
    family::kServerUp,
    family::kServerState,
    family::kServerFailures,
    family::kServerEjections,
    family::kServerChecks,
    family::kRateLimitedRequests,
    family::kTlsCertificateExpiry,
};

// Declares every family of kAdminFamilies, fixing the output order.
void declareAdminFamilies(Exposition& out);

// sluice_listener_connections_total, _active_connections, _bytes_received_total,
// _bytes_sent_total, sluice_rate_limited_requests_total; sluice_listener_requests_total by code
// only when `http` (admin.md: http listeners).
void appendListener(Exposition& out, std::string_view listener, const ListenerTotals& totals,
                    bool http);
// sluice_pool_requests_total by code, sluice_pool_request_duration_seconds.
void appendPool(Exposition& out, std::string_view pool, const PoolTotals& totals);
// sluice_server_requests_total by code, _failures_total, _ejections_total, _checks_total by
// result (pass, fail).
void appendServer(Exposition& out, std::string_view pool, std::string_view server,
                  const ServerTotals& totals);

}  // namespace sluice::metrics
