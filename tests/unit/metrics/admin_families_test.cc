#include "metrics/admin_families.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "metrics/stats_registry.h"

namespace sluice::metrics {
namespace {

// The `# TYPE` lines of a text, in order.
std::vector<std::string> typeLines(const std::string& text) {
    std::vector<std::string> out;
    for (size_t at = text.find("# TYPE "); at != std::string::npos;
         at = text.find("# TYPE ", at + 1)) {
        out.push_back(text.substr(at + 7, text.find('\n', at) - at - 7));
    }
    return out;
}

TEST(AdminFamilies, AreAllAcceptedByTheWriterAndNamedOnce) {
    Exposition out;
    std::set<std::string_view> names;
    for (const FamilySpec& spec : kAdminFamilies) {
        EXPECT_TRUE(out.family(spec).valid()) << spec.name;
        EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
        EXPECT_TRUE(spec.name.starts_with("sluice_")) << spec.name;
        EXPECT_FALSE(spec.help.empty()) << spec.name;
        EXPECT_EQ(spec.type == MetricType::kCounter, spec.name.ends_with("_total")) << spec.name;
    }
    EXPECT_EQ(names.size(), 22u);  // admin.md's table
}

TEST(AdminFamilies, AppendListenerWritesEveryClassAndOmitsRequestsForTcp) {
    ListenerStats web(1), tcp(1);
    web.connectionOpened(0);
    web.connectionOpened(0);
    web.connectionClosed(0);
    web.request(0, 200);
    web.request(0, 200);
    web.request(0, 503);
    web.bytesReceived(0, 10);
    web.bytesSent(0, 20);
    tcp.connectionOpened(0);

    Exposition out;
    declareAdminFamilies(out);
    appendListener(out, "web", web.totals(), true);
    appendListener(out, "db", tcp.totals(), false);
    const std::string text = out.text();
    for (const char* line : {
             "sluice_listener_connections_total{listener=\"web\"} 2\n",
             "sluice_listener_active_connections{listener=\"web\"} 1\n",
             "sluice_listener_requests_total{listener=\"web\",code=\"1xx\"} 0\n",
             "sluice_listener_requests_total{listener=\"web\",code=\"2xx\"} 2\n",
             "sluice_listener_requests_total{listener=\"web\",code=\"5xx\"} 1\n",
             "sluice_listener_bytes_received_total{listener=\"web\"} 10\n",
             "sluice_listener_bytes_sent_total{listener=\"web\"} 20\n",
             "sluice_rate_limited_requests_total{listener=\"web\"} 0\n",
             "sluice_listener_connections_total{listener=\"db\"} 1\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << line << text;
    }
    EXPECT_EQ(text.find("sluice_listener_requests_total{listener=\"db\""), std::string::npos);
}

// Servers appended before listeners still come out in admin.md's order.
TEST(AdminFamilies, KeepTheTableOrderWhateverScopeIsAppendedFirst) {
    ServerStats server(1);
    server.request(0, 404);
    server.check(server.mainSlot(), false);
    PoolStats pool(1);
    pool.request(0, 200);
    pool.observeDuration(0, 42'000);
    ListenerStats listener(1);

    Exposition out;
    declareAdminFamilies(out);
    appendServer(out, "app", "app1", server.totals());
    appendPool(out, "app", pool.totals());
    appendListener(out, "web", listener.totals(), true);
    EXPECT_EQ(typeLines(out.text()), (std::vector<std::string>{
                                         "sluice_listener_connections_total counter",
                                         "sluice_listener_active_connections gauge",
                                         "sluice_listener_requests_total counter",
                                         "sluice_listener_bytes_received_total counter",
                                         "sluice_listener_bytes_sent_total counter",
                                         "sluice_pool_requests_total counter",
                                         "sluice_pool_request_duration_seconds histogram",
                                         "sluice_server_requests_total counter",
                                         "sluice_server_failures_total counter",
                                         "sluice_server_ejections_total counter",
                                         "sluice_server_checks_total counter",
                                         "sluice_rate_limited_requests_total counter",
                                     }));
    const std::string text = out.text();
    EXPECT_NE(
        text.find("sluice_server_requests_total{pool=\"app\",server=\"app1\",code=\"4xx\"} 1\n"),
        std::string::npos);
    EXPECT_NE(
        text.find("sluice_server_checks_total{pool=\"app\",server=\"app1\",result=\"fail\"} 1\n"),
        std::string::npos);
    EXPECT_NE(
        text.find("sluice_server_checks_total{pool=\"app\",server=\"app1\",result=\"pass\"} 0\n"),
        std::string::npos);
    EXPECT_NE(
        text.find("sluice_pool_request_duration_seconds_bucket{pool=\"app\",le=\"0.05\"} 1\n"),
        std::string::npos);
    EXPECT_NE(text.find("sluice_pool_request_duration_seconds_sum{pool=\"app\"} 0.042\n"),
              std::string::npos);
}

// N requests on two workers raise the scraped counter by exactly N; a reload that keeps the
// server keeps the count, one that removes it drops its series.
TEST(AdminFamilies, ScrapeOfRegistriesCountsExactlyAcrossReloads) {
    StatsRegistries registries(2);
    auto s1 = registries.servers.obtain({"app", "app1"});
    auto s2 = registries.servers.obtain({"app", "app2"});
    for (int i = 0; i < 70; ++i) s1->request(i % 2, 200);
    s2->request(0, 502);
    auto scrape = [&] {
        Exposition out;
        declareAdminFamilies(out);
        for (const auto& [key, stats] : registries.servers.entries()) {
            appendServer(out, key.first, key.second, stats->totals());
        }
        return out.text();
    };
    const std::string before = scrape();
    EXPECT_NE(before.find("{pool=\"app\",server=\"app1\",code=\"2xx\"} 70\n"), std::string::npos);
    EXPECT_NE(before.find("{pool=\"app\",server=\"app2\",code=\"5xx\"} 1\n"), std::string::npos);

    registries.servers.obtain({"app", "app1"})->request(1, 200);
    registries.servers.retainOnly({{"app", "app1"}});
    const std::string after = scrape();
    EXPECT_NE(after.find("{pool=\"app\",server=\"app1\",code=\"2xx\"} 71\n"), std::string::npos);
    EXPECT_EQ(after.find("server=\"app2\""), std::string::npos);
}

}  // namespace
}  // namespace sluice::metrics
