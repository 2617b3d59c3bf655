#include "config/units.h"

#include <gtest/gtest.h>

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
