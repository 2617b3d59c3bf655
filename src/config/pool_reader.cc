// ConfigReader: [[pool]], [pool.health_check], [pool.passive_health], [[pool.server]].

#include <map>

#include "config/config_reader.h"
#include "config/units.h"

namespace sluice::config {

void ConfigReader::readPool(const toml::value& table, PoolConfig* pool) {
    TableReader r(table, "pool", "[[pool]]", diags_);
    if (const toml::value* name = readName(r, "name", &pool->name)) {
        const auto [it, added] = pool_names_.emplace(pool->name, diags_->locate(*name));
        if (!added) {
            r.error(*name, "name",
                    "duplicate pool \"" + pool->name + "\" (first defined at line " +
                        std::to_string(it->second.line) + ")");
        }
    } else if (const toml::value* raw = r.find("name"); raw == nullptr) {
        r.missing("name");
    } else if (raw->is_string()) {
        // Invalid, already reported; known anyway so references to it are not reported too.
        pool_names_.emplace(raw->as_string().str, diags_->locate(*raw));
    }
    r.readEnum("algorithm", &pool->algorithm);
    if (const toml::value* key = r.findString("hash_key")) {
        std::string why;
        if (const auto parsed = parseHashKey(key->as_string().str, &why)) {
            pool->hash_key = *parsed;
        } else {
            r.error(*key, "hash_key", why);
        }
    }
    r.readDuration("connect_timeout", &pool->connect_timeout, Duration{1});
    r.readDuration("response_timeout", &pool->response_timeout, Duration{1});
    r.readDuration("idle_timeout", &pool->idle_timeout, Duration{1});
    r.readInteger("keepalive", &pool->keepalive, 0, 100'000);
    r.readInteger("max_conns_per_server", &pool->max_conns_per_server, 0, 1'000'000);
    r.readDuration("queue_timeout", &pool->queue_timeout, Duration{1});
    r.readInteger("retries", &pool->retries, 0, 100);
    r.readBool("retry_5xx", &pool->retry_5xx);
    r.readDuration("slow_start", &pool->slow_start, Duration{0});
    r.readEnum("send_proxy_protocol", &pool->send_proxy_protocol);
    r.readBool("tls", &pool->tls);
    r.readBool("tls_verify", &pool->tls_verify);
    r.readString("tls_ca", &pool->tls_ca);
    for (const char* key : {"tls_ca", "tls"}) {
        if (const toml::value* v = r.find(key)) {
            const Location at = diags_->locate(*v);
            pool->tls_pos = {at.line, at.column};
            break;
        }
    }
    if (const toml::value* check = r.findTable("health_check")) {
        readHealthCheck(*check, &pool->health_check.emplace());
    }
    if (const toml::value* passive = r.findTable("passive_health")) {
        readPassiveHealth(*passive, &pool->passive_health.emplace());
    }
    if (const toml::value* discovery = r.findTable("discovery")) {
        readDiscovery(*discovery, &pool->discovery.emplace());
    }
    if (const toml::value* servers = r.findArrayOfTables("server")) {
        std::map<std::string, Location> names;  // unique within the pool
        for (const toml::value& server_table : servers->as_array()) {
            ServerConfig& server = pool->servers.emplace_back();
            readServer(server_table, &server);
            if (server.name.empty()) continue;  // no usable name or address: already reported
            const auto name_it = server_table.as_table().find("name");
            const toml::value& at =
                name_it != server_table.as_table().end() ? name_it->second : server_table;
            const auto [it, added] = names.emplace(server.name, diags_->locate(at));
            if (!added) {
                diags_->error(at, "pool.server: duplicate server \"" + server.name +
                                      "\" in pool \"" + pool->name + "\" (first at line " +
                                      std::to_string(it->second.line) + ")");
            }
        }
    }
    r.reportUnknownKeys();
}

namespace {
// Visible ASCII only: the value is written into an HTTP request line or header.
bool printableNoSpace(const std::string& text) {
    for (unsigned char c : text) {
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}
}  // namespace

void ConfigReader::readHealthCheck(const toml::value& table, HealthCheckConfig* check) {
    TableReader r(table, "pool.health_check", "[pool.health_check]", diags_);
    r.readEnum("type", &check->type);
    if (const toml::value* path = r.findString("path")) {
        const std::string& text = path->as_string().str;
        if (text.empty() || text.front() != '/') {
            r.error(*path, "path", "must start with '/'");
        } else if (!printableNoSpace(text)) {
            r.error(*path, "path", "must not contain spaces or control characters");
        } else {
            check->path = text;
        }
    }
    if (const toml::value* host = r.findString("host")) {
        // Goes verbatim into the check's Host header.
        if (!printableNoSpace(host->as_string().str)) {
            r.error(*host, "host", "must not contain spaces or control characters");
        } else {
            check->host = host->as_string().str;
        }
    }
    if (const toml::value* expect = r.findString("expect_status")) {
        std::string why;
        if (auto ranges = parseStatusRanges(expect->as_string().str, &why)) {
            check->expect_status = std::move(*ranges);
        } else {
            r.error(*expect, "expect_status", why);
        }
    }
    r.readDuration("interval", &check->interval, Duration{1});
    r.readDuration("timeout", &check->timeout, Duration{1});
    r.readInteger("rise", &check->rise, 1, 1000);
    r.readInteger("fall", &check->fall, 1, 1000);
    r.reportUnknownKeys();
}

void ConfigReader::readPassiveHealth(const toml::value& table, PassiveHealthConfig* passive) {
    TableReader r(table, "pool.passive_health", "[pool.passive_health]", diags_);
    r.readInteger("max_fails", &passive->max_fails, 1, 1000);
    r.readDuration("fail_timeout", &passive->fail_timeout, Duration{1});
    r.reportUnknownKeys();
}

namespace {
// "_service._proto.name": an SRV name's first two labels start with '_'.
bool isSrvName(const std::string& name) {
    const size_t second = name.find('.');
    return isDnsName(name) && name.size() > 1 && name[0] == '_' && second != std::string::npos &&
           second + 1 < name.size() && name[second + 1] == '_' &&
           name.find('.', second + 1) != std::string::npos;
}
}  // namespace

void ConfigReader::readDiscovery(const toml::value& table, DiscoveryConfig* discovery) {
    TableReader r(table, "pool.discovery", "[pool.discovery]", diags_);
    // "" is "not set" for both (config.md writes srv = "" as the default).
    const toml::value* name = r.findString("name");
    const toml::value* srv = r.findString("srv");
    const bool has_name = name != nullptr && !name->as_string().str.empty();
    const bool has_srv = srv != nullptr && !srv->as_string().str.empty();
    if (has_name) {
        if (isDnsName(name->as_string().str)) {
            discovery->name = name->as_string().str;
        } else {
            r.error(*name, "name",
                    "invalid DNS name \"" + name->as_string().str +
                        "\" (labels of letters, digits, '-' and '_', separated by dots)");
        }
    }
    if (has_srv) {
        if (isSrvName(srv->as_string().str)) {
            discovery->srv = srv->as_string().str;
        } else {
            r.error(*srv, "srv",
                    "invalid SRV name \"" + srv->as_string().str +
                        "\" (expected e.g. \"_http._tcp.app.internal\")");
        }
    }
    const bool typed = (name == nullptr) == (r.find("name") == nullptr) &&
                       (srv == nullptr) == (r.find("srv") == nullptr);
    if (typed && has_name == has_srv) {
        r.tableError(has_name ? "[pool.discovery] takes name (A/AAAA records) or srv (SRV "
                                "records), not both"
                              : "[pool.discovery] needs name (A/AAAA records) or srv (SRV "
                                "records)");
    }
    const toml::value* port = r.find("port");
    const toml::value* weight = r.find("weight");
    if (has_srv && !has_name) {
        // SRV records carry both.
        if (port != nullptr) r.error(*port, "port", "SRV records carry the port; remove it");
        if (weight != nullptr) {
            r.error(*weight, "weight", "SRV records carry their own weight; remove it");
        }
    } else {
        if (!r.readInteger("port", &discovery->port, 1, 65535) && port == nullptr && has_name) {
            r.missing("port");
        }
        r.readInteger("weight", &discovery->weight, 1, 1000);
    }
    r.readDuration("refresh", &discovery->refresh, Duration{1});
    r.readDuration("hold", &discovery->hold, Duration{0});
    r.reportUnknownKeys();
}

void ConfigReader::readServer(const toml::value& table, ServerConfig* server) {
    TableReader r(table, "pool.server", "[[pool.server]]", diags_);
    std::string name;
    const bool named = readName(r, "name", &name) != nullptr;
    const bool name_given = r.find("name") != nullptr;
    if (readAddress(r, "address", false, &server->address)) {
        server->name = server->address.text;
    } else if (const toml::value* address = r.find("address"); address == nullptr) {
        r.missing("address");
    } else if (address->is_string()) {
        server->name = address->as_string().str;  // unresolvable: still check for duplicates
    }
    if (named) server->name = name;
    if (name_given && !named) server->name.clear();  // invalid name, already reported
    r.readInteger("weight", &server->weight, 1, 1000);
    r.readBool("backup", &server->backup);
    r.readInteger("max_conns", &server->max_conns, 0, 1'000'000);
    r.reportUnknownKeys();
}

}  // namespace sluice::config
