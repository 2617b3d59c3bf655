#include "metrics/generation_stats.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::metrics {
namespace {

config::Config configOf(std::vector<std::string> pool_servers) {
    config::Config c;
    c.listeners.emplace_back().name = "web";
    c.listeners.emplace_back().name = "db";
    auto& pool = c.pools.emplace_back();
    pool.name = "app";
    for (auto& name : pool_servers) pool.servers.emplace_back().name = name;
    c.pools.emplace_back().name = "empty";
    return c;
}

TEST(GenerationStats, RecordsAnExchangeInItsListenerPoolAndServer) {
    StatsRegistries registries(2);
    auto stats = bindGeneration(configOf({"app1", "app2"}), registries);
    ASSERT_EQ(stats->listeners.size(), 2u);
    ASSERT_EQ(stats->servers[0].size(), 2u);
    recordExchange(stats.get(), {0, "app", 1, 204, 7});
    recordExchange(stats.get(), {0, "app", -1, 503, 0});  // no server answered
    recordExchange(stats.get(), {0, "", -1, 400, 0});     // reached no pool
    recordExchange(stats.get(), {0, "app", 0, 0, 3});     // nothing sent: no class
    const auto l = stats->listeners[0]->totals();
    EXPECT_EQ(l.requests, (CodeCounts{0, 1, 0, 1, 1}));
    const auto p = stats->pools[0]->totals();
    EXPECT_EQ(p.requests, (CodeCounts{0, 1, 0, 0, 1}));
    EXPECT_EQ(p.duration.count(), 3u);  // the classless exchange still took its time
    EXPECT_EQ(p.duration.sum_micros, 10'000u);
    EXPECT_EQ(stats->servers[0][1]->totals().requests, (CodeCounts{0, 1, 0, 0, 0}));
    EXPECT_EQ(stats->servers[0][0]->totals().requests, (CodeCounts{}));
    EXPECT_EQ(stats->pools[1]->totals().requests, (CodeCounts{}));
    // Out of range or null: ignored.
    recordExchange(nullptr, {0, "app", 0, 200, 1});
    recordExchange(stats.get(), {9, "app", 0, 200, 1});
    recordExchange(stats.get(), {0, "nope", 0, 200, 1});
    recordExchange(stats.get(), {0, "app", 5, 200, 1});
    EXPECT_EQ(stats->listeners[0]->totals().requests[1], 3u);
    EXPECT_EQ(stats->pools[0]->totals().requests[1], 2u);
}

TEST(GenerationStats, ConnectionsAndBytes) {
    StatsRegistries registries(1);
    auto stats = bindGeneration(configOf({"app1"}), registries);
    connectionOpened(stats.get(), 1);
    connectionOpened(stats.get(), 1);
    connectionClosed(stats.get(), 1, 100, 2000);
    const auto t = stats->listeners[1]->totals();
    EXPECT_EQ(t.connections_total, 2u);
    EXPECT_EQ(t.active_connections, 1);
    EXPECT_EQ(t.bytes_received, 100u);
    EXPECT_EQ(t.bytes_sent, 2000u);
}

// Worker threads write their own slot; the main thread (no setWriterSlot) the last one.
TEST(GenerationStats, EachThreadWritesItsSlot) {
    StatsRegistries registries(2);
    auto stats = bindGeneration(configOf({"app1"}), registries);
    std::thread worker([&] {
        setWriterSlot(1);
        for (int i = 0; i < 1000; ++i) recordExchange(stats.get(), {0, "app", 0, 200, 1});
    });
    for (int i = 0; i < 500; ++i) recordExchange(stats.get(), {0, "app", 0, 500, 1});
    worker.join();
    const auto t = stats->pools[0]->totals();
    EXPECT_EQ(t.requests[1], 1000u);
    EXPECT_EQ(t.requests[4], 500u);
}

// A reload: kept names keep their objects and counts, a removed server's scope is forgotten.
TEST(GenerationStats, RebindingKeepsCountsOfKeptNamesAndForgetsRemovedOnes) {
    StatsRegistries registries(1);
    auto first = bindGeneration(configOf({"app1", "app2"}), registries);
    recordExchange(first.get(), {0, "app", 0, 200, 1});
    recordExchange(first.get(), {0, "app", 1, 200, 1});
    auto second = bindGeneration(configOf({"app2"}), registries);
    EXPECT_EQ(second->listeners[0], first->listeners[0]);
    EXPECT_EQ(second->pools[0], first->pools[0]);
    ASSERT_EQ(second->servers[0].size(), 1u);
    EXPECT_EQ(second->servers[0][0], first->servers[0][1]);  // app2, now at index 0
    EXPECT_EQ(second->servers[0][0]->totals().requests[1], 1u);
    EXPECT_EQ(second->pools[0]->totals().requests[1], 2u);
    EXPECT_EQ(registries.servers.size(), 1u);
    EXPECT_EQ(registries.servers.find({"app", "app1"}), nullptr);
    auto third = bindGeneration(configOf({"app1", "app2"}), registries);
    EXPECT_EQ(third->servers[0][0]->totals().requests[1], 0u);  // re-added: from zero
}

}  // namespace
}  // namespace sluice::metrics
