#include "config/config_diff.h"

#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "config/address_resolver.h"

namespace sluice::config {
namespace {

bool sameOptionalAddress(const std::optional<Address>& a, const std::optional<Address>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->text == b->text && sameSocketAddress(*a, *b));
}

bool sameTls(const std::optional<ListenerTlsConfig>& a, const std::optional<ListenerTlsConfig>& b) {
    if (a.has_value() != b.has_value()) return false;
    if (!a) return true;
    if (a->certificates.size() != b->certificates.size()) return false;
    for (size_t i = 0; i < a->certificates.size(); ++i) {
        if (a->certificates[i].cert != b->certificates[i].cert ||
            a->certificates[i].key != b->certificates[i].key) {
            return false;
        }
    }
    return a->min_version == b->min_version && a->alpn == b->alpn &&
           sameOptionalAddress(a->redirect_http, b->redirect_http);
}

bool sameRoutes(const std::vector<RouteConfig>& a, const std::vector<RouteConfig>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tie(a[i].host, a[i].path_prefix, a[i].pool) !=
            std::tie(b[i].host, b[i].path_prefix, b[i].pool)) {
            return false;
        }
    }
    return true;
}

// By name, in file order; a name looked up in a hash map (a pool of 10,000 servers made the
// pairwise search 10^8 string comparisons per reload).
template <typename T, typename Same>
void diffNamed(const std::vector<T>& before, const std::vector<T>& after, Same same,
               std::vector<std::string>& added, std::vector<std::string>& removed,
               std::vector<std::string>& changed, const std::string& prefix = "") {
    std::unordered_map<std::string_view, const T*> after_by_name;
    after_by_name.reserve(after.size());
    for (const auto& a : after) after_by_name.emplace(a.name, &a);
    std::unordered_set<std::string_view> before_names;
    before_names.reserve(before.size());
    for (const auto& b : before) {
        before_names.insert(b.name);
        const auto it = after_by_name.find(b.name);
        if (it == after_by_name.end()) {
            removed.push_back(prefix + b.name);
        } else if (!same(b, *it->second)) {
            changed.push_back(prefix + b.name);
        }
    }
    for (const auto& a : after) {
        if (before_names.count(a.name) == 0) added.push_back(prefix + a.name);
    }
}

}  // namespace

bool ConfigDiff::empty() const {
    return listeners_added.empty() && listeners_removed.empty() && listeners_changed.empty() &&
           pools_added.empty() && pools_removed.empty() && pools_changed.empty() &&
           servers_added.empty() && servers_removed.empty() && servers_changed.empty();
}

bool sameListener(const ListenerConfig& a, const ListenerConfig& b) {
    return a.bind.text == b.bind.text && sameSocketAddress(a.bind, b.bind) && a.mode == b.mode &&
           a.pool == b.pool && a.idle_timeout == b.idle_timeout &&
           a.client_header_timeout == b.client_header_timeout &&
           a.client_body_timeout == b.client_body_timeout &&
           a.max_header_bytes == b.max_header_bytes && a.max_headers == b.max_headers &&
           a.max_body_bytes == b.max_body_bytes && a.forwarded_headers == b.forwarded_headers &&
           a.request_id_header == b.request_id_header &&
           a.accept_proxy_protocol == b.accept_proxy_protocol &&
           a.trusted_proxies == b.trusted_proxies &&
           a.max_connections_per_ip == b.max_connections_per_ip && a.freebind == b.freebind &&
           a.http2 == b.http2 && a.h2c == b.h2c &&
           a.http2_max_concurrent_streams == b.http2_max_concurrent_streams &&
           a.http2_initial_window == b.http2_initial_window && sameTls(a.tls, b.tls) &&
           sameRoutes(a.routes, b.routes) && a.rate_limits == b.rate_limits;
}

bool samePoolSettings(const PoolConfig& a, const PoolConfig& b) {
    auto hc = [](const std::optional<HealthCheckConfig>& h) {
        return h ? std::make_tuple(true, h->type, h->path, h->host, h->expect_status, h->interval,
                                   h->timeout, h->rise, h->fall)
                 : std::make_tuple(false, HealthCheckType::kTcp, std::string(), std::string(),
                                   std::vector<std::pair<int, int>>(), Duration(), Duration(), 0u,
                                   0u);
    };
    auto ph = [](const std::optional<PassiveHealthConfig>& p) {
        return p ? std::make_tuple(true, p->max_fails, p->fail_timeout)
                 : std::make_tuple(false, 0u, Duration());
    };
    return a.algorithm == b.algorithm && a.hash_key.kind == b.hash_key.kind &&
           a.hash_key.name == b.hash_key.name && a.connect_timeout == b.connect_timeout &&
           a.response_timeout == b.response_timeout && a.idle_timeout == b.idle_timeout &&
           a.keepalive == b.keepalive && a.max_conns_per_server == b.max_conns_per_server &&
           a.queue_timeout == b.queue_timeout && a.retries == b.retries &&
           a.retry_5xx == b.retry_5xx && a.slow_start == b.slow_start &&
           a.discovery == b.discovery && a.send_proxy_protocol == b.send_proxy_protocol &&
           a.tls == b.tls && a.tls_verify == b.tls_verify && a.tls_ca == b.tls_ca &&
           hc(a.health_check) == hc(b.health_check) && ph(a.passive_health) == ph(b.passive_health);
}

bool sameServer(const ServerConfig& a, const ServerConfig& b) {
    return a.address.text == b.address.text && sameSocketAddress(a.address, b.address) &&
           a.weight == b.weight && a.backup == b.backup && a.max_conns == b.max_conns;
}

ConfigDiff diffConfigs(const Config& before, const Config& after) {
    ConfigDiff d;
    diffNamed(before.listeners, after.listeners, sameListener, d.listeners_added,
              d.listeners_removed, d.listeners_changed);
    diffNamed(before.pools, after.pools, samePoolSettings, d.pools_added, d.pools_removed,
              d.pools_changed);
    std::unordered_map<std::string_view, const PoolConfig*> before_pools;
    for (const auto& b : before.pools) before_pools.emplace(b.name, &b);
    std::unordered_set<std::string_view> after_pools;
    for (const auto& a : after.pools) after_pools.insert(a.name);
    for (const auto& a : after.pools) {
        const auto found = before_pools.find(a.name);
        const PoolConfig* b = found == before_pools.end() ? nullptr : found->second;
        if (!b) {
            for (const auto& s : a.servers) d.servers_added.push_back(a.name + "/" + s.name);
            continue;
        }
        diffNamed(b->servers, a.servers, sameServer, d.servers_added, d.servers_removed,
                  d.servers_changed, a.name + "/");
    }
    for (const auto& b : before.pools) {
        if (after_pools.count(b.name) != 0) continue;
        for (const auto& s : b.servers) d.servers_removed.push_back(b.name + "/" + s.name);
    }
    return d;
}

}  // namespace sluice::config
