#include "config/address_resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace sluice::config {
namespace {

TEST(AddressResolver, SplitsHostAndPort) {
    std::string error;
    const auto address = parseAddress("127.0.0.1:8080", &error);
    ASSERT_TRUE(address) << error;
    EXPECT_EQ(address->text, "127.0.0.1:8080");
    EXPECT_EQ(address->host, "127.0.0.1");
    EXPECT_EQ(address->port, 8080);
}

TEST(AddressResolver, StripsBracketsFromIpv6) {
    std::string error;
    const auto address = parseAddress("[::1]:443", &error);
    ASSERT_TRUE(address) << error;
    EXPECT_EQ(address->host, "::1");
    EXPECT_EQ(address->port, 443);
}

TEST(AddressResolver, RejectsMalformedAddresses) {
    std::string error;
    for (const char* text : {"", "localhost", ":80", "host:", "host:0", "host:65536", "host:http",
                             "::1:80", "[::1]80", "[::1", "[]:80", "host:-1", "host:080000"}) {
        EXPECT_FALSE(parseAddress(text, &error)) << text;
    }
    parseAddress("::1:80", &error);
    EXPECT_NE(error.find("brackets"), std::string::npos) << error;
}

TEST(AddressResolver, ResolvesNumericAndLocalhost) {
    std::string error;
    AddressResolver resolver;
    auto v4 = parseAddress("127.0.0.1:8001", &error);
    ASSERT_TRUE(v4 && resolver.resolve(&*v4, &error)) << error;
    ASSERT_EQ(v4->sockaddr.ss_family, AF_INET);
    sockaddr_in sin{};
    std::memcpy(&sin, &v4->sockaddr, sizeof sin);
    EXPECT_EQ(ntohs(sin.sin_port), 8001);
    EXPECT_EQ(ntohl(sin.sin_addr.s_addr), 0x7f000001u);

    auto v6 = parseAddress("[::1]:9", &error);
    ASSERT_TRUE(v6 && resolver.resolve(&*v6, &error)) << error;
    EXPECT_EQ(v6->sockaddr.ss_family, AF_INET6);

    auto named = parseAddress("localhost:80", &error);
    ASSERT_TRUE(named && resolver.resolve(&*named, &error)) << error;
    EXPECT_GT(named->sockaddr_len, 0u);
}

TEST(AddressResolver, ReportsUnresolvableHost) {
    std::string error;
    AddressResolver resolver;
    auto address = parseAddress("no-such-host.invalid:80", &error);
    ASSERT_TRUE(address);
    EXPECT_FALSE(resolver.resolve(&*address, &error));
    EXPECT_NE(error.find("cannot resolve host \"no-such-host.invalid\""), std::string::npos);
}

TEST(AddressResolver, ComparesResolvedSockets) {
    std::string error;
    AddressResolver resolver;
    auto a = parseAddress("127.0.0.1:80", &error);
    auto b = parseAddress("127.0.0.1:80", &error);
    auto c = parseAddress("127.0.0.1:81", &error);
    ASSERT_TRUE(resolver.resolve(&*a, &error) && resolver.resolve(&*b, &error) &&
                resolver.resolve(&*c, &error));
    EXPECT_TRUE(sameSocketAddress(*a, *b));
    EXPECT_FALSE(sameSocketAddress(*a, *c));
}

}  // namespace
}  // namespace sluice::config
