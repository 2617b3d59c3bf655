#include "upstream/balancer/least_conn_balancer.h"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "unit/upstream/balancer/pick.h"

namespace sluice::upstream {
namespace {

TEST(LeastConnBalancer, PrefersTheIdleServer) {
    LeastConnBalancer balancer(3);
    std::vector<ServerLoad> servers = {{true, 1, 3}, {true, 1, 0}, {true, 1, 2}};
    for (int i = 0; i < 10; ++i) EXPECT_EQ(pick(balancer, servers), 1);
}

TEST(LeastConnBalancer, ComparesActiveRequestsPerUnitOfWeight) {
    LeastConnBalancer balancer(2);
    // 5 / 4 < 2 / 1: the heavy server is less loaded for its size.
    std::vector<ServerLoad> servers = {{true, 4, 5}, {true, 1, 2}};
    EXPECT_EQ(pick(balancer, servers), 0);
    servers[0].active = 9;  // 9 / 4 > 2 / 1
    EXPECT_EQ(pick(balancer, servers), 1);
}

TEST(LeastConnBalancer, BreaksTiesRoundRobin) {
    LeastConnBalancer balancer(3);
    std::vector<ServerLoad> servers(3, {true, 1, 0});
    for (int round = 0; round < 4; ++round) {
        EXPECT_EQ(pick(balancer, servers), 0);
        EXPECT_EQ(pick(balancer, servers), 1);
        EXPECT_EQ(pick(balancer, servers), 2);
    }
    servers[0].active = 1;  // only 1 and 2 tie now
    for (int round = 0; round < 4; ++round) {
        int a = pick(balancer, servers);
        int b = pick(balancer, servers);
        EXPECT_NE(a, 0);
        EXPECT_NE(b, 0);
        EXPECT_NE(a, b);
    }
}

TEST(LeastConnBalancer, TiedIdleServersShareByWeight) {
    // Sequential traffic: every pick sees an idle pool, so only the tie-break decides.
    LeastConnBalancer balancer(2);
    std::vector<ServerLoad> servers = {{true, 3, 0}, {true, 1, 0}};
    std::vector<int> counts(2, 0);
    for (int i = 0; i < 10'000; ++i) ++counts[static_cast<size_t>(pick(balancer, servers))];
    EXPECT_EQ(counts, (std::vector<int>{7500, 2500}));
}

TEST(LeastConnBalancer, KeepsInFlightRequestsProportionalToWeight) {
    LeastConnBalancer balancer(2);
    std::vector<ServerLoad> servers = {{true, 3, 0}, {true, 1, 0}};
    // 8 requests always in flight; each new pick replaces the oldest completed request.
    std::deque<int> in_flight;
    for (int i = 0; i < 1000; ++i) {
        int chosen = pick(balancer, servers);
        ASSERT_GE(chosen, 0);
        ++servers[static_cast<size_t>(chosen)].active;
        in_flight.push_back(chosen);
        if (in_flight.size() > 8) {
            --servers[static_cast<size_t>(in_flight.front())].active;
            in_flight.pop_front();
        }
    }
    EXPECT_EQ(servers[0].active, 6u);
    EXPECT_EQ(servers[1].active, 2u);
}

TEST(LeastConnBalancer, SkipsIneligibleServers) {
    LeastConnBalancer balancer(3);
    std::vector<ServerLoad> servers = {{true, 1, 3}, {false, 1, 0}, {true, 1, 2}};
    for (int i = 0; i < 10; ++i) EXPECT_EQ(pick(balancer, servers), 2);
}

TEST(LeastConnBalancer, ReturnsMinusOneWhenNoServerIsEligible) {
    LeastConnBalancer balancer(2);
    std::vector<ServerLoad> servers = {{false, 1, 0}, {false, 1, 0}};
    EXPECT_EQ(pick(balancer, servers), -1);
    LeastConnBalancer empty(0);
    EXPECT_EQ(pick(empty, {}), -1);
}

}  // namespace
}  // namespace sluice::upstream
