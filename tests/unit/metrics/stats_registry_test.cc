#include "metrics/stats_registry.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::metrics {
namespace {

TEST(StatsRegistry, ObtainReturnsTheSameObjectForAKey) {
    PoolStatsRegistry pools(2);
    auto a = pools.obtain("app");
    auto b = pools.obtain("app");
    auto c = pools.obtain("api");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_EQ(pools.size(), 2u);
    EXPECT_EQ(a->mainSlot(), 2u);  // built for the registry's worker count
    EXPECT_EQ(pools.find("app"), a);
    EXPECT_EQ(pools.find("nope"), nullptr);
}

// A reload: the kept server carries its counters over, the removed one vanishes, and a server
// removed then added again starts from zero.
TEST(StatsRegistry, RetainOnlyKeepsLiveKeysWithTheirCountsAndDropsTheRest) {
    ServerStatsRegistry servers(1);
    auto kept = servers.obtain({"app", "app1"});
    auto removed = servers.obtain({"app", "app2"});
    kept->request(0, 200);
    removed->request(0, 200);
    removed->request(0, 200);

    // Generation 2: app1 stays, app2 goes, app3 arrives.
    auto kept_again = servers.obtain({"app", "app1"});
    auto added = servers.obtain({"app", "app3"});
    servers.retainOnly({{"app", "app1"}, {"app", "app3"}});
    EXPECT_EQ(kept_again, kept);
    EXPECT_EQ(kept_again->totals().requests[1], 1u);
    EXPECT_EQ(added->totals().requests[1], 0u);
    EXPECT_EQ(servers.find({"app", "app2"}), nullptr);
    EXPECT_EQ(servers.size(), 2u);

    // A worker still on generation 1 holds app2's stats alive; counting there is harmless.
    EXPECT_EQ(removed.use_count(), 1);
    removed->request(0, 500);

    auto back = servers.obtain({"app", "app2"});
    EXPECT_NE(back, removed);
    EXPECT_EQ(back->totals().requests[1], 0u);
}

TEST(StatsRegistry, ListsEntriesInKeyOrder) {
    ServerStatsRegistry servers(1);
    servers.obtain({"web", "b"});
    servers.obtain({"api", "z"});
    servers.obtain({"web", "a"});
    std::vector<ServerKey> keys;
    for (const auto& [key, stats] : servers.entries()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<ServerKey>{{"api", "z"}, {"web", "a"}, {"web", "b"}}));
}

TEST(StatsRegistries, BuildEveryScopeForTheSameWorkers) {
    StatsRegistries registries(3);
    EXPECT_EQ(registries.listeners.obtain("web")->mainSlot(), 3u);
    EXPECT_EQ(registries.pools.obtain("app")->mainSlot(), 3u);
    EXPECT_EQ(registries.servers.obtain({"app", "app1"})->mainSlot(), 3u);
    registries.listeners.retainOnly({});
    EXPECT_EQ(registries.listeners.size(), 0u);
}

}  // namespace
}  // namespace sluice::metrics
