// Server, control commands (shared/design/control.md): text tables by default, JSON with
// --json. Runs on the main thread; reads worker state only through atomics.

#include <unistd.h>

#include <chrono>
#include <ctime>

#include "base/version.h"
#include "config/address_resolver.h"
#include "control/json.h"
#include "control/text_table.h"
#include "server/server.h"

namespace sluice::server {
namespace {

constexpr const char* kHelp =
    "commands:\n"
    "  help\n"
    "  status\n"
    "  reload\n"
    "  show pools\n"
    "  show servers [POOL]\n"
    "  show stats\n"
    "  set server POOL/NAME state ready|drain|maint\n"
    "  set server POOL/NAME weight N\n"
    "  clear server POOL/NAME\n"
    "  add server POOL/NAME ADDRESS [weight N] [backup]\n"
    "  del server POOL/NAME\n"
    "append --json for JSON output\n";

const char* algorithmName(config::Algorithm a) {
    switch (a) {
        case config::Algorithm::kRoundRobin:
            return "round_robin";
        case config::Algorithm::kWeightedRoundRobin:
            return "weighted_round_robin";
        case config::Algorithm::kLeastConn:
            return "least_conn";
        case config::Algorithm::kRandom:
            return "random";
        case config::Algorithm::kPowerOfTwo:
            return "power_of_two";
        case config::Algorithm::kEwma:
            return "ewma";
        case config::Algorithm::kIpHash:
            return "ip_hash";
        case config::Algorithm::kHash:
            return "hash";
    }
    return "?";
}

const char* adminName(upstream::AdminState s) {
    switch (s) {
        case upstream::AdminState::kReady:
            return "ready";
        case upstream::AdminState::kDrain:
            return "drain";
        case upstream::AdminState::kMaint:
            return "maint";
    }
    return "?";
}

std::string isoTime(int64_t unix_ms) {
    if (unix_ms <= 0) return "-";
    time_t secs = static_cast<time_t>(unix_ms / 1000);
    tm utc{};
    gmtime_r(&secs, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

bool splitPoolServer(const std::string& arg, std::string* pool, std::string* name) {
    size_t slash = arg.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == arg.size()) return false;
    *pool = arg.substr(0, slash);
    *name = arg.substr(slash + 1);
    return true;
}

bool validName(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

std::string error(const std::string& message) { return "error: " + message + "\n"; }

}  // namespace

std::string Server::execute(const std::vector<std::string>& args, bool json) {
    const std::string& cmd = args[0];
    if (cmd == "help") return kHelp;
    if (cmd == "status") return commandStatus(json);
    if (cmd == "reload") return commandReload(json);
    if (cmd == "show" && args.size() >= 2) {
        if (args[1] == "pools" && args.size() == 2) return commandShowPools(json);
        if (args[1] == "servers" && args.size() <= 3) {
            return commandShowServers(args.size() == 3 ? args[2] : "", json);
        }
        if (args[1] == "stats" && args.size() == 2) return commandShowStats(json);
    }
    if ((cmd == "set" || cmd == "clear" || cmd == "add" || cmd == "del") && args.size() >= 3 &&
        args[1] == "server") {
        return commandServer(args);
    }
    return error("unknown command \"" + cmd + "\" (or wrong arguments); try \"help\"");
}

std::string Server::commandStatus(bool json) {
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - started_at_)
                            .count();
    const int64_t open = counters_.open_connections.load();
    const uint64_t requests = counters_.requests.load();
    if (json) {
        control::JsonWriter w;
        w.beginObject()
            .field("version", kVersion)
            .field("pid", static_cast<int64_t>(getpid()))
            .field("uptime_s", static_cast<int64_t>(uptime))
            .field("config_file", config_path_)
            .field("generation", generation_)
            .field("workers", worker_count_)
            .field("open_connections", open)
            .field("requests", requests)
            .endObject();
        return w.take() + "\n";
    }
    return "version " + std::string(kVersion) + "\npid " + std::to_string(getpid()) + "\nuptime " +
           std::to_string(uptime) + "s\nconfig " + config_path_ + "\ngeneration " +
           std::to_string(generation_) + "\nworkers " + std::to_string(worker_count_) +
           "\nopen connections " + std::to_string(open) + "\nrequests served " +
           std::to_string(requests) + "\n";
}

std::string Server::commandReload(bool json) {
    ReloadOutcome outcome = reload();
    if (!outcome.ok) {
        std::string text = "error: configuration not reloaded (" +
                           std::to_string(outcome.errors.size()) + " errors)\n";
        for (const auto& e : outcome.errors) text += e + "\n";
        return text;
    }
    const auto& d = outcome.diff;
    const std::pair<const char*, const std::vector<std::string>*> parts[] = {
        {"listeners added", &d.listeners_added},     {"listeners removed", &d.listeners_removed},
        {"listeners changed", &d.listeners_changed}, {"pools added", &d.pools_added},
        {"pools removed", &d.pools_removed},         {"pools changed", &d.pools_changed},
        {"servers added", &d.servers_added},         {"servers removed", &d.servers_removed},
        {"servers changed", &d.servers_changed}};
    if (json) {
        control::JsonWriter w;
        w.beginObject().field("ok", true).field("generation", outcome.generation);
        for (const auto& [label, list] : parts) {
            std::string key = label;
            key.replace(key.find(' '), 1, "_");
            w.key(key).beginArray();
            for (const auto& item : *list) w.value(item);
            w.endArray();
        }
        w.key("notes").beginArray();
        for (const auto& note : outcome.notes) w.value(note);
        w.endArray().endObject();
        return w.take() + "\n";
    }
    std::string text = "ok: generation " + std::to_string(outcome.generation) + "\n";
    if (d.empty()) text += "no changes\n";
    for (const auto& [label, list] : parts) {
        if (list->empty()) continue;
        text += std::string(label) + ":";
        for (const auto& item : *list) text += " " + item;
        text += "\n";
    }
    for (const auto& note : outcome.notes) text += "note: " + note + "\n";
    return text;
}

std::string Server::commandShowPools(bool json) {
    const uint64_t now = loop_.now();
    control::JsonWriter w;
    std::vector<std::vector<std::string>> rows;
    if (json) w.beginObject().key("pools").beginArray();
    for (const auto& pool : snapshot_->pools) {
        size_t available = 0;
        uint64_t active = 0;
        for (const auto& s : pool->servers) {
            available += s.state->available(now) ? 1 : 0;
            active += s.state->active.load();
        }
        const int64_t queued = pool->queued.load();
        if (json) {
            w.beginObject()
                .field("name", pool->name())
                .field("algorithm", algorithmName(pool->config.algorithm))
                .field("servers_available", available)
                .field("servers_total", pool->servers.size())
                .field("active", active)
                .field("queued", queued)
                .endObject();
        } else {
            rows.push_back({pool->name(), algorithmName(pool->config.algorithm),
                            std::to_string(available) + "/" + std::to_string(pool->servers.size()),
                            std::to_string(active), std::to_string(queued)});
        }
    }
    if (json) return w.endArray().endObject().take() + "\n";
    return control::renderTable({"POOL", "ALGORITHM", "AVAILABLE", "ACTIVE", "QUEUED"}, rows);
}

std::string Server::commandShowServers(const std::string& only_pool, bool json) {
    if (!only_pool.empty() && snapshot_->poolIndex(only_pool) < 0) {
        return error("no pool named \"" + only_pool + "\"");
    }
    const uint64_t now = loop_.now();
    control::JsonWriter w;
    std::vector<std::vector<std::string>> rows;
    if (json) w.beginObject().key("servers").beginArray();
    for (const auto& pool : snapshot_->pools) {
        if (!only_pool.empty() && pool->name() != only_pool) continue;
        for (const auto& s : pool->servers) {
            const auto& st = *s.state;
            const control::ServerOverride* o = findOverride(pool->name(), s.config.name);
            const bool runtime_weight = o && o->weight;
            const bool runtime_state = o && o->state;
            const bool added = o && o->added;
            const auto health =
                health_ ? health_->health(pool->name(), s.config.name) : std::nullopt;
            const uint64_t ejected_until = st.ejected_until_ms.load();
            const bool ejected = ejected_until > now;
            const std::string health_text = st.healthy.load() ? "up" : "down";
            const std::string last_check = health && !health->last_result.empty()
                                               ? health->last_result
                                               : (health ? "pending" : "no check");
            const std::string last_change = health ? isoTime(health->last_change_unix_ms) : "-";
            if (json) {
                w.beginObject()
                    .field("pool", pool->name())
                    .field("name", s.config.name)
                    .field("address", s.config.address.text)
                    .field("weight", st.weight.load())
                    .field("backup", s.config.backup)
                    .field("admin", adminName(st.admin.load()))
                    .field("health", health_text)
                    .field("ejected", ejected)
                    .field("active", st.active.load())
                    .field("requests", st.requests.load())
                    .field("failures", st.failures.load())
                    .field("last_check", last_check)
                    .field("last_change", last_change)
                    .key("runtime")
                    .beginObject()
                    .field("added", added)
                    .field("weight", runtime_weight)
                    .field("admin", runtime_state)
                    .endObject()
                    .endObject();
            } else {
                rows.push_back(
                    {pool->name(), s.config.name + (added ? "*" : ""), s.config.address.text,
                     std::to_string(st.weight.load()) + (runtime_weight ? "*" : ""),
                     s.config.backup ? "yes" : "no",
                     std::string(adminName(st.admin.load())) + (runtime_state ? "*" : ""),
                     health_text,
                     ejected ? std::to_string((ejected_until - now + 999) / 1000) + "s" : "no",
                     std::to_string(st.active.load()), "-", std::to_string(st.requests.load()),
                     std::to_string(st.failures.load()), last_check, last_change});
            }
        }
    }
    if (json) return w.endArray().endObject().take() + "\n";
    return control::renderTable(
               {"POOL", "NAME", "ADDRESS", "WEIGHT", "BACKUP", "ADMIN", "HEALTH", "EJECTED",
                "ACTIVE", "QUEUED", "REQUESTS", "FAILURES", "LAST CHECK", "LAST CHANGE"},
               rows) +
           "(* = set at runtime; QUEUED is per pool: see show pools)\n";
}

std::string Server::commandShowStats(bool json) {
    control::JsonWriter w;
    std::vector<std::vector<std::string>> rows;
    if (json) {
        w.beginObject()
            .key("process")
            .beginObject()
            .field("accepted", counters_.accepted.load())
            .field("open_connections", counters_.open_connections.load())
            .field("requests", counters_.requests.load())
            .field("client_aborts", counters_.client_aborts.load())
            .endObject();
        w.key("listeners").beginArray();
        for (const auto& l : config_->listeners) {
            w.beginObject()
                .field("name", l.name)
                .field("bind", l.bind.text)
                .field("mode", l.mode == config::ListenerMode::kHttp ? "http" : "tcp")
                .endObject();
        }
        w.endArray().key("servers").beginArray();
    }
    rows.push_back({"process", "-", std::to_string(counters_.requests.load()), "-", "-", "-",
                    "accepted " + std::to_string(counters_.accepted.load()) + ", client_aborts " +
                        std::to_string(counters_.client_aborts.load())});
    for (const auto& pool : snapshot_->pools) {
        uint64_t requests = 0, failures = 0, count = 0, sum = 0, max = 0;
        for (const auto& s : pool->servers) {
            const auto& st = *s.state;
            const uint64_t c = st.latency_count.load(), total = st.latency_sum_ms.load(),
                           m = st.latency_max_ms.load();
            requests += st.requests.load();
            failures += st.failures.load();
            count += c;
            sum += total;
            max = std::max(max, m);
            const std::string avg = c ? std::to_string(total / c) : "-";
            if (json) {
                w.beginObject()
                    .field("pool", pool->name())
                    .field("name", s.config.name)
                    .field("requests", st.requests.load())
                    .field("failures", st.failures.load())
                    .field("ejections", st.ejections.load())
                    .field("first_byte_ms_avg", c ? static_cast<double>(total) / c : 0.0)
                    .field("first_byte_ms_max", m)
                    .endObject();
            }
            rows.push_back({"server", pool->name() + "/" + s.config.name,
                            std::to_string(st.requests.load()), std::to_string(st.failures.load()),
                            avg, c ? std::to_string(m) : "-",
                            "ejections " + std::to_string(st.ejections.load())});
        }
        rows.push_back({"pool", pool->name(), std::to_string(requests), std::to_string(failures),
                        count ? std::to_string(sum / count) : "-",
                        count ? std::to_string(max) : "-",
                        "queued " + std::to_string(pool->queued.load())});
    }
    if (json) return w.endArray().endObject().take() + "\n";
    return control::renderTable(
        {"SCOPE", "NAME", "REQUESTS", "FAILURES", "FIRST BYTE AVG MS", "MAX MS", "OTHER"}, rows);
}

std::string Server::commandServer(const std::vector<std::string>& args) {
    const std::string& verb = args[0];
    std::string pool, name;
    if (!splitPoolServer(args[2], &pool, &name)) {
        return error("expected POOL/NAME, got \"" + args[2] + "\"");
    }
    const int pool_index = snapshot_->poolIndex(pool);
    if (pool_index < 0) return error("no pool named \"" + pool + "\"");
    const upstream::Pool& p = *snapshot_->pools[static_cast<size_t>(pool_index)];
    const upstream::Server* server = nullptr;
    for (const auto& s : p.servers) {
        if (s.config.name == name) server = &s;
    }
    std::string err;

    if (verb == "add") {
        if (server) return error("server " + pool + "/" + name + " already exists");
        if (!validName(name)) return error("invalid server name \"" + name + "\"");
        if (args.size() < 4)
            return error("usage: add server POOL/NAME ADDRESS [weight N] [backup]");
        control::ServerOverride o;
        o.pool = pool;
        o.name = name;
        o.added = true;
        o.address = args[3];
        for (size_t i = 4; i < args.size(); ++i) {
            if (args[i] == "backup") {
                o.backup = true;
            } else if (args[i] == "weight" && i + 1 < args.size()) {
                char* end = nullptr;
                unsigned long w = std::strtoul(args[++i].c_str(), &end, 10);
                if (*end || w < 1 || w > 1000) return error("weight must be 1..1000");
                o.weight = static_cast<unsigned>(w);
            } else {
                return error("unexpected \"" + args[i] +
                             "\"; usage: add server POOL/NAME ADDRESS "
                             "[weight N] [backup]");
            }
        }
        auto address = config::parseAddress(o.address, &err);
        config::AddressResolver resolver;
        if (!address || !resolver.resolve(&*address, &err)) {
            return error("address \"" + o.address + "\": " + err);
        }
        // `p` belongs to the snapshot that republish() replaces: read it first.
        const bool checked = p.config.health_check.has_value();
        deleted_.erase({pool, name});
        runtime_.servers.push_back(o);
        if (!republish(&err)) {
            runtime_.servers.pop_back();
            return error(err);
        }
        saveRuntimeState(&err);
        return "ok: server " + pool + "/" + name + " added" +
               (checked ? "; it joins after its first passing health check\n" : "\n");
    }
    if (!server) return error("no server " + pool + "/" + name);
    // From here on, `p` and `server` point into the current snapshot: a republish() frees it.

    if (verb == "del") {
        control::ServerOverride* o = findOverride(pool, name);
        const bool runtime_added = o && o->added;
        std::erase_if(runtime_.servers, [&](const control::ServerOverride& x) {
            return x.pool == pool && x.name == name;
        });
        if (!runtime_added) deleted_.insert({pool, name});
        if (!republish(&err)) return error(err);
        saveRuntimeState(&err);
        return "ok: server " + pool + "/" + name +
               " removed; it gets no new work and goes once its connections finish" +
               (runtime_added ? "\n"
                              : " (it is in the config file: a reload or restart brings "
                                "it back)\n");
    }
    if (verb == "clear") {
        control::ServerOverride* o = findOverride(pool, name);
        if (o) {
            o->state.reset();
            if (o->added) {
                o->weight.reset();
            } else {
                std::erase_if(runtime_.servers, [&](const control::ServerOverride& x) {
                    return x.pool == pool && x.name == name;
                });
            }
        }
        applyOverrides();
        saveRuntimeState(&err);
        return "ok: server " + pool + "/" + name + " back to its configured state and weight\n";
    }
    // set server POOL/NAME state X | weight N
    if (args.size() != 5) return error("usage: set server POOL/NAME state ready|drain|maint");
    control::ServerOverride* o = findOverride(pool, name);
    control::ServerOverride fresh;
    if (args[3] == "state") {
        if (args[4] != "ready" && args[4] != "drain" && args[4] != "maint") {
            return error("state must be ready, drain or maint");
        }
        if (!o) {
            fresh.pool = pool;
            fresh.name = name;
            runtime_.servers.push_back(fresh);
            o = &runtime_.servers.back();
        }
        o->state = args[4];
    } else if (args[3] == "weight") {
        char* end = nullptr;
        unsigned long w = std::strtoul(args[4].c_str(), &end, 10);
        if (*end || w < 1 || w > 1000) return error("weight must be 1..1000");
        if (!o) {
            fresh.pool = pool;
            fresh.name = name;
            runtime_.servers.push_back(fresh);
            o = &runtime_.servers.back();
        }
        o->weight = static_cast<unsigned>(w);
    } else {
        return error("usage: set server POOL/NAME state ready|drain|maint | weight N");
    }
    applyOverrides();
    saveRuntimeState(&err);
    return "ok: server " + pool + "/" + name + " " + args[3] + " " + args[4] + "\n";
}

bool Server::republish(std::string* error) {
    auto next = withRuntimeServers(*file_config_, nullptr);
    if (!publish(std::move(next), error)) return false;
    applyOverrides();
    return true;
}

}  // namespace sluice::server
