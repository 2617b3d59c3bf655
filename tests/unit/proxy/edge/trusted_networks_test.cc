#include "proxy/edge/trusted_networks.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/units.h"

namespace sluice::proxy::edge {
namespace {

sockaddr_storage addr(const char* text) {
    sockaddr_storage ss{};
    if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in&>(ss).sin_addr) == 1) {
        ss.ss_family = AF_INET;
    } else {
        EXPECT_EQ(inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6&>(ss).sin6_addr), 1);
        ss.ss_family = AF_INET6;
    }
    return ss;
}

std::vector<config::Network> nets(std::vector<std::string> texts) {
    std::vector<config::Network> out;
    for (const auto& t : texts) {
        std::string error;
        auto n = config::parseNetwork(t, &error);
        EXPECT_TRUE(n) << t << ": " << error;
        if (n) out.push_back(*n);
    }
    return out;
}

bool in(const std::vector<config::Network>& n, const char* a) {
    const sockaddr_storage ss = addr(a);
    return inNetworks(n, reinterpret_cast<const sockaddr&>(ss));
}

TEST(TrustedNetworks, EmptyTrustsNobody) {
    EXPECT_FALSE(in({}, "127.0.0.1"));
    EXPECT_FALSE(in({}, "::1"));
}

TEST(TrustedNetworks, MatchesPrefixesBitByBit) {
    const auto n = nets({"10.0.0.0/8", "192.0.2.7", "172.16.0.0/12", "2001:db8::/33"});
    EXPECT_TRUE(in(n, "10.255.1.2"));
    EXPECT_FALSE(in(n, "11.0.0.1"));
    EXPECT_TRUE(in(n, "192.0.2.7"));
    EXPECT_FALSE(in(n, "192.0.2.8"));
    EXPECT_TRUE(in(n, "172.31.255.255"));
    EXPECT_FALSE(in(n, "172.32.0.0"));
    EXPECT_TRUE(in(n, "2001:db8:7fff::1"));
    EXPECT_FALSE(in(n, "2001:db8:8000::1"));
}

TEST(TrustedNetworks, V4MappedClientsMatchIpv4NetworksOnly) {
    const auto v4 = nets({"127.0.0.0/8"});
    EXPECT_TRUE(in(v4, "::ffff:127.0.0.2"));
    EXPECT_FALSE(in(v4, "::1"));
    const auto v6 = nets({"::1/128"});
    EXPECT_TRUE(in(v6, "::1"));
    EXPECT_FALSE(in(v6, "127.0.0.1"));
}

}  // namespace
}  // namespace sluice::proxy::edge
