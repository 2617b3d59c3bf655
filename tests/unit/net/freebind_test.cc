// openListenSocket's `freebind`: an address this host does not hold (here one of RFC 2544's
// 198.18.0.0/15, never configured on a test machine) binds only with IP_FREEBIND, and the error
// without it names the `freebind` key. No address is added to any interface.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <string>

#include "net/acceptor.h"

namespace sluice::net {
namespace {

// "IP:0" or "[IPv6]:0" (port 0: any free one).
config::Address address(const std::string& ip, const std::string& text) {
    config::Address a;
    a.text = text;
    a.host = ip;
    if (ip.find(':') != std::string::npos) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.sockaddr);
        in6->sin6_family = AF_INET6;
        EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), &in6->sin6_addr), 1);
        a.sockaddr_len = sizeof(sockaddr_in6);
    } else {
        auto* in4 = reinterpret_cast<sockaddr_in*>(&a.sockaddr);
        in4->sin_family = AF_INET;
        EXPECT_EQ(inet_pton(AF_INET, ip.c_str(), &in4->sin_addr), 1);
        a.sockaddr_len = sizeof(sockaddr_in);
    }
    return a;
}

TEST(Freebind, NonLocalAddressFailsWithAnErrorNamingFreebind) {
    std::string error;
    EXPECT_EQ(openListenSocket(address("198.18.0.254", "198.18.0.254:0"), &error), -1);
    EXPECT_NE(error.find("bind 198.18.0.254:0: Cannot assign requested address"), std::string::npos)
        << error;
    EXPECT_NE(error.find("`freebind = true`"), std::string::npos) << error;
}

TEST(Freebind, NonLocalAddressBindsWithFreebind) {
    std::string error;
    const int fd = openListenSocket(address("198.18.0.254", "198.18.0.254:0"), &error, true);
    ASSERT_GE(fd, 0) << error;
    ::close(fd);
    const int fd6 = openListenSocket(address("2001:db8::fe", "[2001:db8::fe]:0"), &error, true);
    ASSERT_GE(fd6, 0) << error;
    ::close(fd6);
}

TEST(Freebind, ALocalAddressBindsEitherWay) {
    std::string error;
    for (bool freebind : {false, true}) {
        const int fd = openListenSocket(address("127.0.0.1", "127.0.0.1:0"), &error, freebind);
        ASSERT_GE(fd, 0) << error;
        ::close(fd);
    }
}

}  // namespace
}  // namespace sluice::net
