#pragma once
// A client's IP address as the edge limiters key it: 16 bytes, IPv6 as is and IPv4 as its
// v4-mapped IPv6 form (::ffff:a.b.c.d), so one client is one key whether it reached an IPv4
// listener or a dual-stack one. The port is not part of it.

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace sluice::proxy::edge {

struct ClientAddress {
    std::array<uint8_t, 16> bytes{};

    // From an AF_INET or AF_INET6 socket address (a PROXY header's source, getpeername()'s
    // result); nullopt for any other family.
    static std::optional<ClientAddress> of(const sockaddr& address) {
        ClientAddress a;
        if (address.sa_family == AF_INET) {
            sockaddr_in sin;
            std::memcpy(&sin, &address, sizeof(sin));
            a.bytes[10] = 0xFF;
            a.bytes[11] = 0xFF;
            std::memcpy(a.bytes.data() + 12, &sin.sin_addr.s_addr, 4);
            return a;
        }
        if (address.sa_family == AF_INET6) {
            sockaddr_in6 sin6;
            std::memcpy(&sin6, &address, sizeof(sin6));
            std::memcpy(a.bytes.data(), &sin6.sin6_addr, 16);
            return a;
        }
        return std::nullopt;
    }

    // The 16 bytes, e.g. as a RateLimiter key for `key = "client_ip"`.
    std::string_view view() const {
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    }
    bool operator==(const ClientAddress&) const = default;
};

}  // namespace sluice::proxy::edge
