#include "admin/client_filter.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>

namespace sluice::admin {
namespace {

bool prefixMatches(const std::array<uint8_t, 16>& network, const uint8_t* address,
                   unsigned prefix_length) {
    for (unsigned bit = 0; bit < prefix_length; ++bit) {
        const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
        if ((network[bit / 8] & mask) != (address[bit / 8] & mask)) return false;
    }
    return true;
}

}  // namespace

bool clientAllowed(const std::vector<config::Network>& allow, std::string_view ip) {
    const std::string text(ip);
    uint8_t v4[4];
    uint8_t v6[16];
    bool is_v4 = inet_pton(AF_INET, text.c_str(), v4) == 1;
    if (!is_v4) {
        if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return false;
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(kMapped, kMapped + 12, v6)) {
            std::copy(v6 + 12, v6 + 16, v4);
            is_v4 = true;
        }
    }
    for (const config::Network& network : allow) {
        if (network.family == AF_INET && is_v4 &&
            prefixMatches(network.address, v4, network.prefix_length)) {
            return true;
        }
        if (network.family == AF_INET6 && !is_v4 &&
            prefixMatches(network.address, v6, network.prefix_length)) {
            return true;
        }
    }
    return false;
}

}  // namespace sluice::admin
