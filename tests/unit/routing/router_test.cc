#include "routing/router.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "routing/snapshot.h"

namespace sluice::routing {
namespace {

// Pools "app" (index 0), "api" (1), "static" (2), "admin" (3); no servers needed to route.
std::shared_ptr<const Snapshot> poolsSnapshot(ServerStateRegistry& registry) {
    auto config = std::make_shared<config::Config>();
    for (const char* name : {"app", "api", "static", "admin"})
        config->pools.emplace_back().name = name;
    return buildSnapshot(config, 1, registry);
}

config::ListenerConfig listenerWith(std::string default_pool,
                                    std::vector<config::RouteConfig> routes) {
    config::ListenerConfig listener;
    listener.name = "web";
    listener.pool = std::move(default_pool);
    listener.routes = std::move(routes);
    return listener;
}

class RouterTest : public ::testing::Test {
  protected:
    ServerStateRegistry registry_;
    std::shared_ptr<const Snapshot> snapshot_ = poolsSnapshot(registry_);
};

TEST_F(RouterTest, WithoutRoutesEverythingGoesToTheDefaultPool) {
    const Router router(listenerWith("api", {}), *snapshot_);
    EXPECT_EQ(router.route("example.com", "/"), 1);
    EXPECT_EQ(router.route("", "*"), 1);
    const Router none(listenerWith("", {}), *snapshot_);
    EXPECT_EQ(none.route("example.com", "/"), -1);  // 404
}

TEST_F(RouterTest, MatchesHostsExactlyIgnoringCaseAndPort) {
    // The loader lower-cases route hosts; the router lower-cases what it is given too.
    const Router router(listenerWith("app", {{"Api.Example.com", "", "api"}}), *snapshot_);
    EXPECT_EQ(router.route("api.example.com", "/"), 1);
    EXPECT_EQ(router.route("API.EXAMPLE.COM:8443", "/x"), 1);
    EXPECT_EQ(router.route("api.example.com.", "/"), 0);
    EXPECT_EQ(router.route("www.example.com", "/"), 0);
    EXPECT_EQ(router.route("", "/"), 0);
}

TEST_F(RouterTest, WildcardHostsMatchSubdomainsOnly) {
    const Router router(listenerWith("", {{"*.example.com", "", "static"}}), *snapshot_);
    EXPECT_EQ(router.route("a.example.com", "/"), 2);
    EXPECT_EQ(router.route("a.b.Example.com:80", "/"), 2);
    EXPECT_EQ(router.route("example.com", "/"), -1);
    EXPECT_EQ(router.route("xexample.com", "/"), -1);
    EXPECT_EQ(router.route(".example.com", "/"), -1);
}

TEST_F(RouterTest, BracketedIpv6HostsLoseOnlyTheirPort) {
    const Router router(listenerWith("app", {{"[::1]", "", "admin"}}), *snapshot_);
    EXPECT_EQ(router.route("[::1]:8080", "/"), 3);
    EXPECT_EQ(router.route("[::1]", "/"), 3);
    EXPECT_EQ(router.route("[::2]:8080", "/"), 0);
}

TEST_F(RouterTest, PathPrefixesMatchOriginAndAbsoluteFormTargets) {
    const Router router(listenerWith("app", {{"", "/api/", "api"}, {"", "/static", "static"}}),
                        *snapshot_);
    EXPECT_EQ(router.route("h", "/api/v1/items?id=1"), 1);
    EXPECT_EQ(router.route("h", "/api"), 0);                // the prefix is "/api/"
    EXPECT_EQ(router.route("h", "/staticfiles/a.css"), 2);  // a prefix, not a path segment
    EXPECT_EQ(router.route("h", "http://h/api/v1"), 1);
    EXPECT_EQ(router.route("h", "https://h:8443/static/x"), 2);
    EXPECT_EQ(router.route("h", "http://h"), 0);  // no path: "/"
    EXPECT_EQ(router.route("h", "*"), 0);
}

TEST_F(RouterTest, TheFirstMatchingRouteWinsAndBothPartsMustMatch) {
    const Router router(listenerWith("app", {{"api.example.com", "/admin", "admin"},
                                             {"api.example.com", "", "api"},
                                             {"", "/admin", "static"}}),
                        *snapshot_);
    EXPECT_EQ(router.route("api.example.com", "/admin/users"), 3);
    EXPECT_EQ(router.route("api.example.com", "/users"), 1);
    EXPECT_EQ(router.route("www.example.com", "/admin/users"), 2);
    EXPECT_EQ(router.route("www.example.com", "/users"), 0);
}

TEST_F(RouterTest, ARouteToAPoolTheSnapshotLacksRoutesNowhere) {
    const Router router(listenerWith("gone", {{"", "/x", "missing"}}), *snapshot_);
    EXPECT_EQ(router.route("h", "/x"), -1);
    EXPECT_EQ(router.route("h", "/y"), -1);
}

}  // namespace
}  // namespace sluice::routing
