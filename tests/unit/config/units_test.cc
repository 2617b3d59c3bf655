#include "config/units.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace sluice::config {
namespace {

TEST(Units, ParsesDurationsInEveryUnit) {
    std::string error;
    EXPECT_EQ(parseDuration("250ms", &error), Duration{250});
    EXPECT_EQ(parseDuration("2s", &error), Duration{2000});
    EXPECT_EQ(parseDuration("5m", &error), Duration{300000});
    EXPECT_EQ(parseDuration("1h", &error), Duration{3600000});
    EXPECT_EQ(parseDuration("0s", &error), Duration{0});
}

TEST(Units, RejectsDurationWithoutUnitAndSuggestsOne) {
    std::string error;
    EXPECT_FALSE(parseDuration("30", &error));
    EXPECT_EQ(error, "a duration needs a unit: write \"30s\" or \"30ms\"");
}

TEST(Units, RejectsMalformedDurations) {
    std::string error;
    for (const char* text : {"", "s", "1.5s", "-1s", "1 s", "1sec", "10d", "1S", "s1"}) {
        EXPECT_FALSE(parseDuration(text, &error)) << text;
    }
}

TEST(Units, RejectsDurationLongerThanAYear) {
    std::string error;
    EXPECT_TRUE(parseDuration("8760h", &error));
    EXPECT_FALSE(parseDuration("8761h", &error));
    EXPECT_FALSE(parseDuration("99999999999999999999999s", &error));
}

TEST(Units, ParsesBinarySizeSuffixes) {
    std::string error;
    EXPECT_EQ(parseSize("64KiB", &error), 65536u);
    EXPECT_EQ(parseSize("10MiB", &error), 10u * 1024 * 1024);
    EXPECT_EQ(parseSize("1GiB", &error), 1024u * 1024 * 1024);
}

TEST(Units, RejectsSizeWithoutBinarySuffix) {
    std::string error;
    for (const char* text : {"64", "64KB", "64kib", "1.5MiB", "KiB", "64 KiB", "1TiB"}) {
        EXPECT_FALSE(parseSize(text, &error)) << text;
    }
}

TEST(Units, AcceptsOnlyNameCharacters) {
    EXPECT_TRUE(isValidName("app-1.blue_x"));
    EXPECT_TRUE(isValidName(std::string(64, 'a')));
    EXPECT_FALSE(isValidName(std::string(65, 'a')));
    EXPECT_FALSE(isValidName(""));
    EXPECT_FALSE(isValidName("a b"));
    EXPECT_FALSE(isValidName("a/b"));
    EXPECT_FALSE(isValidName("127.0.0.1:80"));
}

TEST(Units, ParsesOctalModes) {
    std::string error;
    EXPECT_EQ(parseOctalMode("0660", &error), 0660u);
    EXPECT_EQ(parseOctalMode("600", &error), 0600u);
    EXPECT_EQ(parseOctalMode("1777", &error), 01777u);
    EXPECT_FALSE(parseOctalMode("0999", &error));
    EXPECT_FALSE(parseOctalMode("66", &error));
    EXPECT_FALSE(parseOctalMode("00660", &error));
    EXPECT_FALSE(parseOctalMode("rw-", &error));
}

TEST(Units, ParsesStatusRangesAndLists) {
    std::string error;
    using Ranges = std::vector<std::pair<int, int>>;
    EXPECT_EQ(parseStatusRanges("200", &error), (Ranges{{200, 200}}));
    EXPECT_EQ(parseStatusRanges("200-399", &error), (Ranges{{200, 399}}));
    EXPECT_EQ(parseStatusRanges("200,204", &error), (Ranges{{200, 200}, {204, 204}}));
    EXPECT_EQ(parseStatusRanges("200-299, 304", &error), (Ranges{{200, 299}, {304, 304}}));
}

TEST(Units, RejectsBadStatusRanges) {
    std::string error;
    for (const char* text : {"", "99", "600", "2xx", "399-200", "200,", "200-", "ok"}) {
        EXPECT_FALSE(parseStatusRanges(text, &error)) << text;
    }
    parseStatusRanges("200-99", &error);
    EXPECT_NE(error.find("\"99\" is not a status code 100..599"), std::string::npos) << error;
}

TEST(Units, ParsesHashKeys) {
    std::string error;
    EXPECT_EQ(parseHashKey("client_ip", &error)->kind, HashKeyKind::kClientIp);
    EXPECT_EQ(parseHashKey("uri", &error)->kind, HashKeyKind::kUri);
    const auto header = parseHashKey("header:X-User", &error);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->kind, HashKeyKind::kHeader);
    EXPECT_EQ(header->name, "X-User");
    const auto cookie = parseHashKey("cookie:session", &error);
    ASSERT_TRUE(cookie);
    EXPECT_EQ(cookie->kind, HashKeyKind::kCookie);
    EXPECT_EQ(cookie->name, "session");
}

TEST(Units, RejectsBadHashKeys) {
    std::string error;
    for (const char* text : {"", "ip", "header:", "header:a b", "cookie:", "query:x", "URI"}) {
        EXPECT_FALSE(parseHashKey(text, &error)) << text;
    }
}

TEST(Units, ParsesNetworksOfBothFamilies) {
    std::string error;
    const auto v4 = parseNetwork("10.0.0.0/8", &error);
    ASSERT_TRUE(v4) << error;
    EXPECT_EQ(v4->family, AF_INET);
    EXPECT_EQ(v4->prefix_length, 8u);
    EXPECT_EQ(v4->address[0], 10);
    EXPECT_EQ(v4->text, "10.0.0.0/8");
    const auto host = parseNetwork("192.0.2.7", &error);
    ASSERT_TRUE(host) << error;
    EXPECT_EQ(host->prefix_length, 32u);
    EXPECT_EQ(host->address[3], 7);
    const auto v6 = parseNetwork("2001:db8::/32", &error);
    ASSERT_TRUE(v6) << error;
    EXPECT_EQ(v6->family, AF_INET6);
    EXPECT_EQ(v6->prefix_length, 32u);
    EXPECT_EQ(v6->address[0], 0x20);
    EXPECT_EQ(v6->address[3], 0xb8);
    EXPECT_EQ(parseNetwork("::1", &error)->prefix_length, 128u);
    EXPECT_EQ(parseNetwork("0.0.0.0/0", &error)->prefix_length, 0u);
    EXPECT_TRUE(*parseNetwork("10.0.0.0/8", &error) == *parseNetwork("10.0.0.0/08", &error));
}

TEST(Units, RejectsBadNetworks) {
    std::string error;
    for (const char* text : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0/8",
                             "example.com/8", "10.0.0.0/8/8", "10.0.0.0 /8", "fe80::1%eth0"}) {
        EXPECT_FALSE(parseNetwork(text, &error)) << text;
    }
    EXPECT_FALSE(parseNetwork("10.0.0.1/8", &error));
    EXPECT_EQ(error,
              "invalid network \"10.0.0.1/8\": has bits set after the /8 prefix; the network is "
              "\"10.0.0.0/8\"");
    EXPECT_FALSE(parseNetwork("2001:db8::1/32", &error));
    EXPECT_NE(error.find("\"2001:db8::/32\""), std::string::npos) << error;
}

TEST(Units, ParsesRateLimitKeys) {
    std::string error;
    RateLimitConfig limit;
    ASSERT_TRUE(parseRateLimitKey("header:X-Api-Key", &limit, &error));
    EXPECT_EQ(limit.key, RateLimitKeyKind::kHeader);
    EXPECT_EQ(limit.header, "X-Api-Key");
    ASSERT_TRUE(parseRateLimitKey("client_ip", &limit, &error));
    EXPECT_EQ(limit.key, RateLimitKeyKind::kClientIp);
    EXPECT_EQ(limit.header, "");
    for (const char* text : {"", "header:", "header:a b", "cookie:sid", "uri", "Client_IP"}) {
        EXPECT_FALSE(parseRateLimitKey(text, &limit, &error)) << text;
    }
    EXPECT_EQ(error, "invalid key \"Client_IP\"; expected \"client_ip\" or \"header:NAME\"");
}

TEST(Units, RecognizesDnsNames) {
    for (const char* name :
         {"app.internal", "app", "_http._tcp.app.internal", "a-b.c_d.", "10.0.0.5"}) {
        EXPECT_TRUE(isDnsName(name)) << name;
    }
    for (const char* name : {"", ".", "app..internal", ".app", "-app.internal", "app-.internal",
                             "app internal", "app/x", "app.internal..", "\xc3\xa9.internal"}) {
        EXPECT_FALSE(isDnsName(name)) << name;
    }
    EXPECT_TRUE(isDnsName(std::string(63, 'a') + ".b"));
    EXPECT_FALSE(isDnsName(std::string(64, 'a') + ".b"));
    std::string long_name;
    while (long_name.size() < 250) long_name += "abcdefghi.";
    EXPECT_FALSE(isDnsName(long_name + "abcd"));
}

TEST(Units, SuggestsClosestKeyWithinTwoEdits) {
    const std::vector<std::string> keys{"workers", "max_connections", "user", "group"};
    EXPECT_EQ(closestMatch("worker", keys), "workers");
    EXPECT_EQ(closestMatch("max_conections", keys), "max_connections");
    EXPECT_EQ(closestMatch("Workers", keys), "workers");
    EXPECT_EQ(closestMatch("bananas", keys), "");
    EXPECT_EQ(closestMatch("x", keys), "");
    EXPECT_EQ(levenshtein("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace sluice::config
