#include "upstream/balancer/balancer.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "upstream/balancer/consistent_hash_balancer.h"
#include "upstream/balancer/least_conn_balancer.h"
#include "upstream/balancer/peak_ewma_balancer.h"
#include "upstream/balancer/power_of_two_balancer.h"
#include "upstream/balancer/random_balancer.h"
#include "upstream/balancer/round_robin_balancer.h"
#include "upstream/balancer/smooth_weighted_balancer.h"

namespace sluice::upstream {
namespace {

using config::Algorithm;

struct Case {
    Algorithm algorithm;
    const char* name;
    std::function<bool(const Balancer*)> is_expected_type;
};

template <typename T>
bool isA(const Balancer* balancer) {
    return dynamic_cast<const T*>(balancer) != nullptr;
}

// Every config::Algorithm value; kHash is the last one.
const std::vector<Case>& allAlgorithms() {
    static const std::vector<Case> cases = {
        {Algorithm::kRoundRobin, "round_robin", isA<RoundRobinBalancer>},
        {Algorithm::kWeightedRoundRobin, "weighted_round_robin", isA<SmoothWeightedBalancer>},
        {Algorithm::kLeastConn, "least_conn", isA<LeastConnBalancer>},
        {Algorithm::kRandom, "random", isA<RandomBalancer>},
        {Algorithm::kPowerOfTwo, "power_of_two", isA<PowerOfTwoBalancer>},
        {Algorithm::kEwma, "ewma", isA<PeakEwmaBalancer>},
        {Algorithm::kIpHash, "ip_hash", isA<ConsistentHashBalancer>},
        {Algorithm::kHash, "hash", isA<ConsistentHashBalancer>},
    };
    return cases;
}

std::vector<BalancerServer> threeServers() { return {{"a", 1}, {"b", 2}, {"c", 1}}; }

TEST(MakeBalancer, CoversEveryAlgorithm) {
    ASSERT_EQ(allAlgorithms().size(), static_cast<size_t>(Algorithm::kHash) + 1);
    for (size_t i = 0; i < allAlgorithms().size(); ++i) {
        const Case& c = allAlgorithms()[i];
        ASSERT_EQ(static_cast<size_t>(c.algorithm), i) << c.name;
        auto balancer = makeBalancer(c.algorithm, threeServers(), 1);
        ASSERT_NE(balancer, nullptr) << c.name;
        EXPECT_TRUE(c.is_expected_type(balancer.get())) << c.name;
    }
}

TEST(MakeBalancer, EveryAlgorithmPicksOnlyEligibleServers) {
    for (const Case& c : allAlgorithms()) {
        auto balancer = makeBalancer(c.algorithm, threeServers(), 1);
        std::vector<ServerLoad> loads = {{true, 1, 0}, {false, 2, 0}, {true, 1, 3}};
        for (int i = 0; i < 200; ++i) {
            std::string key = "key-" + std::to_string(i);
            int chosen = balancer->pick({loads, i % 2 == 0 ? key : "", 1000});
            ASSERT_TRUE(chosen == 0 || chosen == 2) << c.name << " picked " << chosen;
            balancer->observeLatency(chosen, 5.0 + i % 7, 1000);
        }
    }
}

TEST(MakeBalancer, EveryAlgorithmReachesEveryEligibleServer) {
    for (const Case& c : allAlgorithms()) {
        auto balancer = makeBalancer(c.algorithm, threeServers(), 1);
        std::vector<ServerLoad> loads = {{true, 1, 0}, {true, 2, 0}, {true, 1, 0}};
        std::vector<bool> seen(3, false);
        for (int i = 0; i < 300; ++i) {
            std::string key = "key-" + std::to_string(i);
            int chosen = balancer->pick({loads, key, 0});
            ASSERT_GE(chosen, 0) << c.name;
            seen[static_cast<size_t>(chosen)] = true;
        }
        EXPECT_EQ(seen, (std::vector<bool>{true, true, true})) << c.name;
    }
}

TEST(MakeBalancer, EveryAlgorithmReturnsMinusOneWhenNoServerIsEligible) {
    for (const Case& c : allAlgorithms()) {
        auto balancer = makeBalancer(c.algorithm, threeServers(), 1);
        std::vector<ServerLoad> loads(3, {false, 1, 0});
        EXPECT_EQ(balancer->pick({loads, "key", 0}), -1) << c.name;
        EXPECT_EQ(balancer->pick({loads, "", 0}), -1) << c.name;
        auto empty = makeBalancer(c.algorithm, {}, 1);
        EXPECT_EQ(empty->pick({{}, "key", 0}), -1) << c.name;
    }
}

TEST(MakeBalancer, HashAlgorithmsIgnoreTheSeed) {
    for (Algorithm algorithm : {Algorithm::kIpHash, Algorithm::kHash}) {
        auto worker1 = makeBalancer(algorithm, threeServers(), 1);
        auto worker2 = makeBalancer(algorithm, threeServers(), 2);
        std::vector<ServerLoad> loads = {{true, 1, 0}, {true, 2, 0}, {true, 1, 0}};
        for (int i = 0; i < 100; ++i) {
            std::string key = "198.51.100." + std::to_string(i);
            ASSERT_EQ(worker1->pick({loads, key, 0}), worker2->pick({loads, key, 0}));
        }
    }
}

}  // namespace
}  // namespace sluice::upstream
