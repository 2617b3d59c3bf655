#include "control/reports.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "base/json.h"
#include "base/version.h"
#include "control/text_table.h"
#include "metrics/generation_stats.h"

namespace sluice::control {
namespace {

using Rows = std::vector<std::vector<std::string>>;

std::string isoTime(int64_t unix_ms) {
    if (unix_ms <= 0) return "-";
    time_t secs = static_cast<time_t>(unix_ms / 1000);
    tm utc{};
    gmtime_r(&secs, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

std::string jsonReply(const Json& reply) { return toJsonText(reply) + "\n"; }

}  // namespace

std::string errorReply(const std::string& message) { return "error: " + message + "\n"; }

std::string statusReply(const Process& process, bool json) {
    const ProcessStatus s = process.status();
    if (json) {
        return jsonReply({{"version", kVersion},
                          {"pid", s.pid},
                          {"uptime_s", s.uptime_s},
                          {"config_file", s.config_file},
                          {"generation", s.generation},
                          {"workers", s.workers},
                          {"open_connections", s.open_connections},
                          {"requests", s.requests}});
    }
    return "version " + std::string(kVersion) + "\npid " + std::to_string(s.pid) + "\nuptime " +
           std::to_string(s.uptime_s) + "s\nconfig " + s.config_file + "\ngeneration " +
           std::to_string(s.generation) + "\nworkers " + std::to_string(s.workers) +
           "\nopen connections " + std::to_string(s.open_connections) + "\nrequests served " +
           std::to_string(s.requests) + "\n";
}

std::string showPoolsReply(const Process& process, bool json) {
    const auto snapshot = process.snapshot();
    const uint64_t now = process.nowMs();
    Json pools = Json::array();
    Rows rows;
    for (const auto& pool : snapshot->pools) {
        size_t available = 0;
        uint64_t active = 0;
        for (const auto& s : pool->servers) {
            available += s.state->available(now) ? 1 : 0;
            active += s.state->active.load();
        }
        const int64_t queued = pool->queued.load();
        const std::string_view algorithm = nameOf(pool->config.algorithm);
        if (json) {
            pools.push_back({{"name", pool->name()},
                             {"algorithm", algorithm},
                             {"servers_available", available},
                             {"servers_total", pool->servers.size()},
                             {"active", active},
                             {"queued", queued}});
        } else {
            rows.push_back({pool->name(), std::string(algorithm),
                            std::to_string(available) + "/" + std::to_string(pool->servers.size()),
                            std::to_string(active), std::to_string(queued)});
        }
    }
    if (json) return jsonReply({{"pools", std::move(pools)}});
    return renderTable({"POOL", "ALGORITHM", "AVAILABLE", "ACTIVE", "QUEUED"}, rows);
}

std::string showServersReply(const Process& process, const RuntimeState& overrides,
                             const std::string& only_pool, bool json) {
    const auto snapshot = process.snapshot();
    if (!only_pool.empty() && snapshot->poolIndex(only_pool) < 0) {
        return errorReply("no pool named \"" + only_pool + "\"");
    }
    const uint64_t now = process.nowMs();
    Json servers = Json::array();
    Rows rows;
    for (const auto& pool : snapshot->pools) {
        if (!only_pool.empty() && pool->name() != only_pool) continue;
        for (const auto& s : pool->servers) {
            const auto& st = *s.state;
            const ServerOverride* o = findOverride(overrides, pool->name(), s.config.name);
            const bool runtime_weight = o && o->weight;
            const bool runtime_state = o && o->state;
            const bool added = o && o->added;
            const auto check = process.lastCheck(pool->name(), s.config.name);
            const uint64_t ejected_until = st.ejected_until_ms.load();
            const bool ejected = ejected_until > now;
            const std::string health = st.healthy.load() ? "up" : "down";
            const std::string last_check = check && !check->last_result.empty()
                                               ? check->last_result
                                               : (check ? "pending" : "no check");
            const std::string last_change = check ? isoTime(check->last_change_unix_ms) : "-";
            const std::string_view admin = nameOf(st.admin.load());
            if (json) {
                servers.push_back(
                    {{"pool", pool->name()},
                     {"name", s.config.name},
                     {"address", s.config.address.text},
                     {"weight", st.weight.load()},
                     {"backup", s.config.backup},
                     {"discovered", s.config.discovered},
                     {"admin", admin},
                     {"health", health},
                     {"ejected", ejected},
                     {"active", st.active.load()},
                     {"requests", st.requests.load()},
                     {"failures", st.failures.load()},
                     {"last_check", last_check},
                     {"last_change", last_change},
                     {"runtime",
                      {{"added", added}, {"weight", runtime_weight}, {"admin", runtime_state}}}});
            } else {
                rows.push_back(
                    {pool->name(),
                     s.config.name + (added                 ? "*"
                                      : s.config.discovered ? "~"
                                                            : ""),
                     s.config.address.text,
                     std::to_string(st.weight.load()) + (runtime_weight ? "*" : ""),
                     s.config.backup ? "yes" : "no",
                     std::string(admin) + (runtime_state ? "*" : ""), health,
                     ejected ? std::to_string((ejected_until - now + 999) / 1000) + "s" : "no",
                     std::to_string(st.active.load()), "-", std::to_string(st.requests.load()),
                     std::to_string(st.failures.load()), last_check, last_change});
            }
        }
    }
    if (json) return jsonReply({{"servers", std::move(servers)}});
    return renderTable({"POOL", "NAME", "ADDRESS", "WEIGHT", "BACKUP", "ADMIN", "HEALTH", "EJECTED",
                        "ACTIVE", "QUEUED", "REQUESTS", "FAILURES", "LAST CHECK", "LAST CHANGE"},
                       rows) +
           "(* = set at runtime; ~ = discovered in DNS; QUEUED is per pool: see show pools)\n";
}

namespace {

const metrics::ListenerTotals kNoListenerTotals{};
const metrics::PoolTotals kNoPoolTotals{};
const metrics::ServerTotals kNoServerTotals{};

Json codeJson(const metrics::CodeCounts& counts) {
    Json out = Json::object();
    for (size_t c = 0; c < metrics::kCodeClasses; ++c) {
        out[std::string(metrics::kCodeClassNames[c])] = counts[c];
    }
    return out;
}

uint64_t codeSum(const metrics::CodeCounts& counts) {
    uint64_t n = 0;
    for (uint64_t c : counts) n += c;
    return n;
}

// p50, p90, p99 in ms (null / "-" while nothing was observed).
Json latencyJson(const metrics::HistogramTotals& h) {
    if (h.count() == 0) return nullptr;
    return {{"p50", h.quantile(0.5) * 1000},
            {"p90", h.quantile(0.9) * 1000},
            {"p99", h.quantile(0.99) * 1000}};
}

std::string msText(const metrics::HistogramTotals& h, double q) {
    if (h.count() == 0) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", h.quantile(q) * 1000);
    return buf;
}

std::vector<std::string> codeCells(const metrics::CodeCounts& counts) {
    std::vector<std::string> cells;
    for (uint64_t c : counts) cells.push_back(std::to_string(c));
    return cells;
}

}  // namespace

std::string showStatsReply(const Process& process, bool json) {
    const ProcessStatus status = process.status();
    const auto snapshot = process.snapshot();
    const metrics::GenerationStats* stats = snapshot->stats.get();
    Json listeners = Json::array();
    Json pools = Json::array();
    Json servers = Json::array();
    Rows rows;
    // Second table: status classes and latency percentiles, the same rows as the JSON's.
    Rows classes;
    const auto classRow = [&](std::string scope, std::string name, const metrics::CodeCounts& c,
                              std::vector<std::string> tail) {
        std::vector<std::string> row{std::move(scope), std::move(name)};
        for (auto& cell : codeCells(c)) row.push_back(std::move(cell));
        for (auto& cell : tail) row.push_back(std::move(cell));
        classes.push_back(std::move(row));
    };
    const auto& listener_configs = snapshot->config->listeners;
    for (size_t i = 0; i < listener_configs.size(); ++i) {
        const auto& l = listener_configs[i];
        const metrics::ListenerTotals t = stats && i < stats->listeners.size()
                                              ? stats->listeners[i]->totals()
                                              : kNoListenerTotals;
        const bool http = l.mode == config::ListenerMode::kHttp;
        Json row = {{"name", l.name},
                    {"bind", l.bind.text},
                    {"mode", nameOf(l.mode)},
                    {"connections_total", t.connections_total},
                    {"active_connections", t.active_connections}};
        if (http) row["requests"] = codeJson(t.requests);
        row["bytes_received"] = t.bytes_received;
        row["bytes_sent"] = t.bytes_sent;
        row["rate_limited"] = t.rate_limited;
        listeners.push_back(std::move(row));
        rows.push_back(
            {"listener", l.name, http ? std::to_string(codeSum(t.requests)) : "-", "-", "-", "-",
             "connections " + std::to_string(t.connections_total) + ", active " +
                 std::to_string(t.active_connections) + ", bytes in " +
                 std::to_string(t.bytes_received) + ", out " + std::to_string(t.bytes_sent)});
        if (http) classRow("listener", l.name, t.requests, {"-", "-", "-"});
    }
    rows.push_back({"process", "-", std::to_string(status.requests), "-", "-", "-",
                    "accepted " + std::to_string(status.accepted) + ", client_aborts " +
                        std::to_string(status.client_aborts) + ", refused_per_ip " +
                        std::to_string(status.refused_per_ip) + ", rate_limited " +
                        std::to_string(status.rate_limited)});
    for (size_t p = 0; p < snapshot->pools.size(); ++p) {
        const auto& pool = snapshot->pools[p];
        const bool counted = stats && p < stats->pools.size();
        const metrics::PoolTotals pt = counted ? stats->pools[p]->totals() : kNoPoolTotals;
        uint64_t requests = 0, failures = 0, count = 0, sum = 0, max = 0;
        for (size_t k = 0; k < pool->servers.size(); ++k) {
            const auto& s = pool->servers[k];
            const auto& st = *s.state;
            const metrics::ServerTotals t = counted && k < stats->servers[p].size()
                                                ? stats->servers[p][k]->totals()
                                                : kNoServerTotals;
            const uint64_t c = st.latency_count.load(), total = st.latency_sum_ms.load(),
                           m = st.latency_max_ms.load();
            requests += st.requests.load();
            failures += st.failures.load();
            count += c;
            sum += total;
            max = std::max(max, m);
            servers.push_back({{"pool", pool->name()},
                               {"name", s.config.name},
                               {"requests", st.requests.load()},
                               {"failures", st.failures.load()},
                               {"ejections", st.ejections.load()},
                               {"first_byte_ms_avg", c ? static_cast<double>(total) / c : 0.0},
                               {"first_byte_ms_max", m},
                               {"requests_by_code", codeJson(t.requests)}});
            rows.push_back({"server", pool->name() + "/" + s.config.name,
                            std::to_string(st.requests.load()), std::to_string(st.failures.load()),
                            c ? std::to_string(total / c) : "-", c ? std::to_string(m) : "-",
                            "ejections " + std::to_string(st.ejections.load())});
            classRow("server", pool->name() + "/" + s.config.name, t.requests, {"-", "-", "-"});
        }
        rows.push_back({"pool", pool->name(), std::to_string(requests), std::to_string(failures),
                        count ? std::to_string(sum / count) : "-",
                        count ? std::to_string(max) : "-",
                        "queued " + std::to_string(pool->queued.load())});
        pools.push_back({{"name", pool->name()},
                         {"requests", codeJson(pt.requests)},
                         {"latency_ms", latencyJson(pt.duration)}});
        classRow("pool", pool->name(), pt.requests,
                 {msText(pt.duration, 0.5), msText(pt.duration, 0.9), msText(pt.duration, 0.99)});
    }
    if (json) {
        return jsonReply({{"process",
                           {{"accepted", status.accepted},
                            {"client_aborts", status.client_aborts},
                            {"open_connections", status.open_connections},
                            {"rate_limited", status.rate_limited},
                            {"refused_per_ip", status.refused_per_ip},
                            {"requests", status.requests}}},
                          {"listeners", std::move(listeners)},
                          {"pools", std::move(pools)},
                          {"servers", std::move(servers)}});
    }
    return renderTable(
               {"SCOPE", "NAME", "REQUESTS", "FAILURES", "FIRST BYTE AVG MS", "MAX MS", "OTHER"},
               rows) +
           "\n" +
           renderTable(
               {"SCOPE", "NAME", "1XX", "2XX", "3XX", "4XX", "5XX", "P50 MS", "P90 MS", "P99 MS"},
               classes);
}

}  // namespace sluice::control
