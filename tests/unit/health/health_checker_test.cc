// HealthChecker's bookkeeping on update() and in maint, without sockets: probes only start from
// the check timer, so these tests either never run the loop or keep every server in maint.
#include "health/health_checker.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "routing/snapshot.h"

namespace sluice::health {
namespace {

config::ServerConfig server(const std::string& name) {
    config::ServerConfig s;
    s.name = name;
    s.address.text = "127.0.0.1:1";
    s.address.host = "127.0.0.1";
    s.address.port = 1;
    return s;
}

config::PoolConfig pool(const std::string& name, const std::vector<std::string>& servers,
                        bool checked) {
    config::PoolConfig p;
    p.name = name;
    if (checked) p.health_check.emplace();
    for (const auto& s : servers) p.servers.push_back(server(s));
    return p;
}

class HealthCheckerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(uv_loop_init(&loop_), 0);
        checker_ = std::make_unique<HealthChecker>(&loop_);
    }
    void TearDown() override {
        checker_.reset();
        uv_run(&loop_, UV_RUN_NOWAIT);  // close callbacks
        EXPECT_EQ(uv_loop_close(&loop_), 0);
    }

    std::shared_ptr<const routing::Snapshot> snapshot(std::vector<config::PoolConfig> pools) {
        auto config = std::make_shared<config::Config>();
        config->pools = std::move(pools);
        return routing::buildSnapshot(config, ++generation_, registry_);
    }

    static const upstream::ServerState& state(const routing::Snapshot& snap, size_t pool,
                                              size_t server) {
        return *snap.pools.at(pool)->servers.at(server).state;
    }

    uv_loop_t loop_{};
    routing::ServerStateRegistry registry_;
    uint64_t generation_ = 0;
    std::unique_ptr<HealthChecker> checker_;
};

TEST_F(HealthCheckerTest, ServersPresentAtStartBeginUp) {
    auto snap = snapshot({pool("app", {"a", "b"}, true)});
    checker_->update(snap, true);
    EXPECT_TRUE(state(*snap, 0, 0).healthy.load());
    EXPECT_TRUE(state(*snap, 0, 1).healthy.load());
    const auto all = checker_->all();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].server, "a");
    EXPECT_TRUE(all[0].up);
    EXPECT_EQ(all[0].checks, 0u);
    EXPECT_EQ(all[0].last_result, "");
    EXPECT_GT(all[0].last_change_unix_ms, 0);
    EXPECT_EQ(all[0].rise, 2u);
    EXPECT_EQ(all[0].fall, 3u);
}

TEST_F(HealthCheckerTest, ServersAddedByAReloadBeginDownKnownOnesKeepTheirState) {
    auto first = snapshot({pool("app", {"a", "b"}, true)});
    checker_->update(first, true);
    // Pretend the checker had found b down.
    first->pools[0]->servers[1].state->healthy.store(false);
    auto second = snapshot({pool("app", {"a", "b", "c"}, true)});
    // Known servers share their ServerState across generations.
    EXPECT_EQ(&state(*first, 0, 0), &state(*second, 0, 0));
    checker_->update(second, false);
    EXPECT_TRUE(state(*second, 0, 0).healthy.load());
    EXPECT_FALSE(state(*second, 0, 1).healthy.load());  // kept down
    EXPECT_FALSE(state(*second, 0, 2).healthy.load());  // new: down until its first pass
    ASSERT_TRUE(checker_->health("app", "c"));
    EXPECT_FALSE(checker_->health("app", "c")->up);
}

TEST_F(HealthCheckerTest, PoolsWithoutACheckAreAlwaysUpAndNotTracked) {
    auto first = snapshot({pool("app", {"a"}, true), pool("plain", {"p"}, false)});
    checker_->update(first, true);
    EXPECT_FALSE(checker_->health("plain", "p"));
    first->pools[0]->servers[0].state->healthy.store(false);
    // The check is removed by a reload: the server is up again at once.
    auto second = snapshot({pool("app", {"a"}, false), pool("plain", {"p", "q"}, false)});
    checker_->update(second, false);
    EXPECT_TRUE(state(*second, 0, 0).healthy.load());
    EXPECT_TRUE(state(*second, 1, 1).healthy.load());
    EXPECT_FALSE(checker_->health("app", "a"));
    EXPECT_TRUE(checker_->all().empty());
}

TEST_F(HealthCheckerTest, AServerAlreadyServingKeepsItsStateWhenItsPoolGainsACheck) {
    auto first = snapshot({pool("app", {"a"}, false)});
    checker_->update(first, true);
    auto second = snapshot({pool("app", {"a", "b"}, true)});
    checker_->update(second, false);
    EXPECT_TRUE(state(*second, 0, 0).healthy.load());   // was serving: checked at once, up
    EXPECT_FALSE(state(*second, 0, 1).healthy.load());  // new: down
}

TEST_F(HealthCheckerTest, RemovedServersAreDropped) {
    checker_->update(snapshot({pool("app", {"a", "b"}, true)}), true);
    checker_->update(snapshot({pool("app", {"b"}, true)}), false);
    EXPECT_FALSE(checker_->health("app", "a"));
    ASSERT_EQ(checker_->all().size(), 1u);
    EXPECT_EQ(checker_->all()[0].server, "b");
}

TEST_F(HealthCheckerTest, ServersInMaintAreNotChecked) {
    auto snap = snapshot({pool("app", {"a"}, true)});
    snap->pools[0]->servers[0].state->admin.store(upstream::AdminState::kMaint);
    snap->pools[0]->servers[0].state->healthy.store(false);
    checker_->update(snap, false);
    // Run the loop through several intervals of a fast check: no probe may start (there is no
    // socket activity at all), and the state stays as it was.
    auto fast = pool("app", {"a"}, true);
    fast.health_check->interval = config::Duration{5};
    checker_->update(snapshot({fast}), false);
    uv_timer_t stop_after;
    uv_timer_init(&loop_, &stop_after);
    uv_timer_start(
        &stop_after, [](uv_timer_t* t) { uv_stop(t->loop); }, 60, 0);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_after), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // finish closing the stack handle
    const auto health = checker_->health("app", "a");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->checks, 0u);
    EXPECT_FALSE(health->check_running);
    EXPECT_FALSE(state(*snap, 0, 0).healthy.load());
}

TEST_F(HealthCheckerTest, StopClosesEverythingAndIgnoresLaterUpdates) {
    checker_->update(snapshot({pool("app", {"a"}, true)}), true);
    checker_->stop();
    EXPECT_TRUE(checker_->all().empty());
    checker_->update(snapshot({pool("app", {"a", "b"}, true)}), false);
    EXPECT_TRUE(checker_->all().empty());
    // The loop runs dry: no handle of the checker is left active.
    EXPECT_EQ(uv_run(&loop_, UV_RUN_NOWAIT), 0);
}

}  // namespace
}  // namespace sluice::health
