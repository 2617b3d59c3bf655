#include "routing/router.h"

#include <cctype>

namespace sluice::routing {
namespace {

// Host header without port, for matching: "Example.com:8080" -> "Example.com", "[::1]:80" ->
// "[::1]".
std::string_view stripPort(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        auto end = host.find(']');
        return end == std::string_view::npos ? host : host.substr(0, end + 1);
    }
    auto colon = host.rfind(':');
    return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool equalsLower(std::string_view value, std::string_view lower) {
    if (value.size() != lower.size()) return false;
    for (size_t i = 0; i < value.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(value[i])) != lower[i]) return false;
    }
    return true;
}

bool hostMatches(std::string_view pattern, std::string_view host) {
    if (pattern.empty()) return true;
    if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
        std::string_view suffix = pattern.substr(1);  // ".example.com"
        return host.size() > suffix.size() &&
               equalsLower(host.substr(host.size() - suffix.size()), suffix);
    }
    return equalsLower(host, pattern);
}

// Path part of an origin-form or absolute-form target.
std::string_view pathOf(std::string_view target) {
    auto scheme = target.find("://");
    if (scheme != std::string_view::npos && target.front() != '/') {
        auto slash = target.find('/', scheme + 3);
        return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    return target;
}

}  // namespace

Router::Router(const config::ListenerConfig& listener, const Snapshot& snapshot)
    : default_pool_(listener.pool.empty() ? -1 : snapshot.poolIndex(listener.pool)) {
    for (const auto& route : listener.routes) {
        std::string host;
        for (char c : route.host)
            host.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        routes_.push_back({std::move(host), route.path_prefix, snapshot.poolIndex(route.pool)});
    }
}

int Router::route(std::string_view host, std::string_view target) const {
    std::string_view bare_host = stripPort(host);
    std::string_view path = pathOf(target);
    for (const auto& r : routes_) {
        if (!hostMatches(r.host, bare_host)) continue;
        if (!r.path_prefix.empty() && path.substr(0, r.path_prefix.size()) != r.path_prefix)
            continue;
        return r.pool;
    }
    return default_pool_;
}

}  // namespace sluice::routing
