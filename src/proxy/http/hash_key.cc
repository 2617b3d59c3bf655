#include "proxy/http/hash_key.h"

namespace sluice::proxy {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string_view cookieValue(std::string_view cookie_header, std::string_view name) {
    while (!cookie_header.empty()) {
        size_t end = cookie_header.find(';');
        std::string_view pair = trim(cookie_header.substr(0, end));
        size_t eq = pair.find('=');
        if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
            std::string_view value = trim(pair.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
                value = value.substr(1, value.size() - 2);
            }
            return value;
        }
        if (end == std::string_view::npos) break;
        cookie_header.remove_prefix(end + 1);
    }
    return {};
}

std::string_view hashKeyOf(const config::PoolConfig& pool, const http::RequestHead& head,
                           std::string_view client_ip) {
    if (pool.algorithm == config::Algorithm::kIpHash) return client_ip;
    if (pool.algorithm != config::Algorithm::kHash) return {};
    switch (pool.hash_key.kind) {
        case config::HashKeyKind::kClientIp:
            return client_ip;
        case config::HashKeyKind::kUri:
            return head.target;
        case config::HashKeyKind::kHeader: {
            size_t at = head.headers.find(pool.hash_key.name);
            return at == http::HeaderList::npos ? std::string_view() : head.headers.value(at);
        }
        case config::HashKeyKind::kCookie: {
            // Several Cookie fields are allowed (HTTP/1.1 clients normally send one).
            for (size_t at = head.headers.find("Cookie"); at != http::HeaderList::npos;
                 at = head.headers.find("Cookie", at + 1)) {
                std::string_view v = cookieValue(head.headers.value(at), pool.hash_key.name);
                if (!v.empty()) return v;
            }
            return {};
        }
    }
    return {};
}

}  // namespace sluice::proxy
