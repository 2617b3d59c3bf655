#include "metrics/scope_stats.h"

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

TEST(CodeClass, MapsHundredsToClassesAndEverythingElseToNone) {
    EXPECT_EQ(codeClass(100), 0);
    EXPECT_EQ(codeClass(101), 0);
    EXPECT_EQ(codeClass(200), 1);
    EXPECT_EQ(codeClass(304), 2);
    EXPECT_EQ(codeClass(499), 3);
    EXPECT_EQ(codeClass(500), 4);
    EXPECT_EQ(codeClass(599), 4);
    EXPECT_EQ(codeClass(0), -1);  // nothing was sent
    EXPECT_EQ(codeClass(99), -1);
    EXPECT_EQ(codeClass(600), -1);
    EXPECT_EQ(codeClass(999), -1);
    EXPECT_EQ(codeClass(-1), -1);
    EXPECT_EQ(kCodeClassNames[codeClass(404)], "4xx");
}

TEST(ListenerStats, CountsConnectionsRequestsAndBytesPerWorker) {
    ListenerStats stats(2);
    EXPECT_EQ(stats.mainSlot(), 2u);
    for (int i = 0; i < 3; ++i) stats.connectionOpened(0);
    for (int i = 0; i < 2; ++i) stats.connectionOpened(1);
    stats.connectionClosed(1);
    for (int status : {200, 204, 301, 404, 400, 503, 101}) stats.request(0, status);
    stats.request(1, 200);
    stats.request(1, 0);    // no response: no class
    stats.request(1, 600);  // out of range: no class
    stats.bytesReceived(0, 100);
    stats.bytesReceived(1, 23);
    stats.bytesSent(1, 4096);
    stats.rateLimited(0);
    stats.rateLimited(stats.mainSlot());

    const ListenerTotals t = stats.totals();
    EXPECT_EQ(t.connections_total, 5u);
    EXPECT_EQ(t.active_connections, 4);
    EXPECT_EQ(t.requests, (CodeCounts{1, 3, 1, 2, 1}));
    EXPECT_EQ(t.bytes_received, 123u);
    EXPECT_EQ(t.bytes_sent, 4096u);
    EXPECT_EQ(t.rate_limited, 2u);
}

TEST(PoolStats, CountsClassesAndObservesDurations) {
    PoolStats stats(1);
    stats.request(0, 200);
    stats.request(0, 502);
    stats.observeDuration(0, 4'000);
    stats.observeDuration(0, 700'000);
    const PoolTotals t = stats.totals();
    EXPECT_EQ(t.requests, (CodeCounts{0, 1, 0, 0, 1}));
    EXPECT_EQ(t.duration.count(), 2u);
    EXPECT_EQ(t.duration.buckets[0], 1u);
    EXPECT_EQ(t.duration.buckets[7], 1u);  // le="1"
    EXPECT_EQ(t.duration.sum_micros, 704'000u);
}

TEST(ServerStats, TakesChecksFromTheMainThreadSlot) {
    ServerStats stats(2);
    stats.request(0, 200);
    stats.request(1, 500);
    stats.failure(1);
    stats.ejection(1);
    stats.check(stats.mainSlot(), true);
    stats.check(stats.mainSlot(), true);
    stats.check(stats.mainSlot(), false);
    const ServerTotals t = stats.totals();
    EXPECT_EQ(t.requests, (CodeCounts{0, 1, 0, 0, 1}));
    EXPECT_EQ(t.failures, 1u);
    EXPECT_EQ(t.ejections, 1u);
    EXPECT_EQ(t.checks_passed, 2u);
    EXPECT_EQ(t.checks_failed, 1u);
}

}  // namespace
}  // namespace sluice::metrics
