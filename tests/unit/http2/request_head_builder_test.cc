#include "http2/request_head_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http2/field_checks.h"

namespace sluice::http2 {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields base() {
    return {
        {":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"}, {":path", "/"}};
}

http::Verdict build(RequestHeadBuilder& b, const Fields& fields, bool end_stream = true,
                    HeadLimits limits = {}) {
    b.start(limits);
    for (const auto& [n, v] : fields) b.addField(n, v);
    return b.finish(end_stream);
}

int status(const Fields& fields, bool end_stream = true, HeadLimits limits = {}) {
    RequestHeadBuilder b;
    return build(b, fields, end_stream, limits).status;
}

Fields plus(Fields f, std::string n, std::string v) {
    f.emplace_back(std::move(n), std::move(v));
    return f;
}

TEST(RequestHeadBuilder, BuildsTheHttp11View) {
    RequestHeadBuilder b;
    Fields f = base();
    f.emplace_back("accept", "*/*");
    f.emplace_back("cookie", "a=1");
    f.emplace_back("x-forwarded-for", "1.2.3.4");
    f.emplace_back("cookie", "b=2");
    f.emplace_back("te", "trailers");
    ASSERT_TRUE(build(b, f).ok());
    const http::RequestHead& h = b.head();
    EXPECT_EQ(h.method, "GET");
    EXPECT_EQ(h.target, "/");
    EXPECT_EQ(h.version_major, 2);
    EXPECT_EQ(h.version_minor, 0);
    EXPECT_TRUE(h.keep_alive);
    ASSERT_EQ(h.headers.size(), 4u);
    EXPECT_EQ(h.headers.line(0), "host: example.com\r\n");
    EXPECT_EQ(h.headers.line(1), "accept: */*\r\n");
    EXPECT_EQ(h.headers.id(2), http::FieldName::kXForwardedFor);  // the serializer's to handle
    EXPECT_EQ(h.headers.line(3), "cookie: a=1; b=2\r\n");
    EXPECT_EQ(b.scheme(), "https");
}

TEST(RequestHeadBuilder, HostFieldAloneBecomesHost) {
    RequestHeadBuilder b;
    Fields f = {{":method", "GET"}, {":scheme", "http"}, {":path", "/x"}, {"host", "a.test:80"}};
    ASSERT_TRUE(build(b, f).ok());
    EXPECT_EQ(b.head().host(), "a.test:80");
    EXPECT_EQ(b.head().headers.count("host"), 1u);
}

TEST(RequestHeadBuilder, AuthorityAndHostMustNameOneOrigin) {
    EXPECT_EQ(status(plus(base(), "host", "example.com")), 0);
    EXPECT_EQ(status(plus(base(), "host", "EXAMPLE.COM:443")), 0);  // default port of https
    EXPECT_EQ(status(plus(base(), "host", "example.com:80")), 400);
    EXPECT_EQ(status(plus(base(), "host", "other.com")), 400);
    RequestHeadBuilder b;
    ASSERT_TRUE(build(b, plus(base(), "host", "example.com")).ok());
    EXPECT_EQ(b.head().headers.count("host"), 1u);
}

TEST(RequestHeadBuilder, FramingFollowsEndStreamAndContentLength) {
    RequestHeadBuilder b;
    ASSERT_TRUE(build(b, base(), true).ok());
    EXPECT_EQ(b.head().framing, http::BodyFraming::kNone);
    ASSERT_TRUE(build(b, base(), false).ok());
    EXPECT_EQ(b.head().framing, http::BodyFraming::kChunked);
    ASSERT_TRUE(build(b, plus(base(), "content-length", "12"), false).ok());
    EXPECT_EQ(b.head().framing, http::BodyFraming::kContentLength);
    EXPECT_EQ(b.head().content_length, 12u);
    ASSERT_TRUE(build(b, plus(base(), "content-length", "0"), false).ok());
    EXPECT_EQ(b.head().framing, http::BodyFraming::kNone);
    EXPECT_EQ(status(plus(base(), "content-length", "12"), true), 400);
    HeadLimits limits;
    limits.max_body_bytes = 10;
    EXPECT_EQ(status(plus(base(), "content-length", "11"), false, limits), 413);
    EXPECT_EQ(status(plus(base(), "content-length", "10"), false, limits), 0);
}

TEST(RequestHeadBuilder, RejectsWhatNghttp2AlsoRejects) {
    // Repeated here so the builder is safe on its own.
    EXPECT_EQ(status(plus(base(), "X-Up", "1")), 400);
    EXPECT_EQ(status(plus(base(), "x-a", "a\r\nb")), 400);
    EXPECT_EQ(status(plus(base(), "x-a", std::string("a\0b", 3))), 400);
    EXPECT_EQ(status(plus(base(), "x-a", "trailing ")), 400);
    EXPECT_EQ(status(plus(base(), "connection", "close")), 400);
    EXPECT_EQ(status(plus(base(), "keep-alive", "1")), 400);
    EXPECT_EQ(status(plus(base(), "proxy-connection", "1")), 400);
    EXPECT_EQ(status(plus(base(), "transfer-encoding", "chunked")), 400);
    EXPECT_EQ(status(plus(base(), "upgrade", "h2c")), 400);
    EXPECT_EQ(status(plus(base(), "te", "gzip")), 400);
    EXPECT_EQ(status(plus(base(), ":path", "/again")), 400);
    EXPECT_EQ(status(plus(base(), ":protocol", "websocket")), 400);
    EXPECT_EQ(status(plus(plus(base(), "x-a", "1"), ":extra", "1")), 400);
    EXPECT_EQ(status({{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}}), 400);
    EXPECT_EQ(status({{":method", "GET"}, {":path", "/"}, {":authority", "a"}}), 400);
    EXPECT_EQ(status({{":scheme", "https"}, {":path", "/"}, {":authority", "a"}}), 400);
    EXPECT_EQ(status({{":method", "GET"}, {":scheme", "https"}, {":path", "/"}}), 400);
    EXPECT_EQ(status(plus(plus(base(), "content-length", "1"), "content-length", "1"), false), 400);
    EXPECT_EQ(status(plus(plus(base(), "host", "example.com"), "host", "example.com")), 400);
}

TEST(RequestHeadBuilder, RejectsWhatNghttp2Lets) {
    Fields f = base();
    f[1].second = "ftp";
    EXPECT_EQ(status(f), 400);
    f = base();
    f[3].second = "/a#frag";
    EXPECT_EQ(status(f), 400);
    f[3].second = "/caf\xc3\xa9";
    EXPECT_EQ(status(f), 400);
    f[3].second = "*";
    EXPECT_EQ(status(f), 400);
    f[0].second = "OPTIONS";
    EXPECT_EQ(status(f), 0);
    f = base();
    f[2].second = "user:pw@example.com";
    EXPECT_EQ(status(f), 400);
    f[2].second = "example.com:0x50";
    EXPECT_EQ(status(f), 400);
    f = base();
    f[0].second = "PRI";
    EXPECT_EQ(status(f), 400);
    f[0].second = "G(T";
    EXPECT_EQ(status(f), 400);
    EXPECT_EQ(status(plus(base(), "content-length", "00000000000000000001"), false), 400);
    EXPECT_EQ(status({{":method", "CONNECT"}, {":authority", "example.com:443"}}), 501);
}

TEST(RequestHeadBuilder, LimitsAnswer431AndStopStoring) {
    HeadLimits limits;
    limits.max_header_bytes = 1000;
    limits.max_headers = 10;
    EXPECT_EQ(status(plus(base(), "x-big", std::string(900, 'a')), true, limits), 0);
    EXPECT_EQ(status(plus(base(), "x-big", std::string(1000, 'a')), true, limits), 431);
    Fields many = base();
    for (int i = 0; i < 10; ++i) many.emplace_back("x-" + std::to_string(i), "v");
    EXPECT_EQ(status(many, true, limits), 0);
    many.emplace_back("x-11", "v");
    EXPECT_EQ(status(many, true, limits), 431);
    // A bomb of repeated fields: nothing is kept past the limit.
    RequestHeadBuilder b;
    b.start(limits);
    for (const auto& [n, v] : base()) b.addField(n, v);
    for (int i = 0; i < 100000; ++i) b.addField("x-bomb", std::string(100, 'b'));
    EXPECT_EQ(b.finish(true).status, 431);
    EXPECT_LT(b.head().headers.size(), 12u);
}

TEST(RequestHeadBuilder, TrailersDropFramingAndRoutingFields) {
    RequestHeadBuilder b;
    ASSERT_TRUE(build(b, base(), false).ok());
    b.startTrailers();
    b.addTrailer("x-sum", "1");
    b.addTrailer("content-length", "5");
    b.addTrailer("host", "evil");
    b.addTrailer("trailer", "x-sum");
    EXPECT_EQ(b.finishTrailers(), RequestHeadBuilder::TrailerVerdict::kOk);
    ASSERT_EQ(b.trailers().size(), 1u);
    EXPECT_EQ(b.trailers().name(0), "x-sum");
    b.startTrailers();
    b.addTrailer(":path", "/");
    EXPECT_EQ(b.finishTrailers(), RequestHeadBuilder::TrailerVerdict::kInvalid);
    b.startTrailers();
    b.addTrailer("transfer-encoding", "chunked");
    EXPECT_EQ(b.finishTrailers(), RequestHeadBuilder::TrailerVerdict::kInvalid);
    b.startTrailers();
    b.addTrailer("x-big", std::string(40000, 'a'));
    EXPECT_EQ(b.finishTrailers(), RequestHeadBuilder::TrailerVerdict::kTooLarge);
}

TEST(RequestHeadBuilder, ReuseForgetsThePreviousRequest) {
    RequestHeadBuilder b;
    ASSERT_EQ(build(b, plus(base(), "host", "other")).status, 400);
    ASSERT_TRUE(build(b, plus(base(), "cookie", "c=3")).ok());
    EXPECT_EQ(b.head().headers.size(), 2u);
    EXPECT_EQ(b.head().headers.value(1), "c=3");
}

TEST(FieldChecks, NamesAndValues) {
    EXPECT_TRUE(isLowercaseToken("x-foo_bar.1~"));
    EXPECT_FALSE(isLowercaseToken(""));
    EXPECT_FALSE(isLowercaseToken("X-foo"));
    EXPECT_FALSE(isLowercaseToken("x foo"));
    EXPECT_FALSE(isLowercaseToken(":path"));
    EXPECT_TRUE(isValidFieldValue(""));
    EXPECT_TRUE(isValidFieldValue("a\tb c\x80"));
    EXPECT_FALSE(isValidFieldValue("a\rb"));
    EXPECT_FALSE(isValidFieldValue("a\nb"));
    EXPECT_FALSE(isValidFieldValue(std::string("a\0b", 3)));
    EXPECT_FALSE(isValidFieldValue("a\x7f"));
    EXPECT_FALSE(isValidFieldValue(" a"));
    EXPECT_FALSE(isValidFieldValue("a\t"));
}

}  // namespace
}  // namespace sluice::http2
