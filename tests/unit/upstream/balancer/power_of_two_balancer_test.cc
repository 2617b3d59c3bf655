#include "upstream/balancer/power_of_two_balancer.h"

#include <gtest/gtest.h>

#include <vector>

#include "unit/upstream/balancer/pick.h"

namespace sluice::upstream {
namespace {

std::vector<int> countPicks(Balancer& balancer, const std::vector<ServerLoad>& servers, int n) {
    std::vector<int> counts(servers.size(), 0);
    for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
    return counts;
}

TEST(PowerOfTwoBalancer, PrefersTheIdleServer) {
    PowerOfTwoBalancer balancer(2, 3);
    std::vector<ServerLoad> servers = {{true, 1, 5}, {true, 1, 0}};
    // With two eligible servers both are always drawn (distinct candidates), so the idle one
    // wins every time.
    EXPECT_EQ(countPicks(balancer, servers, 1000), (std::vector<int>{0, 1000}));
}

TEST(PowerOfTwoBalancer, MostLoadedServerNeverWinsAndIdleServerWinsWhenDrawn) {
    PowerOfTwoBalancer balancer(3, 3);
    std::vector<ServerLoad> servers = {{true, 1, 5}, {true, 1, 0}, {true, 1, 9}};
    auto counts = countPicks(balancer, servers, 30'000);
    EXPECT_EQ(counts[2], 0);
    // The idle server is in 2 of the 3 equally likely pairs.
    EXPECT_NEAR(counts[1], 20'000, 600);
    EXPECT_NEAR(counts[0], 10'000, 600);
}

TEST(PowerOfTwoBalancer, ComparesActiveRequestsPerUnitOfWeight) {
    PowerOfTwoBalancer balancer(2, 3);
    std::vector<ServerLoad> servers = {{true, 4, 5}, {true, 1, 2}};  // 5/4 < 2/1
    EXPECT_EQ(countPicks(balancer, servers, 100), (std::vector<int>{100, 0}));
}

TEST(PowerOfTwoBalancer, IdlePoolSplitsByWeight) {
    PowerOfTwoBalancer balancer(2, 11);
    std::vector<ServerLoad> servers = {{true, 3, 0}, {true, 1, 0}};
    auto counts = countPicks(balancer, servers, 100'000);
    EXPECT_NEAR(counts[0], 75'000, 1'000);
}

TEST(PowerOfTwoBalancer, IsDeterministicGivenTheSeed) {
    std::vector<ServerLoad> servers = {{true, 1, 1}, {true, 1, 0}, {true, 2, 1}, {true, 1, 0}};
    PowerOfTwoBalancer a(4, 99);
    PowerOfTwoBalancer b(4, 99);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(pick(a, servers), pick(b, servers));
}

TEST(PowerOfTwoBalancer, SkipsIneligibleServers) {
    PowerOfTwoBalancer balancer(3, 5);
    std::vector<ServerLoad> servers = {{true, 1, 5}, {false, 1, 0}, {true, 1, 7}};
    EXPECT_EQ(countPicks(balancer, servers, 100), (std::vector<int>{100, 0, 0}));
    servers[0].eligible = false;  // a single eligible server is picked whatever its load
    EXPECT_EQ(countPicks(balancer, servers, 10), (std::vector<int>{0, 0, 10}));
}

TEST(PowerOfTwoBalancer, ReturnsMinusOneWhenNoServerIsEligible) {
    PowerOfTwoBalancer balancer(2, 1);
    std::vector<ServerLoad> servers = {{false, 1, 0}, {false, 1, 0}};
    EXPECT_EQ(pick(balancer, servers), -1);
    PowerOfTwoBalancer empty(0, 1);
    EXPECT_EQ(pick(empty, {}), -1);
}

}  // namespace
}  // namespace sluice::upstream
