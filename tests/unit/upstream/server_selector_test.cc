#include "upstream/server_selector.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sluice::upstream {
namespace {

struct Spec {
    std::string name;
    bool backup = false;
    unsigned max_conns = 0;
};

std::shared_ptr<const Pool> poolOf(const std::vector<Spec>& specs,
                                   config::PoolConfig settings = {}) {
    auto pool = std::make_shared<Pool>();
    pool->config = std::move(settings);
    pool->config.name = "app";
    for (const auto& spec : specs) {
        config::ServerConfig server;
        server.name = spec.name;
        server.backup = spec.backup;
        server.max_conns = spec.max_conns;
        pool->config.servers.push_back(server);
        pool->servers.push_back({server, std::make_shared<ServerState>()});
    }
    return pool;
}

// A request waiting for a slot: takes one when offered, or gives up when told to.
class Waiter : public SlotWaiter {
  public:
    Waiter(ServerSelector& selector, std::vector<std::string>* log, std::string name)
        : selector_(selector), log_(log), name_(std::move(name)) {}
    bool onSlotMaybeFree() override {
        const Selection s = selector_.acquire(TriedSet{}, "", uv_now(uv_default_loop()));
        if (s.kind != Selection::kSelected) {
            log_->push_back(name_ + " still waits");
            return false;
        }
        server = s.index;
        log_->push_back(name_ + " got " + selector_.pool().servers[s.index].config.name);
        return true;
    }
    void onQueueTimeout() override { log_->push_back(name_ + " timed out"); }
    int server = -1;

  private:
    ServerSelector& selector_;
    std::vector<std::string>* log_;
    std::string name_;
};

class ServerSelectorTest : public ::testing::Test {
  protected:
    ~ServerSelectorTest() override {
        selector_.reset();
        uv_run(loop_, UV_RUN_DEFAULT);  // the queue timer's close callback
    }

    ServerSelector& make(const std::vector<Spec>& specs, config::PoolConfig settings = {}) {
        pool_ = poolOf(specs, std::move(settings));
        selector_ = std::make_unique<ServerSelector>(loop_, pool_, 1);
        return *selector_;
    }
    ServerState& state(size_t i) { return *pool_->servers[i].state; }
    // The name picked now (its slot is held), or "full" / "none".
    std::string pick(const TriedSet& tried = {}) {
        const Selection s = selector_->acquire(tried, "", now_);
        if (s.kind == Selection::kFull) return "full";
        if (s.kind == Selection::kNone) return "none";
        return pool_->servers[static_cast<size_t>(s.index)].config.name;
    }
    int indexOf(const std::string& name) {
        for (size_t i = 0; i < pool_->servers.size(); ++i) {
            if (pool_->servers[i].config.name == name) return static_cast<int>(i);
        }
        return -1;
    }

    uv_loop_t* loop_ = uv_default_loop();
    uint64_t now_ = 1'000'000;
    std::shared_ptr<const Pool> pool_;
    std::unique_ptr<ServerSelector> selector_;
};

TEST_F(ServerSelectorTest, PicksAvailableServersAndHoldsASlotOnEach) {
    make({{"a"}, {"b"}, {"c"}});
    EXPECT_EQ(pick(), "a");
    EXPECT_EQ(pick(), "b");
    EXPECT_EQ(pick(), "c");
    EXPECT_EQ(pick(), "a");
    EXPECT_EQ(state(0).active.load(), 2u);
    EXPECT_EQ(state(0).requests.load(), 2u);
    selector_->release(0, now_);
    selector_->release(0, now_);
    EXPECT_EQ(state(0).active.load(), 0u);
    selector_->release(-1, now_);  // no server: nothing to give back
}

TEST_F(ServerSelectorTest, SkipsServersThatAreNotAvailable) {
    make({{"a"}, {"b"}, {"c"}, {"d"}});
    state(0).admin.store(AdminState::kDrain);
    state(1).admin.store(AdminState::kMaint);
    state(2).healthy.store(false);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pick(), "d");
    state(3).ejected_until_ms.store(now_ + 100);
    EXPECT_EQ(pick(), "none");
    now_ += 100;  // the ejection is over at its deadline
    EXPECT_EQ(pick(), "d");
}

TEST_F(ServerSelectorTest, ARetryNeverPicksAServerAlreadyTried) {
    make({{"a"}, {"b"}, {"c"}});
    TriedSet tried;
    tried.add(0);
    tried.add(2);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pick(tried), "b");
    tried.add(1);
    EXPECT_EQ(pick(tried), "none");
}

TEST_F(ServerSelectorTest, BackupsServeOnlyWhenNoPrimaryIsLeft) {
    make({{"a"}, {"b"}, {"z", true}});
    for (int i = 0; i < 4; ++i) EXPECT_NE(pick(), "z");
    state(0).healthy.store(false);
    EXPECT_EQ(pick(), "b");
    // Every available primary already tried for this request: on to the backups.
    TriedSet tried;
    tried.add(1);
    EXPECT_EQ(pick(tried), "z");
    state(1).admin.store(AdminState::kDrain);
    EXPECT_EQ(pick(), "z");
    state(2).admin.store(AdminState::kMaint);
    EXPECT_EQ(pick(), "none");
}

TEST_F(ServerSelectorTest, CapsHoldAcrossWorkersAndAFullPrimaryTierQueues) {
    config::PoolConfig settings;
    settings.max_conns_per_server = 1;
    make({{"a"}, {"b", false, 2}, {"z", true}}, settings);
    EXPECT_EQ(selector_->capOf(0), 1u);
    EXPECT_EQ(selector_->capOf(1), 2u);  // its own max_conns wins
    EXPECT_EQ(pick(), "a");
    EXPECT_EQ(pick(), "b");
    EXPECT_EQ(pick(), "b");
    EXPECT_EQ(pick(), "full");  // not the backup: caps queue rather than spill
    state(0).active.store(0);   // another worker's request on "a" ended
    EXPECT_EQ(pick(), "a");
}

TEST_F(ServerSelectorTest, QueuedRequestsGetFreedSlotsInOrder) {
    config::PoolConfig settings;
    settings.max_conns_per_server = 1;
    make({{"a"}, {"b"}}, settings);
    ASSERT_EQ(pick(), "a");
    ASSERT_EQ(pick(), "b");
    std::vector<std::string> log;
    Waiter first(*selector_, &log, "first"), second(*selector_, &log, "second"),
        third(*selector_, &log, "third");
    selector_->enqueue(first, now_);
    selector_->enqueue(second, now_);
    selector_->enqueue(third, now_);
    selector_->enqueue(third, now_);  // already queued: no second place
    EXPECT_EQ(selector_->queued(), 3u);
    EXPECT_EQ(pool_->queued.load(), 3);
    selector_->release(1, now_);
    EXPECT_EQ(log, (std::vector<std::string>{"first got b", "second still waits"}));
    EXPECT_FALSE(first.queued());
    EXPECT_TRUE(second.queued());
    EXPECT_EQ(selector_->queued(), 2u);
    // The next slot goes to the head again; the queue is then offered on until one waits.
    selector_->release(0, now_);
    EXPECT_EQ(log, (std::vector<std::string>{"first got b", "second still waits", "second got a",
                                             "third still waits"}));
    selector_->dequeue(third);  // e.g. its client went away
    EXPECT_EQ(selector_->queued(), 0u);
    EXPECT_EQ(pool_->queued.load(), 0);
}

TEST_F(ServerSelectorTest, QueuedRequestsTimeOut) {
    config::PoolConfig settings;
    settings.max_conns_per_server = 1;
    settings.queue_timeout = config::Duration(30);
    make({{"a"}}, settings);
    ASSERT_EQ(pick(), "a");
    std::vector<std::string> log;
    Waiter waiter(*selector_, &log, "w");
    uv_update_time(loop_);
    selector_->enqueue(waiter, uv_now(loop_));
    // The queue timer polls every kQueuePollMs; the loop runs until the queue is empty.
    uv_run(loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(log.back(), "w timed out");
    EXPECT_FALSE(waiter.queued());
    EXPECT_EQ(pool_->queued.load(), 0);
}

TEST_F(ServerSelectorTest, ASlotFreedByAnotherWorkerReachesTheQueue) {
    config::PoolConfig settings;
    settings.max_conns_per_server = 1;
    settings.queue_timeout = config::Duration(60'000);
    make({{"a"}}, settings);
    ASSERT_EQ(pick(), "a");
    std::vector<std::string> log;
    Waiter waiter(*selector_, &log, "w");
    uv_update_time(loop_);
    selector_->enqueue(waiter, uv_now(loop_));
    state(0).active.fetch_sub(1);   // released elsewhere: no release() call on this selector
    uv_run(loop_, UV_RUN_DEFAULT);  // returns once the waiter got it and the timer stopped
    EXPECT_EQ(log.back(), "w got a");
    EXPECT_EQ(waiter.server, 0);
}

TEST_F(ServerSelectorTest, ConsecutiveFailuresEjectButNeverTheLastServer) {
    config::PoolConfig settings;
    settings.passive_health = config::PassiveHealthConfig{2, config::Duration(5000)};
    make({{"a"}, {"b"}}, settings);
    selector_->reportFailure(0, now_, "connect refused");
    selector_->reportSuccess(0);  // a success in between starts the count again
    selector_->reportFailure(0, now_, "connect refused");
    EXPECT_EQ(state(0).ejected_until_ms.load(), 0u);
    selector_->reportFailure(0, now_, "connect refused");
    EXPECT_EQ(state(0).ejected_until_ms.load(), now_ + 5000);
    EXPECT_EQ(state(0).ejections.load(), 1u);
    EXPECT_EQ(state(0).failures.load(), 3u);
    EXPECT_EQ(pick(), "b");
    // "b" is now the last available server: it keeps serving whatever it does.
    for (int i = 0; i < 5; ++i) selector_->reportFailure(1, now_, "HTTP 502");
    EXPECT_EQ(state(1).ejected_until_ms.load(), 0u);
    EXPECT_EQ(state(1).failures.load(), 5u);
    EXPECT_EQ(pick(), "b");
}

TEST_F(ServerSelectorTest, WithoutPassiveHealthFailuresOnlyCount) {
    make({{"a"}, {"b"}});
    for (int i = 0; i < 10; ++i) selector_->reportFailure(0, now_, "HTTP 502");
    EXPECT_EQ(state(0).ejected_until_ms.load(), 0u);
    EXPECT_EQ(state(0).failures.load(), 10u);
}

TEST_F(ServerSelectorTest, RetriesAreBudgetedPerPool) {
    make({{"a"}, {"b"}});
    RetryBudget& budget = selector_->retryBudget();
    for (int i = 0; i < 10; ++i) budget.recordRequest(now_);
    // 20% of 10 requests plus the floor of 3.
    int allowed = 0;
    for (int i = 0; i < 10; ++i) allowed += budget.tryRetry(now_) ? 1 : 0;
    EXPECT_EQ(allowed, 5);
}

TEST_F(ServerSelectorTest, UsesCurrentWeights) {
    config::PoolConfig settings;
    settings.algorithm = config::Algorithm::kWeightedRoundRobin;
    make({{"a"}, {"b"}}, settings);
    state(0).weight.store(3);  // `set server app/a weight 3`
    std::map<std::string, int> picks;
    for (int i = 0; i < 8; ++i) {
        const std::string name = pick();
        ++picks[name];
        selector_->release(indexOf(name), now_);
    }
    EXPECT_EQ(picks["a"], 6);
    EXPECT_EQ(picks["b"], 2);
}

// Slow start with a fake clock: share of picks of server b over its ramp.
class SlowStartSelectorTest : public ServerSelectorTest {
  protected:
    void SetUp() override {
        config::PoolConfig settings;
        settings.algorithm = config::Algorithm::kWeightedRoundRobin;
        settings.slow_start = config::Duration{10'000};
        make({{"a"}, {"b"}}, settings);
    }
    // Picks of b out of 1000 at the current clock (each slot given back).
    int picksOfB() {
        int b = 0;
        for (int i = 0; i < 1000; ++i) {
            const Selection s = selector_->acquire(TriedSet{}, "", now_);
            b += s.index == 1;
            selector_->release(s.index, now_);
        }
        return b;
    }
};

TEST_F(SlowStartSelectorTest, ANewlyAvailableServerRampsUpOverSlowStart) {
    EXPECT_EQ(picksOfB(), 500);         // both present from the start: no ramp
    state(1).ramp_from_ms.store(now_);  // b just became available (added, or health up)
    EXPECT_EQ(picksOfB(), 48);          // 5%: weights 1000:50
    now_ += 2'500;
    EXPECT_EQ(picksOfB(), 200);  // 25%
    now_ += 2'500;
    EXPECT_EQ(picksOfB(), 333);  // 50%
    now_ += 5'000;
    EXPECT_EQ(picksOfB(), 500);  // full weight at the end of the ramp
}

TEST_F(SlowStartSelectorTest, EveryTransitionRestartsTheRamp) {
    state(1).ramp_from_ms.store(now_);
    now_ += 7'500;
    EXPECT_GT(picksOfB(), 400);
    // Ejected, and back when the ejection ends: ramps again from there.
    state(1).ejected_until_ms.store(now_ + 1'000);
    EXPECT_EQ(picksOfB(), 0);
    now_ += 1'000;
    EXPECT_NEAR(picksOfB(), 48, 3);  // smooth WRR carries a little credit over
    now_ += 20'000;
    EXPECT_EQ(picksOfB(), 500);
    // Back up after a failed check (the checker stamps the transition): again.
    state(1).ramp_from_ms.store(now_);
    EXPECT_NEAR(picksOfB(), 48, 3);
}

TEST_F(SlowStartSelectorTest, WithoutSlowStartANewServerTakesItsShareAtOnce) {
    config::PoolConfig settings;
    settings.algorithm = config::Algorithm::kWeightedRoundRobin;
    make({{"a"}, {"b"}}, settings);
    state(1).ramp_from_ms.store(now_);
    EXPECT_EQ(picksOfB(), 500);
}

}  // namespace
}  // namespace sluice::upstream

namespace sluice::upstream {
namespace {

TEST(TriedSetTest, RemembersIndexesBelowAndAbove64) {
    TriedSet tried;
    EXPECT_TRUE(tried.empty());
    for (size_t i : {0u, 1u, 63u, 64u, 65u, 200u}) tried.add(i);
    for (size_t i : {0u, 1u, 63u, 64u, 65u, 200u}) EXPECT_TRUE(tried.contains(i)) << i;
    for (size_t i : {2u, 62u, 66u, 199u, 201u, 5000u}) EXPECT_FALSE(tried.contains(i)) << i;
    EXPECT_FALSE(tried.empty());
    tried.clear();
    EXPECT_TRUE(tried.empty());
    EXPECT_FALSE(tried.contains(0));
    EXPECT_FALSE(tried.contains(64));
}

}  // namespace
}  // namespace sluice::upstream
