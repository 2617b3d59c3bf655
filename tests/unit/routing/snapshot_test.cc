#include "routing/snapshot.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::routing {
namespace {

config::ServerConfig server(std::string name, unsigned weight = 1) {
    config::ServerConfig s;
    s.name = std::move(name);
    s.weight = weight;
    return s;
}

std::shared_ptr<config::Config> configWith(
    std::vector<std::pair<std::string, std::vector<config::ServerConfig>>> pools,
    size_t listeners = 1) {
    auto config = std::make_shared<config::Config>();
    for (auto& [name, servers] : pools) {
        auto& pool = config->pools.emplace_back();
        pool.name = name;
        pool.servers = std::move(servers);
    }
    config->listeners.resize(listeners);
    return config;
}

TEST(Snapshot, MirrorsTheConfigurationInOrder) {
    ServerStateRegistry registry;
    const auto config =
        configWith({{"app", {server("a1", 3), server("a2")}}, {"api", {server("p1")}}}, 2);
    const auto snapshot = buildSnapshot(config, 7, registry);
    EXPECT_EQ(snapshot->generation, 7u);
    EXPECT_EQ(snapshot->config, config);
    ASSERT_EQ(snapshot->pools.size(), 2u);
    EXPECT_EQ(snapshot->pools[0]->name(), "app");
    ASSERT_EQ(snapshot->pools[0]->servers.size(), 2u);
    EXPECT_EQ(snapshot->pools[0]->servers[1].config.name, "a2");
    EXPECT_EQ(snapshot->pools[0]->servers[0].state->weight.load(), 3u);
    EXPECT_EQ(snapshot->pools[1]->tls, nullptr);
    EXPECT_EQ(snapshot->listener_tls.size(), 2u);  // plain: one null per listener
    EXPECT_EQ(snapshot->listener_tls[1], nullptr);
    EXPECT_EQ(snapshot->poolIndex("api"), 1);
    EXPECT_EQ(snapshot->poolIndex("app"), 0);
    EXPECT_EQ(snapshot->poolIndex("nope"), -1);
}

TEST(Snapshot, ServerStateCarriesOverGenerationsByPoolAndName) {
    ServerStateRegistry registry;
    const auto first =
        buildSnapshot(configWith({{"app", {server("a1"), server("a2")}}}), 1, registry);
    auto& a1 = *first->pools[0]->servers[0].state;
    a1.healthy.store(false);
    a1.requests.store(42);
    a1.admin.store(upstream::AdminState::kDrain);
    a1.weight.store(9);  // a runtime weight: the registry keeps it, new config weight or not

    // Reordered, a1 with another weight, a new a3: a1 and a2 keep their state.
    const auto second = buildSnapshot(
        configWith({{"app", {server("a3"), server("a1", 5), server("a2")}}}), 2, registry);
    const auto& servers = second->pools[0]->servers;
    EXPECT_EQ(servers[1].state, first->pools[0]->servers[0].state);
    EXPECT_EQ(servers[2].state, first->pools[0]->servers[1].state);
    EXPECT_FALSE(servers[1].state->healthy.load());
    EXPECT_EQ(servers[1].state->requests.load(), 42u);
    EXPECT_EQ(servers[1].state->admin.load(), upstream::AdminState::kDrain);
    EXPECT_EQ(servers[1].state->weight.load(), 9u);
    // A new server starts fresh, with its configured weight.
    EXPECT_TRUE(servers[0].state->healthy.load());
    EXPECT_EQ(servers[0].state->requests.load(), 0u);
    EXPECT_EQ(servers[0].state->weight.load(), 1u);
}

TEST(Snapshot, TheSameNameInAnotherPoolIsAnotherServer) {
    ServerStateRegistry registry;
    const auto snapshot =
        buildSnapshot(configWith({{"app", {server("s")}}, {"api", {server("s")}}}), 1, registry);
    EXPECT_NE(snapshot->pools[0]->servers[0].state, snapshot->pools[1]->servers[0].state);
}

TEST(Snapshot, AServerThatLeavesLosesItsStateAndComesBackFresh) {
    ServerStateRegistry registry;
    const auto first =
        buildSnapshot(configWith({{"app", {server("a1"), server("a2")}}}), 1, registry);
    const std::weak_ptr<upstream::ServerState> a2 = first->pools[0]->servers[1].state;
    first->pools[0]->servers[1].state->requests.store(5);
    const auto second = buildSnapshot(configWith({{"app", {server("a1")}}}), 2, registry);
    // Only the old generation holds it now (its sessions may still be running).
    EXPECT_FALSE(a2.expired());
    const auto third =
        buildSnapshot(configWith({{"app", {server("a1"), server("a2")}}}), 3, registry);
    EXPECT_NE(third->pools[0]->servers[1].state, a2.lock());
    EXPECT_EQ(third->pools[0]->servers[1].state->requests.load(), 0u);
    // A removed pool takes its servers' states with it.
    const auto fourth = buildSnapshot(configWith({{"api", {server("a1")}}}), 4, registry);
    EXPECT_NE(fourth->pools[0]->servers[0].state, third->pools[0]->servers[0].state);
}

TEST(ServerStateRegistry, ObtainCreatesOnceWithTheConfiguredWeight) {
    ServerStateRegistry registry;
    const auto a = registry.obtain("app", server("a1", 4));
    EXPECT_EQ(a->weight.load(), 4u);
    a->weight.store(8);
    const auto again = registry.obtain("app", server("a1", 2));
    EXPECT_EQ(again, a);
    EXPECT_EQ(again->weight.load(), 8u);
    registry.retainOnly(*configWith({{"app", {server("a2")}}}));
    EXPECT_NE(registry.obtain("app", server("a1", 2)), a);
}

}  // namespace
}  // namespace sluice::routing
