#include "upstream/balancer/round_robin_balancer.h"

#include <gtest/gtest.h>

#include <vector>

#include "unit/upstream/balancer/pick.h"

namespace sluice::upstream {
namespace {

std::vector<ServerLoad> idle(size_t n) { return std::vector<ServerLoad>(n, {true, 1, 0}); }

TEST(RoundRobinBalancer, CyclesExactlyInIndexOrder) {
    RoundRobinBalancer balancer(3);
    auto servers = idle(3);
    for (int round = 0; round < 4; ++round) {
        EXPECT_EQ(pick(balancer, servers), 0);
        EXPECT_EQ(pick(balancer, servers), 1);
        EXPECT_EQ(pick(balancer, servers), 2);
    }
}

TEST(RoundRobinBalancer, IgnoresWeightsAndLoad) {
    RoundRobinBalancer balancer(2);
    std::vector<ServerLoad> servers = {{true, 10, 50}, {true, 1, 0}};
    EXPECT_EQ(pick(balancer, servers), 0);
    EXPECT_EQ(pick(balancer, servers), 1);
    EXPECT_EQ(pick(balancer, servers), 0);
}

TEST(RoundRobinBalancer, SkipsIneligibleServersWithoutSkewingTheCycle) {
    RoundRobinBalancer balancer(4);
    auto servers = idle(4);
    servers[1].eligible = false;
    // Server 2 must not inherit server 1's turn: the cycle is 0 2 3, each equally often.
    std::vector<int> counts(4, 0);
    for (int i = 0; i < 300; ++i) {
        int chosen = pick(balancer, servers);
        ASSERT_NE(chosen, 1);
        ASSERT_GE(chosen, 0);
        ++counts[static_cast<size_t>(chosen)];
    }
    EXPECT_EQ(counts, (std::vector<int>{100, 0, 100, 100}));
}

TEST(RoundRobinBalancer, ReturningServerRejoinsInItsPlace) {
    RoundRobinBalancer balancer(3);
    auto servers = idle(3);
    servers[1].eligible = false;
    EXPECT_EQ(pick(balancer, servers), 0);
    EXPECT_EQ(pick(balancer, servers), 2);
    servers[1].eligible = true;
    EXPECT_EQ(pick(balancer, servers), 0);
    EXPECT_EQ(pick(balancer, servers), 1);
    EXPECT_EQ(pick(balancer, servers), 2);
}

TEST(RoundRobinBalancer, RetryGetsTheNextServer) {
    RoundRobinBalancer balancer(3);
    auto servers = idle(3);
    EXPECT_EQ(pick(balancer, servers), 0);
    servers[1].eligible = false;  // picked next, failed, now marked as tried
    EXPECT_EQ(pick(balancer, servers), 2);
}

TEST(RoundRobinBalancer, ReturnsMinusOneWhenNoServerIsEligible) {
    RoundRobinBalancer balancer(3);
    std::vector<ServerLoad> servers(3, {false, 1, 0});
    EXPECT_EQ(pick(balancer, servers), -1);
    RoundRobinBalancer empty(0);
    EXPECT_EQ(pick(empty, {}), -1);
}

TEST(RoundRobinBalancer, ConsidersOnlyTheServersItWasBuiltFor) {
    RoundRobinBalancer balancer(2);
    std::vector<ServerLoad> servers = {{false, 1, 0}, {false, 1, 0}, {true, 1, 0}};
    EXPECT_EQ(pick(balancer, servers), -1);
}

}  // namespace
}  // namespace sluice::upstream
