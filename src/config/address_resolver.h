#pragma once
// Address text ("host:port", "[v6]:port") -> config::Address, and the one-time resolution of
// hostnames at load/reload. Blocking (getaddrinfo): main thread only, never on the data path.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace sluice::config {

// Splits and checks the text (non-empty host, brackets around IPv6 literals, port 1..65535).
// Does not resolve. Returns nullopt and sets *error (a short phrase) on failure.
std::optional<Address> parseAddress(std::string_view text, std::string* error);

// Resolves each distinct host once per load; the first address getaddrinfo returns wins.
class AddressResolver {
  public:
    // lookups = false: IP literals only; a hostname fails without asking a resolver.
    explicit AddressResolver(bool lookups = true) : lookups_(lookups) {}

    // Fills address->sockaddr / sockaddr_len. Returns false and sets *error on failure.
    bool resolve(Address* address, std::string* error);

  private:
    struct Result {
        sockaddr_storage sockaddr{};
        socklen_t sockaddr_len = 0;
        std::string error;
    };
    bool lookups_;
    std::map<std::string, Result> cache_;  // key: "host|port"
};

// Two resolved addresses naming the same socket (family, address, port).
bool sameSocketAddress(const Address& a, const Address& b);

// A map key: equal for two resolved addresses exactly when sameSocketAddress() holds
// (unresolved ones compare by text).
std::string socketKey(const Address& address);

}  // namespace sluice::config
