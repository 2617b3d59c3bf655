#include "admin/pages.h"

#include "base/json.h"
#include "base/version.h"
#include "control/reports.h"
#include "metrics/admin_families.h"
#include "metrics/generation_stats.h"
#include "tls/server_context.h"

namespace sluice::admin {

std::string metricsText(const control::Process& process, const ProcessFacts& facts) {
    using namespace metrics;
    const control::ProcessStatus status = process.status();
    const auto snapshot = process.snapshot();
    const GenerationStats* stats = snapshot->stats.get();
    const uint64_t now = process.nowMs();

    Exposition out;
    declareAdminFamilies(out);
    out.sample(out.family(family::kBuildInfo), {{"version", kVersion}}, 1);
    out.sample(out.family(family::kStartTime), {}, facts.start_unix_s);
    out.sample(out.family(family::kConfigGeneration), {}, status.generation);
    out.sample(out.family(family::kConfigReloads), {{"result", "ok"}}, facts.reloads_ok);
    out.sample(out.family(family::kConfigReloads), {{"result", "error"}}, facts.reloads_error);

    const auto& listeners = snapshot->config->listeners;
    for (size_t i = 0; i < listeners.size(); ++i) {
        if (!stats || i >= stats->listeners.size()) break;
        appendListener(out, listeners[i].name, stats->listeners[i]->totals(),
                       listeners[i].mode == config::ListenerMode::kHttp);
    }
    for (size_t p = 0; p < snapshot->pools.size(); ++p) {
        const upstream::Pool& pool = *snapshot->pools[p];
        const bool counted = stats && p < stats->pools.size();
        if (counted) appendPool(out, pool.name(), stats->pools[p]->totals());
        out.sample(out.family(family::kPoolQueueLength), {{"pool", pool.name()}},
                   pool.queued.load(std::memory_order_relaxed));
        size_t available = 0;
        for (const auto& s : pool.servers) available += s.state->available(now) ? 1 : 0;
        out.sample(out.family(family::kPoolAvailableServers), {{"pool", pool.name()}}, available);
        for (size_t k = 0; k < pool.servers.size(); ++k) {
            const upstream::Server& server = pool.servers[k];
            const upstream::ServerState& st = *server.state;
            const std::string& name = server.config.name;
            ServerTotals totals;
            if (counted && k < stats->servers[p].size()) totals = stats->servers[p][k]->totals();
            // Failures and ejections are counted where the selector decides them, in the
            // server's shared state (kept across reloads like the scopes); checks by the health
            // checker.
            totals.failures = st.failures.load(std::memory_order_relaxed);
            totals.ejections = st.ejections.load(std::memory_order_relaxed);
            if (const auto check = process.lastCheck(pool.name(), name)) {
                totals.checks_failed = check->checks_failed;
                totals.checks_passed = check->checks - check->checks_failed;
            }
            appendServer(out, pool.name(), name, totals);
            const Label server_labels[] = {{"pool", pool.name()}, {"server", name}};
            const Labels labels{std::span<const Label>(server_labels)};
            out.sample(out.family(family::kServerActiveRequests), labels,
                       st.active.load(std::memory_order_relaxed));
            out.sample(out.family(family::kServerUp), labels, st.available(now));
            const upstream::AdminState admin = st.admin.load(std::memory_order_relaxed);
            for (auto state : {upstream::AdminState::kReady, upstream::AdminState::kDrain,
                               upstream::AdminState::kMaint}) {
                out.sample(out.family(family::kServerState),
                           {{"pool", pool.name()}, {"server", name}, {"state", nameOf(state)}},
                           admin == state);
            }
        }
    }
    for (size_t i = 0; i < listeners.size() && i < snapshot->listener_tls.size(); ++i) {
        const auto& tls = snapshot->listener_tls[i];
        if (!tls) continue;
        for (size_t c = 0; c < tls->certificateCount(); ++c) {
            const auto& names = tls->namesOf(c);
            out.sample(out.family(family::kTlsCertificateExpiry),
                       {{"listener", listeners[i].name},
                        {"name", names.empty() ? std::string_view("-") : names[0]}},
                       tls->notAfterOf(c));
        }
    }
    return out.text();
}

std::string statusJson(const control::Process& process, const control::RuntimeState& overrides) {
    Json status = Json::parse(control::statusReply(process, true));
    Json pools = Json::parse(control::showPoolsReply(process, true))["pools"];
    Json servers = Json::parse(control::showServersReply(process, overrides, "", true))["servers"];
    Json stats = Json::parse(control::showStatsReply(process, true));
    // Both lists come from the same snapshot in the same order; match by name anyway.
    for (Json& pool : pools) {
        for (const Json& row : stats["pools"]) {
            if (row["name"] != pool["name"]) continue;
            pool["requests"] = row["requests"];
            pool["latency_ms"] = row["latency_ms"];
        }
    }
    for (Json& server : servers) {
        for (const Json& row : stats["servers"]) {
            if (row["pool"] != server["pool"] || row["name"] != server["name"]) continue;
            server["ejections"] = row["ejections"];
            server["requests_by_code"] = row["requests_by_code"];
        }
    }
    Json out = {{"status", std::move(status)},
                {"listeners", std::move(stats["listeners"])},
                {"pools", std::move(pools)},
                {"servers", std::move(servers)}};
    return toJsonText(out) + "\n";
}

}  // namespace sluice::admin
