#include "proxy/edge/limiter_registry.h"

#include <gtest/gtest.h>

#include "proxy/edge/connection_limiter.h"
#include "proxy/edge/rate_limiter.h"

namespace sluice::proxy::edge {
namespace {

TEST(LimiterRegistry, AReloadKeepsTheStateOfAnUnchangedLimit) {
    LimiterRegistry<RateLimiter> registry;
    const std::string id = rateLimitIdentity("web", "client_ip", "/login", 0);
    auto first = registry.obtain(id, 1000);
    registry.sweep();
    const RateLimit limit = RateLimit::of(1, 60000, 0);
    ASSERT_TRUE(first->check("10.0.0.1", limit, 0).allowed);

    // Reload: same listener, key, path_prefix and max_keys (the rate may differ).
    auto second = registry.obtain(id, 1000);
    registry.sweep();
    EXPECT_EQ(second, first);
    EXPECT_FALSE(second->check("10.0.0.1", RateLimit::of(2, 60000, 0), 1000).allowed);
}

TEST(LimiterRegistry, DistinctLimitsGetDistinctTables) {
    LimiterRegistry<RateLimiter> registry;
    auto a = registry.obtain(rateLimitIdentity("web", "client_ip", "", 0), 1000);
    auto b = registry.obtain(rateLimitIdentity("web", "client_ip", "", 1), 1000);  // a 2nd one
    auto c = registry.obtain(rateLimitIdentity("web", "header:x-user", "", 0), 1000);
    auto d = registry.obtain(rateLimitIdentity("api", "client_ip", "", 0), 1000);
    auto e = registry.obtain(rateLimitIdentity("web", "client_ip", "/api", 0), 1000);
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(a, d);
    EXPECT_NE(a, e);
    EXPECT_EQ(registry.size(), 5u);
    // No ambiguity from the separators: "a\0b" + "" is not "a" + "b\0".
    EXPECT_NE(rateLimitIdentity("w", "a", "", 0), rateLimitIdentity("w", "", "a", 0));
}

TEST(LimiterRegistry, ANewCapacityGivesANewTableAndSweepDropsTheUnused) {
    LimiterRegistry<ConnectionLimiter> registry;
    auto web = registry.obtain("web", 1024);
    auto api = registry.obtain("api", 1024);
    registry.sweep();
    auto web2 = registry.obtain("web", 2048);  // max_connections changed
    registry.sweep();                          // "api" is gone from the config
    EXPECT_NE(web2, web);
    EXPECT_EQ(web2->capacity(), 2048u);
    EXPECT_EQ(registry.size(), 1u);
    // The old snapshot's holders keep theirs alive until they drain.
    EXPECT_EQ(api->capacity(), 1024u);
    EXPECT_EQ(api.use_count(), 1);
}

}  // namespace
}  // namespace sluice::proxy::edge
