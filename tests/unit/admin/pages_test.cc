#include "admin/pages.h"

#include <gtest/gtest.h>

#include <memory>
#include <variant>

#include "base/json.h"
#include "config/config_loader.h"
#include "metrics/generation_stats.h"

namespace sluice::admin {
namespace {

const char* const kToml = R"([[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"

[[listener]]
name = "db"
bind = "127.0.0.1:5432"
mode = "tcp"
pool = "app"

[[pool]]
name = "app"

  [[pool.server]]
  name = "app1"
  address = "127.0.0.1:8001"

  [[pool.server]]
  name = "app2"
  address = "127.0.0.1:8002"
)";

// A process with a real snapshot whose counting scopes the test writes (as the main thread).
class StatsProcess final : public control::Process {
  public:
    StatsProcess() : registries_(2) {
        auto loaded = config::loadConfigFromString(kToml, "t.toml");
        config_ = std::make_shared<config::Config>(std::get<config::Config>(std::move(loaded)));
        snapshot_ = routing::buildSnapshot(config_, 3, state_registry_, {}, &registries_);
        status_.generation = 3;
    }
    control::ProcessStatus status() const override { return status_; }
    std::shared_ptr<const routing::Snapshot> snapshot() const override { return snapshot_; }
    uint64_t nowMs() const override { return 1000; }
    std::optional<control::CheckReport> lastCheck(const std::string&,
                                                  const std::string& server) const override {
        if (server != "app2") return std::nullopt;
        return control::CheckReport{"HTTP 503", 0, 10, 4};
    }
    const config::Config& fileConfig() const override { return *config_; }
    bool publish(std::shared_ptr<const config::Config>, const control::RuntimeState&,
                 std::string*) override {
        return false;
    }
    control::ReloadOutcome reload(const Derive&) override { return {}; }

    control::ProcessStatus status_;
    std::shared_ptr<const config::Config> config_;
    routing::ServerStateRegistry state_registry_;
    metrics::StatsRegistries registries_;
    std::shared_ptr<const routing::Snapshot> snapshot_;
};

bool has(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(AdminPages, MetricsCarryEveryScopeInAdminMdsOrder) {
    StatsProcess process;
    const metrics::GenerationStats* stats = process.snapshot_->stats.get();
    ASSERT_NE(stats, nullptr);
    metrics::recordExchange(stats, {0, "app", 1, 200, 12});
    metrics::recordExchange(stats, {0, "app", -1, 503, 0});
    metrics::connectionOpened(stats, 1);
    process.snapshot_->pools[0]->servers[1].state->failures.store(2);
    process.snapshot_->pools[0]->servers[0].state->admin.store(upstream::AdminState::kDrain);
    const std::string text = metricsText(process, {1700000000, 4, 1});

    EXPECT_EQ(text.rfind("# HELP sluice_build_info ", 0), 0u) << text;
    EXPECT_TRUE(has(text, "sluice_start_time_seconds 1700000000")) << text;
    EXPECT_TRUE(has(text, "sluice_config_generation 3"));
    EXPECT_TRUE(has(text, "sluice_config_reloads_total{result=\"ok\"} 4"));
    EXPECT_TRUE(has(text, "sluice_config_reloads_total{result=\"error\"} 1"));
    EXPECT_TRUE(has(text, "sluice_listener_requests_total{listener=\"web\",code=\"2xx\"} 1"));
    EXPECT_TRUE(has(text, "sluice_listener_requests_total{listener=\"web\",code=\"5xx\"} 1"));
    EXPECT_EQ(text.find("sluice_listener_requests_total{listener=\"db\""), std::string::npos);
    EXPECT_TRUE(has(text, "sluice_listener_active_connections{listener=\"db\"} 1"));
    EXPECT_TRUE(has(text, "sluice_pool_requests_total{pool=\"app\",code=\"5xx\"} 1"));
    EXPECT_TRUE(
        has(text, "sluice_pool_request_duration_seconds_bucket{pool=\"app\",le=\"0.025\"} 2"));
    EXPECT_TRUE(has(text, "sluice_pool_request_duration_seconds_sum{pool=\"app\"} 0.012"));
    EXPECT_TRUE(has(text, "sluice_pool_available_servers{pool=\"app\"} 1"));  // app1 drains
    EXPECT_TRUE(
        has(text, "sluice_server_requests_total{pool=\"app\",server=\"app2\",code=\"2xx\"} 1"));
    EXPECT_TRUE(has(text, "sluice_server_up{pool=\"app\",server=\"app1\"} 0"));
    EXPECT_TRUE(has(text, "sluice_server_state{pool=\"app\",server=\"app1\",state=\"drain\"} 1"));
    EXPECT_TRUE(has(text, "sluice_server_state{pool=\"app\",server=\"app1\",state=\"ready\"} 0"));
    EXPECT_TRUE(has(text, "sluice_server_failures_total{pool=\"app\",server=\"app2\"} 2"));
    EXPECT_TRUE(
        has(text, "sluice_server_checks_total{pool=\"app\",server=\"app2\",result=\"pass\"} 6"));
    EXPECT_TRUE(
        has(text, "sluice_server_checks_total{pool=\"app\",server=\"app2\",result=\"fail\"} 4"));
    // Families in admin.md's order.
    size_t last = 0;
    for (const char* family :
         {"sluice_build_info", "sluice_config_reloads_total", "sluice_listener_connections_total",
          "sluice_pool_requests_total", "sluice_pool_queue_length", "sluice_server_requests_total",
          "sluice_server_state", "sluice_server_checks_total"}) {
        const size_t at = text.find(std::string("# TYPE ") + family + " ");
        ASSERT_NE(at, std::string::npos) << family;
        EXPECT_GT(at + 1, last) << family;
        last = at;
    }
}

TEST(AdminPages, StatusJsonMergesTheShowReplies) {
    StatsProcess process;
    metrics::recordExchange(process.snapshot_->stats.get(), {0, "app", 0, 404, 30});
    const Json doc = Json::parse(statusJson(process, {}));
    EXPECT_EQ(doc.size(), 4u);
    EXPECT_EQ(doc["status"]["generation"], 3);
    EXPECT_EQ(doc["listeners"][0]["requests"]["4xx"], 1);
    EXPECT_FALSE(doc["listeners"][1].contains("requests"));  // tcp
    EXPECT_EQ(doc["pools"][0]["servers_total"], 2);
    EXPECT_EQ(doc["pools"][0]["requests"]["4xx"], 1);
    // One 30 ms observation: halfway through the (25 ms, 50 ms] bucket.
    EXPECT_NEAR(doc["pools"][0]["latency_ms"]["p50"].get<double>(), 37.5, 1e-9);
    EXPECT_EQ(doc["servers"][0]["requests_by_code"]["4xx"], 1);
    EXPECT_EQ(doc["servers"][1]["last_check"], "HTTP 503");
    EXPECT_EQ(doc["servers"][0]["admin"], "ready");
}

}  // namespace
}  // namespace sluice::admin
