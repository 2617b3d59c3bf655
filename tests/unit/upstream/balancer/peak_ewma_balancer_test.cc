#include "upstream/balancer/peak_ewma_balancer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <limits>
#include <vector>

namespace sluice::upstream {
namespace {

constexpr uint64_t kSecond = 1000;

// `picks` picks at time `now_ms` with `concurrency` requests kept in flight (the oldest completes
// when the window is full), no latency feedback. Returns the picks per server.
std::vector<int> simulate(Balancer& balancer, std::vector<ServerLoad>& servers, uint64_t now_ms,
                          int picks, size_t concurrency) {
    std::vector<int> counts(servers.size(), 0);
    std::deque<size_t> in_flight;
    for (int i = 0; i < picks; ++i) {
        int chosen = balancer.pick({servers, "", now_ms});
        if (chosen < 0) break;
        auto index = static_cast<size_t>(chosen);
        ++counts[index];
        ++servers[index].active;
        in_flight.push_back(index);
        if (in_flight.size() > concurrency) {
            --servers[in_flight.front()].active;
            in_flight.pop_front();
        }
    }
    for (size_t index : in_flight) --servers[index].active;
    return counts;
}

// One sample per second per server in [from, to).
void observeEverySecond(Balancer& balancer, int server, double ms, uint64_t from, uint64_t to) {
    for (uint64_t t = from; t < to; t += kSecond) balancer.observeLatency(server, ms, t);
}

TEST(PeakEwmaBalancer, EstimateJumpsToAPeakAndDecaysWithTheTimeConstant) {
    PeakEwmaBalancer balancer(1, 1, 10'000);
    EXPECT_EQ(balancer.estimateMs(0, 0), -1);  // no sample yet
    balancer.observeLatency(0, 10, 0);
    EXPECT_DOUBLE_EQ(balancer.estimateMs(0, 0), 10);
    balancer.observeLatency(0, 100, 0);  // higher: taken at once
    EXPECT_DOUBLE_EQ(balancer.estimateMs(0, 0), 100);
    balancer.observeLatency(0, 10, 10'000);  // lower, one time constant later
    double w = std::exp(-1.0);
    EXPECT_NEAR(balancer.estimateMs(0, 10'000), 100 * w + 10 * (1 - w), 1e-9);
    // Without samples the estimate keeps decaying (the idle retry mechanism).
    EXPECT_NEAR(balancer.estimateMs(0, 20'000), (100 * w + 10 * (1 - w)) * w, 1e-9);
}

TEST(PeakEwmaBalancer, LowerSamplesConvergeAtTheSameSpeedWhateverTheRate) {
    PeakEwmaBalancer sparse(1, 1, 10'000);
    PeakEwmaBalancer dense(1, 1, 10'000);
    sparse.observeLatency(0, 100, 0);
    dense.observeLatency(0, 100, 0);
    for (uint64_t t = 1000; t <= 10'000; t += 1000) sparse.observeLatency(0, 10, t);
    for (uint64_t t = 10; t <= 10'000; t += 10) dense.observeLatency(0, 10, t);
    EXPECT_NEAR(sparse.estimateMs(0, 10'000), dense.estimateMs(0, 10'000), 1e-6);
}

TEST(PeakEwmaBalancer, SlowServerShedsLoadOnItsFirstSlowResponse) {
    PeakEwmaBalancer balancer(2, 7);
    std::vector<ServerLoad> servers(2, {true, 1, 0});
    observeEverySecond(balancer, 0, 10, 0, 10 * kSecond);
    observeEverySecond(balancer, 1, 10, 0, 10 * kSecond);
    auto before = simulate(balancer, servers, 10 * kSecond, 1000, 8);
    EXPECT_NEAR(before[0], 500, 50);

    balancer.observeLatency(0, 500, 10 * kSecond);  // a single slow response
    auto after = simulate(balancer, servers, 10 * kSecond, 1000, 8);
    EXPECT_EQ(after[0], 0);
    EXPECT_EQ(after[1], 1000);
}

TEST(PeakEwmaBalancer, ServerThatSpeedsUpAgainRegainsTraffic) {
    PeakEwmaBalancer balancer(2, 7);
    std::vector<ServerLoad> servers(2, {true, 1, 0});
    observeEverySecond(balancer, 1, 10, 0, 120 * kSecond);
    balancer.observeLatency(0, 500, 0);
    EXPECT_EQ(simulate(balancer, servers, kSecond, 1000, 8)[0], 0);

    // Server 0 answers fast again: within a few time constants it gets its share back.
    observeEverySecond(balancer, 0, 10, kSecond, 60 * kSecond);
    auto counts = simulate(balancer, servers, 60 * kSecond, 1000, 8);
    EXPECT_GT(counts[0], 350);
    EXPECT_LT(counts[0], 650);
}

TEST(PeakEwmaBalancer, IdleSlowServerIsRetriedAfterItsEstimateDecays) {
    PeakEwmaBalancer balancer(2, 7);
    std::vector<ServerLoad> servers(2, {true, 1, 0});
    observeEverySecond(balancer, 1, 10, 0, 120 * kSecond);
    balancer.observeLatency(0, 500, 0);  // and no samples afterwards: it gets no traffic
    EXPECT_EQ(simulate(balancer, servers, 10 * kSecond, 1000, 8)[0], 0);
    // ln(500 / 10) = 3.9 time constants later it costs like the fastest server.
    auto counts = simulate(balancer, servers, 60 * kSecond, 1000, 8);
    EXPECT_GT(counts[0], 300);
}

TEST(PeakEwmaBalancer, ServerWithoutSamplesIsTriedButNotFlooded) {
    PeakEwmaBalancer balancer(3, 7);
    std::vector<ServerLoad> servers(3, {true, 1, 0});
    observeEverySecond(balancer, 0, 10, 0, 10 * kSecond);
    observeEverySecond(balancer, 1, 50, 0, 10 * kSecond);
    // Server 2 (new) is costed like the fastest server: it shares with server 0, while the slow
    // server 1 gets little.
    auto counts = simulate(balancer, servers, 10 * kSecond, 3000, 12);
    EXPECT_GT(counts[2], 1000);
    EXPECT_LT(counts[2], 2000);
    EXPECT_GT(counts[0], 1000);
    EXPECT_LT(counts[1], 400);
}

TEST(PeakEwmaBalancer, ActiveRequestsMultiplyTheCost) {
    PeakEwmaBalancer balancer(2, 7);
    balancer.observeLatency(0, 10, 0);
    balancer.observeLatency(1, 25, 0);
    std::vector<ServerLoad> servers = {{true, 1, 2}, {true, 1, 0}};  // 10 * 3 > 25 * 1
    EXPECT_EQ(balancer.pick({servers, "", 0}), 1);
    servers[0].active = 1;  // 10 * 2 < 25 * 1
    EXPECT_EQ(balancer.pick({servers, "", 0}), 0);
}

TEST(PeakEwmaBalancer, HeavierServerTakesMoreLoadAtEqualLatency) {
    PeakEwmaBalancer balancer(2, 7);
    std::vector<ServerLoad> servers = {{true, 3, 0}, {true, 1, 0}};
    observeEverySecond(balancer, 0, 10, 0, 10 * kSecond);
    observeEverySecond(balancer, 1, 10, 0, 10 * kSecond);
    auto counts = simulate(balancer, servers, 10 * kSecond, 4000, 16);
    EXPECT_NEAR(counts[0], 3000, 200);
}

TEST(PeakEwmaBalancer, WithoutAnySamplesBehavesLikeLeastRequests) {
    PeakEwmaBalancer balancer(2, 7);
    std::vector<ServerLoad> servers = {{true, 1, 3}, {true, 1, 0}};
    for (int i = 0; i < 10; ++i) EXPECT_EQ(balancer.pick({servers, "", 0}), 1);
}

TEST(PeakEwmaBalancer, IgnoresBadFeedback) {
    PeakEwmaBalancer balancer(2, 7);
    balancer.observeLatency(-1, 5, 0);
    balancer.observeLatency(2, 5, 0);
    balancer.observeLatency(0, std::numeric_limits<double>::quiet_NaN(), 0);
    EXPECT_EQ(balancer.estimateMs(0, 0), 0);
    balancer.observeLatency(1, -3, 0);
    EXPECT_EQ(balancer.estimateMs(1, 0), 0);
    balancer.observeLatency(1, 20, 5000);
    balancer.observeLatency(1, 5, 1000);  // clock going backwards: no decay, no growth
    EXPECT_DOUBLE_EQ(balancer.estimateMs(1, 5000), 20);
}

TEST(PeakEwmaBalancer, SkipsIneligibleServers) {
    PeakEwmaBalancer balancer(3, 7);
    balancer.observeLatency(0, 1, 0);
    balancer.observeLatency(1, 100, 0);
    balancer.observeLatency(2, 200, 0);
    std::vector<ServerLoad> servers = {{false, 1, 0}, {true, 1, 0}, {true, 1, 0}};
    for (int i = 0; i < 20; ++i) EXPECT_EQ(balancer.pick({servers, "", 0}), 1);
    servers[1].eligible = false;
    EXPECT_EQ(balancer.pick({servers, "", 0}), 2);
}

TEST(PeakEwmaBalancer, ReturnsMinusOneWhenNoServerIsEligible) {
    PeakEwmaBalancer balancer(2, 7);
    std::vector<ServerLoad> servers = {{false, 1, 0}, {false, 1, 0}};
    EXPECT_EQ(balancer.pick({servers, "", 0}), -1);
    PeakEwmaBalancer empty(0, 7);
    EXPECT_EQ(empty.pick({{}, "", 0}), -1);
}

}  // namespace
}  // namespace sluice::upstream
