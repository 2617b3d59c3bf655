#include "config/address_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace sluice::config {

std::optional<Address> parseAddress(std::string_view text, std::string* error) {
    const auto fail = [&](const std::string& why) {
        *error = "invalid address \"" + std::string(text) + "\": " + why;
        return std::nullopt;
    };
    Address address;
    address.text = std::string(text);
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) return fail("missing ']' after the IPv6 address");
        address.host = std::string(text.substr(1, close - 1));
        if (address.host.empty()) return fail("empty host");
        if (close + 1 >= text.size() || text[close + 1] != ':') {
            return fail("expected \":port\" after ']'");
        }
        port_text = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return fail("expected \"host:port\"");
        address.host = std::string(text.substr(0, colon));
        if (address.host.find(':') != std::string::npos) {
            return fail("write IPv6 addresses in brackets, e.g. \"[::1]:8080\"");
        }
        if (address.host.empty()) return fail("empty host (use \"0.0.0.0:PORT\" for any)");
        port_text = text.substr(colon + 1);
    }
    const bool digits = !port_text.empty() && port_text.size() <= 5 &&
                        std::all_of(port_text.begin(), port_text.end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
    const long port = digits ? std::stol(std::string(port_text)) : 0;
    if (port < 1 || port > 65535) return fail("port must be 1..65535");
    address.port = static_cast<uint16_t>(port);
    return address;
}

bool AddressResolver::resolve(Address* address, std::string* error) {
    // IP literals need no resolver (and a config of a thousand servers must not wait on
    // getaddrinfo a thousand times).
    sockaddr_in in4{};
    sockaddr_in6 in6{};
    if (inet_pton(AF_INET, address->host.c_str(), &in4.sin_addr) == 1) {
        in4.sin_family = AF_INET;
        in4.sin_port = htons(address->port);
        std::memcpy(&address->sockaddr, &in4, sizeof in4);
        address->sockaddr_len = sizeof in4;
        return true;
    }
    if (inet_pton(AF_INET6, address->host.c_str(), &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(address->port);
        std::memcpy(&address->sockaddr, &in6, sizeof in6);
        address->sockaddr_len = sizeof in6;
        return true;
    }
    if (!lookups_) {
        *error = "cannot resolve host \"" + address->host + "\": name lookups are off";
        return false;
    }
    const std::string key = address->host + "|" + std::to_string(address->port);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
        Result result;
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        // No AI_ADDRCONFIG: it hides ::1 on hosts whose only IPv6 address is loopback.
        hints.ai_flags = AI_NUMERICSERV;
        addrinfo* list = nullptr;
        const std::string port = std::to_string(address->port);
        const int rc = getaddrinfo(address->host.c_str(), port.c_str(), &hints, &list);
        if (rc != 0 || list == nullptr) {
            result.error = "cannot resolve host \"" + address->host +
                           "\": " + (rc != 0 ? gai_strerror(rc) : "no addresses");
        } else {
            std::memcpy(&result.sockaddr, list->ai_addr, list->ai_addrlen);
            result.sockaddr_len = list->ai_addrlen;
        }
        if (list != nullptr) freeaddrinfo(list);
        it = cache_.emplace(key, result).first;
    }
    if (!it->second.error.empty()) {
        *error = it->second.error;
        return false;
    }
    address->sockaddr = it->second.sockaddr;
    address->sockaddr_len = it->second.sockaddr_len;
    return true;
}

bool sameSocketAddress(const Address& a, const Address& b) {
    if (a.sockaddr_len == 0 || b.sockaddr_len == 0) return a.text == b.text;
    if (a.sockaddr.ss_family != b.sockaddr.ss_family) return false;
    if (a.sockaddr.ss_family == AF_INET) {
        sockaddr_in x{};
        sockaddr_in y{};
        std::memcpy(&x, &a.sockaddr, sizeof x);
        std::memcpy(&y, &b.sockaddr, sizeof y);
        return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
    }
    if (a.sockaddr.ss_family == AF_INET6) {
        sockaddr_in6 x{};
        sockaddr_in6 y{};
        std::memcpy(&x, &a.sockaddr, sizeof x);
        std::memcpy(&y, &b.sockaddr, sizeof y);
        return x.sin6_port == y.sin6_port &&
               std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
    }
    return a.text == b.text;
}

std::string socketKey(const Address& address) {
    if (address.sockaddr_len != 0 && address.sockaddr.ss_family == AF_INET) {
        sockaddr_in in4{};
        std::memcpy(&in4, &address.sockaddr, sizeof in4);
        std::string key = "4";
        key.append(reinterpret_cast<const char*>(&in4.sin_addr), sizeof in4.sin_addr);
        key.append(reinterpret_cast<const char*>(&in4.sin_port), sizeof in4.sin_port);
        return key;
    }
    if (address.sockaddr_len != 0 && address.sockaddr.ss_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, &address.sockaddr, sizeof in6);
        std::string key = "6";
        key.append(reinterpret_cast<const char*>(&in6.sin6_addr), sizeof in6.sin6_addr);
        key.append(reinterpret_cast<const char*>(&in6.sin6_port), sizeof in6.sin6_port);
        return key;
    }
    return "t" + address.text;
}

}  // namespace sluice::config
