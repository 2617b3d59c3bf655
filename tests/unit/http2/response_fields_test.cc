#include "http2/response_fields.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::http2 {
namespace {

std::string dump(const ResponseFields& f) {
    std::string out;
    for (size_t i = 0; i < f.size(); ++i) {
        out += std::string(f.name(i)) + "=" + std::string(f.value(i)) + ";";
    }
    return out;
}

TEST(ResponseFields, LowerCasesAndDropsHttp11ConnectionFields) {
    http::HeaderList h;
    h.add("Content-Type", "text/html");
    h.add("Connection", "keep-alive, X-Hop");
    h.add("X-Hop", "1");
    h.add("Keep-Alive", "timeout=5");
    h.add("Proxy-Connection", "close");
    h.add("Transfer-Encoding", "chunked");
    h.add("Upgrade", "websocket");
    h.add("TE", "trailers");
    h.add("Content-Length", "10");
    h.add("Trailer", "X-Sum");
    ResponseFields f;
    ASSERT_TRUE(f.addStatus(200));
    f.addFrom(h, false);
    EXPECT_EQ(dump(f), ":status=200;content-type=text/html;content-length=10;trailer=X-Sum;");
}

TEST(ResponseFields, TrailersAlsoLoseFramingFields) {
    http::HeaderList h;
    h.add("Content-Length", "10");
    h.add("Trailer", "x");
    h.add("X-Sum", "abc");
    ResponseFields f;
    f.addFrom(h, true);
    EXPECT_EQ(dump(f), "x-sum=abc;");
}

TEST(ResponseFields, StatusMustBeThreeDigitsAndNot101) {
    ResponseFields f;
    EXPECT_FALSE(f.addStatus(99));
    EXPECT_FALSE(f.addStatus(101));
    EXPECT_FALSE(f.addStatus(1000));
    EXPECT_EQ(f.size(), 0u);
    EXPECT_TRUE(f.addStatus(103));
    EXPECT_TRUE(f.addStatus(599));
    EXPECT_EQ(dump(f), ":status=103;:status=599;");
}

TEST(ResponseFields, DropsFieldsAnHttp2PeerWouldReject) {
    http::HeaderList h;
    h.add("X-Ok", "fine");
    h.add("X Bad", "name");
    h.add("X-Ctl", "a\x01z");
    ResponseFields f;
    f.addFrom(h, false);
    EXPECT_EQ(dump(f), "x-ok=fine;");
}

}  // namespace
}  // namespace sluice::http2
