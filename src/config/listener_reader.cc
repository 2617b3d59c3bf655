// ConfigReader: [[listener]], [listener.tls], [[listener.route]].

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "config/config_reader.h"
#include "config/units.h"

namespace sluice::config {
namespace {

// "example.com" or "*.example.com"; letters, digits, '-', '_' and '.' between labels.
bool isValidRouteHost(std::string_view host) {
    if (host.substr(0, 2) == "*.") host.remove_prefix(2);
    if (host.empty() || host.front() == '.' || host.back() == '.') return false;
    if (host.find("..") != std::string_view::npos) return false;
    return std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

}  // namespace

void ConfigReader::readListener(const toml::value& table, ListenerConfig* listener) {
    TableReader r(table, "listener", "[[listener]]", diags_);
    const std::string who = [&] {
        const toml::value* name = r.find("name");
        return name != nullptr && name->is_string() ? "listener \"" + name->as_string().str + "\""
                                                    : std::string("this listener");
    }();

    if (const toml::value* name = readName(r, "name", &listener->name)) {
        const auto [it, added] = listener_names_.emplace(listener->name, diags_->locate(*name));
        if (!added) {
            r.error(*name, "name",
                    "duplicate listener \"" + listener->name + "\" (first defined at line " +
                        std::to_string(it->second.line) + ")");
        }
    } else if (r.find("name") == nullptr) {
        r.missing("name");
    }
    if (readAddress(r, "bind", false, &listener->bind)) {
        claimBind(listener->bind, *r.find("bind"), "listener.bind", who);
    } else if (r.find("bind") == nullptr) {
        r.missing("bind");
    }
    const bool mode_known = r.find("mode") == nullptr || r.readEnum("mode", &listener->mode);
    if (const toml::value* pool = r.findString("pool")) {
        listener->pool = pool->as_string().str;
        if (!listener->pool.empty()) checkPoolRef(*pool, "listener.pool", listener->pool);
    }
    r.readDuration("idle_timeout", &listener->idle_timeout, Duration{1});
    r.readDuration("client_header_timeout", &listener->client_header_timeout, Duration{1});
    r.readDuration("client_body_timeout", &listener->client_body_timeout, Duration{1});
    r.readSize("max_header_bytes", &listener->max_header_bytes, 1024, 1024 * 1024);
    r.readInteger("max_headers", &listener->max_headers, 1, 10'000);
    r.readSize("max_body_bytes", &listener->max_body_bytes, 0, uint64_t{1} << 62);
    r.readBool("forwarded_headers", &listener->forwarded_headers);
    if (const toml::value* header = r.findString("request_id_header")) {
        const std::string& text = header->as_string().str;
        if (!text.empty() && !isToken(text)) {
            r.error(*header, "request_id_header", "\"" + text + "\" is not a valid header name");
        } else {
            listener->request_id_header = text;
        }
    }
    r.readBool("accept_proxy_protocol", &listener->accept_proxy_protocol);
    readNetworks(r, "trusted_proxies", &listener->trusted_proxies);
    r.readInteger("max_connections_per_ip", &listener->max_connections_per_ip, 0, 10'000'000);
    r.readBool("freebind", &listener->freebind);
    r.readBool("http2", &listener->http2);
    r.readBool("h2c", &listener->h2c);
    r.readInteger("http2_max_concurrent_streams", &listener->http2_max_concurrent_streams, 1,
                  INT32_MAX);
    r.readSize("http2_initial_window", &listener->http2_initial_window, 1, INT32_MAX);
    if (const toml::value* tls = r.findTable("tls")) readListenerTls(*tls, listener);
    if (const toml::value* limits = r.findArrayOfTables("rate_limit")) {
        for (const toml::value& limit : limits->as_array()) {
            readRateLimit(limit, &listener->rate_limits.emplace_back());
        }
    }
    checkHttpOnlyKeys(r, *listener, mode_known, who);
    defaultAlpn(r.find("tls"), listener);

    bool catch_all = false;
    const toml::value* routes = r.findArrayOfTables("route");
    if (routes != nullptr) {
        for (const toml::value& route_table : routes->as_array()) {
            RouteConfig& route = listener->routes.emplace_back();
            readRoute(route_table, &route);
            catch_all |=
                route.host.empty() && (route.path_prefix.empty() || route.path_prefix == "/");
        }
    }
    if (mode_known && listener->mode == ListenerMode::kTcp) {
        if (listener->pool.empty()) {
            r.tableError(who + ": mode = \"tcp\" requires a pool");
        }
        if (routes != nullptr && !routes->as_array().empty()) {
            diags_->error(routes->as_array().front(),
                          who +
                              ": [[listener.route]] needs mode = \"http\" (tcp listeners "
                              "forward everything to their pool)");
        }
        if (listener->tls && listener->tls->redirect_http) {
            diags_->error(r.find("tls")->as_table().at("redirect_http"),
                          who + ": listener.tls.redirect_http needs mode = \"http\"");
        }
    } else if (mode_known && listener->pool.empty() && !catch_all &&
               (r.find("pool") == nullptr || r.find("pool")->is_string())) {
        r.tableError(who +
                     ": an http listener needs a pool, or a route without host and "
                     "path_prefix to catch every request");
    }
    r.reportUnknownKeys();
}

void ConfigReader::checkHttpOnlyKeys(TableReader& r, const ListenerConfig& listener,
                                     bool mode_known, const std::string& who) {
    const bool tcp = mode_known && listener.mode == ListenerMode::kTcp;
    const toml::value* trusted = r.find("trusted_proxies");
    if (tcp && trusted != nullptr && !listener.trusted_proxies.empty()) {
        r.error(*trusted, "trusted_proxies",
                "needs mode = \"http\" (tcp listeners read no headers)");
    }
    const toml::value* limits = r.find("rate_limit");
    if (tcp && limits != nullptr && limits->is_array() && !limits->as_array().empty()) {
        diags_->error(limits->as_array().front(),
                      who + ": [[listener.rate_limit]] needs mode = \"http\" (it limits requests)");
    }
    if (const toml::value* h2c = r.find("h2c"); h2c != nullptr && listener.h2c) {
        if (tcp) {
            r.error(*h2c, "h2c", "needs mode = \"http\"");
        } else if (listener.tls) {
            r.error(*h2c, "h2c",
                    "is HTTP/2 without TLS; with [listener.tls], HTTP/2 is offered by ALPN "
                    "(http2 = true)");
        } else if (!listener.http2) {
            r.error(*h2c, "h2c", "needs http2 = true");
        }
    }
    // "h2" is offered only while http2 = true (config.md).
    if (const toml::value* tls = r.find("tls"); tls != nullptr && listener.tls && !listener.http2) {
        const auto& alpn = listener.tls->alpn;
        if (std::find(alpn.begin(), alpn.end(), "h2") != alpn.end()) {
            diags_->error(tls->as_table().at("alpn"),
                          "listener.tls.alpn: \"h2\" needs the listener's http2 = true");
        }
    }
}

void ConfigReader::defaultAlpn(const toml::value* tls_table, ListenerConfig* listener) {
    // Without an `alpn` list, an http listener with http2 = true offers h2 before http/1.1.
    if (!listener->tls || listener->mode != ListenerMode::kHttp || !listener->http2) return;
    if (tls_table != nullptr && tls_table->is_table() && tls_table->as_table().count("alpn") != 0) {
        return;
    }
    listener->tls->alpn = {"h2", "http/1.1"};
}

void ConfigReader::readNetworks(TableReader& reader, const char* key, std::vector<Network>* out) {
    const toml::value* list = reader.find(key);
    if (list == nullptr) return;
    if (!list->is_array()) {
        reader.error(
            *list, key,
            "expected an array of networks like [\"10.0.0.0/8\"], got " + describeType(*list));
        return;
    }
    for (const toml::value& entry : list->as_array()) {
        std::string why;
        if (!entry.is_string()) {
            diags_->error(entry, reader.path(key) + ": expected a network string, got " +
                                     describeType(entry));
        } else if (auto network = parseNetwork(entry.as_string().str, &why)) {
            out->push_back(std::move(*network));
        } else {
            diags_->error(entry, reader.path(key) + ": " + why);
        }
    }
}

void ConfigReader::readRateLimit(const toml::value& table, RateLimitConfig* limit) {
    TableReader r(table, "listener.rate_limit", "[[listener.rate_limit]]", diags_);
    if (const toml::value* key = r.findString("key")) {
        std::string why;
        if (!parseRateLimitKey(key->as_string().str, limit, &why)) r.error(*key, "key", why);
    }
    if (!r.readInteger("rate", &limit->rate, 1, 1'000'000'000) && r.find("rate") == nullptr) {
        r.missing("rate");
    }
    r.readDuration("per", &limit->per, Duration{1});
    r.readInteger("burst", &limit->burst, 0, 1'000'000'000);
    if (const toml::value* prefix = r.findString("path_prefix")) {
        const std::string& text = prefix->as_string().str;
        if (!text.empty() && text.front() != '/') {
            r.error(*prefix, "path_prefix", "must start with '/'");
        } else {
            limit->path_prefix = text;
        }
    }
    r.readInteger("max_keys", &limit->max_keys, 1, 100'000'000);
    r.reportUnknownKeys();
}

void ConfigReader::readListenerTls(const toml::value& table, ListenerConfig* listener) {
    TableReader r(table, "listener.tls", "[listener.tls]", diags_);
    ListenerTlsConfig& tls = listener->tls.emplace();
    if (const toml::value* certs = r.findArrayOfTables("certificates")) {
        if (certs->as_array().empty()) {
            r.error(*certs, "certificates", "at least one { cert, key } entry is required");
        }
        for (const toml::value& entry : certs->as_array()) {
            TableReader c(entry, "listener.tls.certificates", "a listener.tls.certificates entry",
                          diags_);
            TlsCertificate& cert = tls.certificates.emplace_back();
            const Location at = diags_->locate(entry);
            cert.pos = {at.line, at.column};
            if (!readNonEmptyString(c, "cert", &cert.cert) && c.find("cert") == nullptr) {
                c.missing("cert");
            }
            if (!readNonEmptyString(c, "key", &cert.key) && c.find("key") == nullptr) {
                c.missing("key");
            }
            c.reportUnknownKeys();
        }
    } else if (r.find("certificates") == nullptr) {
        r.missing("certificates");
    }
    r.readEnum("min_version", &tls.min_version);
    if (const toml::value* alpn = r.find("alpn")) {
        const bool strings =
            alpn->is_array() &&
            std::all_of(alpn->as_array().begin(), alpn->as_array().end(), [](const toml::value& v) {
                return v.is_string() && !v.as_string().str.empty() &&
                       v.as_string().str.size() <= 255;
            });
        if (!strings) {
            r.error(*alpn, "alpn", "expected an array of protocol names like [\"http/1.1\"]");
        } else {
            tls.alpn.clear();
            for (const toml::value& v : alpn->as_array()) tls.alpn.push_back(v.as_string().str);
        }
    }
    Address redirect;
    if (readAddress(r, "redirect_http", true, &redirect)) {
        claimBind(redirect, *r.find("redirect_http"), "listener.tls.redirect_http",
                  "the redirect_http of listener \"" + listener->name + "\"");
        tls.redirect_http = redirect;
    }
    r.reportUnknownKeys();
}

void ConfigReader::readRoute(const toml::value& table, RouteConfig* route) {
    TableReader r(table, "listener.route", "[[listener.route]]", diags_);
    if (const toml::value* host = r.findString("host")) {
        std::string text = host->as_string().str;
        std::transform(text.begin(), text.end(), text.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (text.find(':') != std::string::npos) {
            r.error(*host, "host", "write the host without a port (ports are ignored)");
        } else if (!text.empty() && !isValidRouteHost(text)) {
            r.error(*host, "host",
                    "invalid host \"" + host->as_string().str +
                        "\" (expected e.g. \"api.example.com\" or \"*.example.com\")");
        } else {
            route->host = text;
        }
    }
    if (const toml::value* prefix = r.findString("path_prefix")) {
        const std::string& text = prefix->as_string().str;
        if (!text.empty() && text.front() != '/') {
            r.error(*prefix, "path_prefix", "must start with '/'");
        } else {
            route->path_prefix = text;
        }
    }
    if (const toml::value* pool = r.findString("pool")) {
        route->pool = pool->as_string().str;
        checkPoolRef(*pool, "listener.route.pool", route->pool);
    } else if (r.find("pool") == nullptr) {
        r.missing("pool");
    }
    r.reportUnknownKeys();
}

}  // namespace sluice::config
