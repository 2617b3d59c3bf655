#include "upstream/balancer/consistent_hash_balancer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::upstream {
namespace {

constexpr int kKeys = 10'000;

std::vector<BalancerServer> named(const std::vector<unsigned>& weights) {
    std::vector<BalancerServer> servers;
    for (size_t i = 0; i < weights.size(); ++i) {
        servers.push_back({"10.0.0." + std::to_string(i + 1) + ":8080", weights[i]});
    }
    return servers;
}

std::vector<ServerLoad> loadsFor(const std::vector<BalancerServer>& servers) {
    std::vector<ServerLoad> loads;
    for (const auto& server : servers) loads.push_back({true, server.weight, 0});
    return loads;
}

std::string key(int i) {
    return "192.168." + std::to_string(i / 256) + "." + std::to_string(i % 256);
}

// The server (by name) each of kKeys keys maps to.
std::vector<std::string> mapKeys(Balancer& balancer, const std::vector<BalancerServer>& servers,
                                 const std::vector<ServerLoad>& loads) {
    std::vector<std::string> names;
    for (int i = 0; i < kKeys; ++i) {
        std::string k = key(i);
        int chosen = balancer.pick({loads, k, 0});
        names.push_back(chosen < 0 ? "" : servers[static_cast<size_t>(chosen)].name);
    }
    return names;
}

std::vector<int> countKeys(Balancer& balancer, const std::vector<ServerLoad>& loads) {
    std::vector<int> counts(loads.size(), 0);
    for (int i = 0; i < kKeys; ++i) {
        std::string k = key(i);
        ++counts[static_cast<size_t>(balancer.pick({loads, k, 0}))];
    }
    return counts;
}

TEST(ConsistentHashBalancer, SameKeyGoesToTheSameServerAcrossCallsAndInstances) {
    auto servers = named({1, 2, 1, 1});
    auto loads = loadsFor(servers);
    ConsistentHashBalancer first(servers);
    ConsistentHashBalancer second(servers);
    auto mapped = mapKeys(first, servers, loads);
    EXPECT_EQ(mapKeys(first, servers, loads), mapped);
    EXPECT_EQ(mapKeys(second, servers, loads), mapped);
}

TEST(ConsistentHashBalancer, KeysSpreadByWeight) {
    auto servers = named({3, 1});
    ConsistentHashBalancer balancer(servers);
    auto counts = countKeys(balancer, loadsFor(servers));
    EXPECT_NEAR(counts[0], 0.75 * kKeys, 0.03 * kKeys);
    EXPECT_NEAR(counts[1], 0.25 * kKeys, 0.03 * kKeys);
}

TEST(ConsistentHashBalancer, EqualWeightsSpreadEvenly) {
    auto servers = named({1, 1, 1, 1, 1});
    ConsistentHashBalancer balancer(servers);
    for (int count : countKeys(balancer, loadsFor(servers))) {
        EXPECT_NEAR(count, 0.2 * kKeys, 0.03 * kKeys);
    }
}

TEST(ConsistentHashBalancer, RemovingOneOfFiveServersMovesOnlyItsKeys) {
    auto five = named({1, 1, 1, 1, 1});
    auto four = five;
    std::string removed = four[2].name;
    four.erase(four.begin() + 2);
    ConsistentHashBalancer before(five);
    ConsistentHashBalancer after(four);
    auto old_names = mapKeys(before, five, loadsFor(five));
    auto new_names = mapKeys(after, four, loadsFor(four));
    int moved = 0;
    for (int i = 0; i < kKeys; ++i) {
        if (old_names[static_cast<size_t>(i)] == new_names[static_cast<size_t>(i)]) continue;
        ++moved;
        EXPECT_EQ(old_names[static_cast<size_t>(i)], removed) << key(i);
    }
    EXPECT_GT(moved, 0.1 * kKeys);
    EXPECT_LT(moved, 0.3 * kKeys);
}

TEST(ConsistentHashBalancer, AddingAServerTakesKeysOnlyForItself) {
    auto four = named({1, 1, 1, 1});
    auto five = named({1, 1, 1, 1, 1});
    ConsistentHashBalancer before(four);
    ConsistentHashBalancer after(five);
    auto old_names = mapKeys(before, four, loadsFor(four));
    auto new_names = mapKeys(after, five, loadsFor(five));
    int moved = 0;
    for (size_t i = 0; i < old_names.size(); ++i) {
        if (old_names[i] == new_names[i]) continue;
        ++moved;
        EXPECT_EQ(new_names[i], five[4].name);
    }
    EXPECT_GT(moved, 0.1 * kKeys);
    EXPECT_LT(moved, 0.3 * kKeys);
}

TEST(ConsistentHashBalancer, IneligibleServersKeysMoveAwayAndComeBack) {
    auto servers = named({1, 1, 1, 1, 1});
    auto loads = loadsFor(servers);
    ConsistentHashBalancer balancer(servers);
    auto healthy = mapKeys(balancer, servers, loads);

    loads[3].eligible = false;
    auto degraded = mapKeys(balancer, servers, loads);
    EXPECT_EQ(mapKeys(balancer, servers, loads), degraded);  // deterministic
    for (size_t i = 0; i < healthy.size(); ++i) {
        ASSERT_FALSE(degraded[i].empty());
        ASSERT_NE(degraded[i], servers[3].name);
        if (healthy[i] != servers[3].name) {
            ASSERT_EQ(degraded[i], healthy[i]);
        }
    }
    // The displaced keys spread over the others rather than piling onto one server.
    std::vector<int> receivers(servers.size(), 0);
    for (size_t i = 0; i < healthy.size(); ++i) {
        if (healthy[i] != servers[3].name) continue;
        for (size_t s = 0; s < servers.size(); ++s) receivers[s] += degraded[i] == servers[s].name;
    }
    for (size_t s : {0u, 1u, 2u, 4u}) EXPECT_GT(receivers[s], 100) << s;

    loads[3].eligible = true;
    EXPECT_EQ(mapKeys(balancer, servers, loads), healthy);
}

TEST(ConsistentHashBalancer, RetriesWalkToDistinctServersUntilNoneIsLeft) {
    auto servers = named({1, 2, 3});
    auto loads = loadsFor(servers);
    ConsistentHashBalancer balancer(servers);
    std::vector<bool> seen(servers.size(), false);
    for (size_t attempt = 0; attempt < servers.size(); ++attempt) {
        int chosen = balancer.pick({loads, "client-42", 0});
        ASSERT_GE(chosen, 0);
        ASSERT_FALSE(seen[static_cast<size_t>(chosen)]);
        seen[static_cast<size_t>(chosen)] = true;
        loads[static_cast<size_t>(chosen)].eligible = false;  // tried
    }
    EXPECT_EQ(balancer.pick({loads, "client-42", 0}), -1);
}

TEST(ConsistentHashBalancer, EmptyKeyFallsBackToWeightedRoundRobin) {
    auto servers = named({3, 1});
    auto loads = loadsFor(servers);
    ConsistentHashBalancer balancer(servers);
    std::vector<int> counts(2, 0);
    for (int i = 0; i < 400; ++i) ++counts[static_cast<size_t>(balancer.pick({loads, "", 0}))];
    EXPECT_EQ(counts, (std::vector<int>{300, 100}));
    loads[0].eligible = false;
    EXPECT_EQ(balancer.pick({loads, "", 0}), 1);
}

TEST(ConsistentHashBalancer, RuntimeWeightChangeMovesKeysOnlyTowardTheHeavierServer) {
    auto servers = named({1, 1});
    auto loads = loadsFor(servers);
    ConsistentHashBalancer balancer(servers);
    auto before = mapKeys(balancer, servers, loads);
    loads[0].weight = 3;
    auto after = mapKeys(balancer, servers, loads);
    int on_first = 0;
    for (size_t i = 0; i < before.size(); ++i) {
        if (before[i] != after[i]) {
            EXPECT_EQ(after[i], servers[0].name);
        }
        on_first += after[i] == servers[0].name;
    }
    EXPECT_NEAR(on_first, 0.75 * kKeys, 0.03 * kKeys);
}

TEST(ConsistentHashBalancer, RingSizeFollowsWeightsWithinABudget) {
    ConsistentHashBalancer small(named({1, 2}));
    EXPECT_EQ(small.ringSize(), 3 * ConsistentHashBalancer::kPointsPerWeight);
    ConsistentHashBalancer huge(named(std::vector<unsigned>(100, 1000)));
    EXPECT_LE(huge.ringSize(), ConsistentHashBalancer::kMaxPoints);
    EXPECT_GT(huge.ringSize(), ConsistentHashBalancer::kMaxPoints / 2);
    ConsistentHashBalancer lopsided(named({1000, 1, 1000, 1}));  // the light ones keep a point
    std::vector<ServerLoad> loads = {
        {false, 1000, 0}, {true, 1, 0}, {false, 1000, 0}, {false, 1, 0}};
    EXPECT_EQ(lopsided.pick({loads, "any key", 0}), 1);
}

TEST(ConsistentHashBalancer, OverBudgetRingStillMovesOnlyTheRemovedServersKeys) {
    // 100 servers need 102,400 points: every count is halved, for 99 servers just the same.
    auto all = named(std::vector<unsigned>(100, 1));
    auto fewer = all;
    fewer.erase(fewer.begin() + 40);
    ConsistentHashBalancer before(all);
    ConsistentHashBalancer after(fewer);
    ASSERT_EQ(before.ringSize(), 100 * ConsistentHashBalancer::kPointsPerWeight / 2);
    auto old_names = mapKeys(before, all, loadsFor(all));
    auto new_names = mapKeys(after, fewer, loadsFor(fewer));
    int moved = 0;
    for (size_t i = 0; i < old_names.size(); ++i) {
        if (old_names[i] == new_names[i]) continue;
        ++moved;
        EXPECT_EQ(old_names[i], all[40].name);
    }
    EXPECT_GT(moved, 0);
    EXPECT_LT(moved, 0.03 * kKeys);
}

TEST(ConsistentHashBalancer, ReturnsMinusOneWhenNoServerIsEligible) {
    auto servers = named({1, 1});
    std::vector<ServerLoad> loads(2, {false, 1, 0});
    ConsistentHashBalancer balancer(servers);
    EXPECT_EQ(balancer.pick({loads, "key", 0}), -1);
    EXPECT_EQ(balancer.pick({loads, "", 0}), -1);
    ConsistentHashBalancer empty({});
    EXPECT_EQ(empty.pick({{}, "key", 0}), -1);
}

}  // namespace
}  // namespace sluice::upstream
