#include "proxy/edge/trusted_networks.h"

#include "proxy/edge/client_address.h"

namespace sluice::proxy::edge {
namespace {

bool prefixMatches(const uint8_t* a, const uint8_t* b, unsigned bits) {
    for (unsigned i = 0; bits > 0; ++i) {
        const unsigned take = bits < 8 ? bits : 8;
        const uint8_t mask = static_cast<uint8_t>(0xFF00u >> take);
        if ((a[i] & mask) != (b[i] & mask)) return false;
        bits -= take;
    }
    return true;
}

}  // namespace

bool inNetworks(const std::vector<config::Network>& networks, const sockaddr& address) {
    if (networks.empty()) return false;
    const auto client = ClientAddress::of(address);
    if (!client) return false;
    const uint8_t* bytes = client->bytes.data();
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    const bool v4 = prefixMatches(bytes, kMapped, 96);
    for (const config::Network& network : networks) {
        if (network.family == AF_INET) {
            if (v4 && prefixMatches(bytes + 12, network.address.data(), network.prefix_length))
                return true;
        } else if (prefixMatches(bytes, network.address.data(), network.prefix_length)) {
            return true;
        }
    }
    return false;
}

}  // namespace sluice::proxy::edge
