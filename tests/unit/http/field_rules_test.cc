#include "http/field_rules.h"

#include <gtest/gtest.h>

#include "http/request_validator.h"

namespace sluice::http {
namespace {

TEST(ParseContentLength, AcceptsOnlyPlainDigits) {
    uint64_t n = 0;
    EXPECT_TRUE(parseContentLength("0", n));
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(parseContentLength("9223372036854775807", n));
    EXPECT_EQ(n, 9223372036854775807u);
    for (const char* bad : {"", "-1", "+1", "0x10", "1 2", "1,1", " 1", "9223372036854775808",
                            "18446744073709551616", "1e3"}) {
        EXPECT_FALSE(parseContentLength(bad, n)) << bad;
    }
}

TEST(ParseTransferEncoding, OnlyASingleFinalChunkedIsChunked) {
    EXPECT_EQ(parseTransferEncoding("chunked"), CodingVerdict::kChunked);
    EXPECT_EQ(parseTransferEncoding("Chunked"), CodingVerdict::kChunked);
    EXPECT_EQ(parseTransferEncoding("gzip, chunked"), CodingVerdict::kUnsupported);
    EXPECT_EQ(parseTransferEncoding("gzip,chunked"), CodingVerdict::kUnsupported);
    for (const char* bad :
         {"", "identity", "gzip", "chunked, gzip", "chunked,chunked", "chunked, ", ",chunked",
          "gzip,, chunked", "\"chunked\"", "chunked;q=1", "gzip , chunked", "xchunked"}) {
        EXPECT_EQ(parseTransferEncoding(bad), CodingVerdict::kInvalid) << bad;
    }
}

TEST(ListHasToken, MatchesWholeTokensCaseInsensitively) {
    EXPECT_TRUE(listHasToken("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(listHasToken("close", "close"));
    EXPECT_FALSE(listHasToken("closed", "close"));
    EXPECT_FALSE(listHasToken("", "close"));
}

TEST(IsValidAuthority, AcceptsHostPortAndIpLiterals) {
    for (const char* ok : {"a", "example.com", "example.com:8080", "127.0.0.1", "[::1]",
                           "[::1]:443", "a-b_c~d.e", "x:65535"}) {
        EXPECT_TRUE(isValidAuthority(ok)) << ok;
    }
    for (const char* bad : {"", ":80", "a:", "a:65536", "a:8o", "a b", "u@a", "a/b", "[::1", "[]",
                            "[::g]", "a:1:2", "a%20b", "a,b", "a\tb"}) {
        EXPECT_FALSE(isValidAuthority(bad)) << bad;
    }
}

TEST(SameAuthority, UsesDefaultPort) {
    EXPECT_TRUE(sameAuthority("A.example", "a.example:80", "80"));
    EXPECT_TRUE(sameAuthority("a:443", "a", "443"));
    EXPECT_FALSE(sameAuthority("a:8080", "a", "80"));
    EXPECT_FALSE(sameAuthority("a", "b", "80"));
}

RequestHead head(const char* method, const char* target, uint8_t minor) {
    RequestHead h;
    h.method = method;
    h.target = target;
    h.version_minor = minor;
    return h;
}

TEST(ValidateRequestHead, DerivesFramingAndConnection) {
    RequestHead h = head("POST", "/", 1);
    h.headers.add("Host", "a");
    h.headers.add("Content-Length", "10");
    h.headers.add("Connection", "close");
    Verdict v = validateRequestHead(h, 0);
    ASSERT_TRUE(v.ok()) << v.reason;
    EXPECT_EQ(h.framing, BodyFraming::kContentLength);
    EXPECT_EQ(h.content_length, 10u);
    EXPECT_FALSE(h.keep_alive);
    EXPECT_EQ(validateRequestHead(h, 9).status, 413);
}

TEST(ValidateRequestHead, OnlyWebsocketIsAnUpgrade) {
    RequestHead h = head("GET", "/", 1);
    h.headers.add("Host", "a");
    h.headers.add("Connection", "Upgrade");
    h.headers.add("Upgrade", "WebSocket");
    ASSERT_TRUE(validateRequestHead(h, 0).ok());
    EXPECT_TRUE(h.upgrade);
    RequestHead h2c = head("GET", "/", 1);
    h2c.headers.add("Host", "a");
    h2c.headers.add("Connection", "Upgrade");
    h2c.headers.add("Upgrade", "h2c");
    ASSERT_TRUE(validateRequestHead(h2c, 0).ok());
    EXPECT_FALSE(h2c.upgrade);
}

TEST(ValidateRequestHead, Http10MayOmitHost) {
    RequestHead h = head("GET", "/", 0);
    EXPECT_TRUE(validateRequestHead(h, 0).ok());
    EXPECT_FALSE(h.keep_alive);
}

}  // namespace
}  // namespace sluice::http
