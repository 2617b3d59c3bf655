#include "proxy/http/hash_key.h"

#include <gtest/gtest.h>

namespace sluice::proxy {
namespace {

http::RequestHead requestWith(std::string target,
                              std::initializer_list<std::pair<const char*, const char*>> headers) {
    http::RequestHead head;
    head.method = "GET";
    head.target = std::move(target);
    for (const auto& [name, value] : headers) head.headers.add(name, value);
    return head;
}

config::PoolConfig poolWith(config::Algorithm algorithm, config::HashKeyKind kind,
                            std::string name = "") {
    config::PoolConfig pool;
    pool.algorithm = algorithm;
    pool.hash_key.kind = kind;
    pool.hash_key.name = std::move(name);
    return pool;
}

TEST(HashKey, IpHashUsesTheClientAddress) {
    auto head = requestWith("/a", {});
    EXPECT_EQ(hashKeyOf(poolWith(config::Algorithm::kIpHash, config::HashKeyKind::kUri), head,
                        "10.0.0.1"),
              "10.0.0.1");
}

TEST(HashKey, HashOnUriHeaderCookieOrClientIp) {
    auto head =
        requestWith("/cart?id=7", {{"X-User", "alice"}, {"Cookie", "a=1; sid=\"s42\"; b=2"}});
    using K = config::HashKeyKind;
    const auto hash = config::Algorithm::kHash;
    EXPECT_EQ(hashKeyOf(poolWith(hash, K::kUri), head, "ip"), "/cart?id=7");
    EXPECT_EQ(hashKeyOf(poolWith(hash, K::kHeader, "x-user"), head, "ip"), "alice");
    EXPECT_EQ(hashKeyOf(poolWith(hash, K::kCookie, "sid"), head, "ip"), "s42");
    EXPECT_EQ(hashKeyOf(poolWith(hash, K::kClientIp), head, "ip"), "ip");
}

TEST(HashKey, MissingHeaderOrCookieGivesNoKey) {
    auto head = requestWith("/", {{"Cookie", "other=1"}});
    using K = config::HashKeyKind;
    const auto hash = config::Algorithm::kHash;
    EXPECT_EQ(hashKeyOf(poolWith(hash, K::kHeader, "X-User"), head, "ip"), "");
    EXPECT_EQ(hashKeyOf(poolWith(hash, K::kCookie, "sid"), head, "ip"), "");
}

TEST(HashKey, NonHashingAlgorithmsNeedNoKey) {
    auto head = requestWith("/", {});
    EXPECT_EQ(
        hashKeyOf(poolWith(config::Algorithm::kRoundRobin, config::HashKeyKind::kUri), head, "ip"),
        "");
}

TEST(HashKey, CookieValueParsesPairsExactly) {
    EXPECT_EQ(cookieValue("sid=1; xsid=2", "xsid"), "2");
    EXPECT_EQ(cookieValue("xsid=2; sid=1", "sid"), "1");
    EXPECT_EQ(cookieValue("sid", "sid"), "");
    EXPECT_EQ(cookieValue("", "sid"), "");
}

}  // namespace
}  // namespace sluice::proxy
