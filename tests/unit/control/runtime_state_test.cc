#include "control/runtime_state.h"

#include <gtest/gtest.h>

#include "fake_process.h"

namespace sluice::control {
namespace {

using testing::loadOk;

const std::string kPoolsFile = R"([[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"

[[pool]]
name = "app"
  [[pool.server]]
  name = "app1"
  address = "127.0.0.1:8001"
  [[pool.server]]
  name = "app2"
  address = "127.0.0.1:8002"
  weight = 3

[[pool]]
name = "api"
  [[pool.server]]
  name = "api1"
  address = "127.0.0.1:9001"
)";

ServerOverride added(std::string pool, std::string name, std::string address) {
    ServerOverride o;
    o.pool = std::move(pool);
    o.name = std::move(name);
    o.added = true;
    o.address = std::move(address);
    return o;
}

ServerOverride tuned(std::string pool, std::string name, std::optional<upstream::AdminState> state,
                     std::optional<unsigned> weight) {
    ServerOverride o;
    o.pool = std::move(pool);
    o.name = std::move(name);
    o.state = state;
    o.weight = weight;
    return o;
}

std::vector<std::string> namesIn(const config::Config& config, const std::string& pool) {
    std::vector<std::string> names;
    for (const auto& s : config.findPool(pool)->servers) names.push_back(s.name);
    return names;
}

TEST(Apply, WithoutOverridesIsTheFile) {
    const config::Config file = loadOk(kPoolsFile);
    const Applied applied = apply(file, {});
    EXPECT_EQ(namesIn(*applied.config, "app"), (std::vector<std::string>{"app1", "app2"}));
    EXPECT_EQ(namesIn(*applied.config, "api"), (std::vector<std::string>{"api1"}));
    EXPECT_TRUE(applied.notes.empty());
    EXPECT_EQ(applied.overrides, RuntimeState{});
}

TEST(Apply, AppendsRuntimeAddedServersToTheirPoolInOrder) {
    const config::Config file = loadOk(kPoolsFile);
    RuntimeState overrides;
    overrides.servers.push_back(added("app", "app9", "127.0.0.1:8009"));
    ServerOverride backup = added("app", "app8", "[::1]:8008");
    backup.backup = true;
    backup.weight = 7;
    overrides.servers.push_back(backup);
    const Applied applied = apply(file, overrides);
    ASSERT_EQ(namesIn(*applied.config, "app"),
              (std::vector<std::string>{"app1", "app2", "app9", "app8"}));
    const auto& servers = applied.config->findPool("app")->servers;
    EXPECT_EQ(servers[2].address.text, "127.0.0.1:8009");
    EXPECT_EQ(servers[2].address.port, 8009);
    EXPECT_EQ(servers[2].weight, 1u);
    EXPECT_FALSE(servers[2].backup);
    EXPECT_EQ(servers[3].address.host, "::1");
    EXPECT_EQ(servers[3].weight, 7u);
    EXPECT_TRUE(servers[3].backup);
    EXPECT_EQ(applied.overrides, overrides);
    EXPECT_TRUE(applied.notes.empty());
    // Pure: the file is not touched.
    EXPECT_EQ(namesIn(file, "app"), (std::vector<std::string>{"app1", "app2"}));
}

TEST(Apply, LeavesOutDeletedFileServers) {
    RuntimeState overrides;
    overrides.deleted.insert({"app", "app1"});
    overrides.deleted.insert({"api", "nope"});
    const Applied applied = apply(loadOk(kPoolsFile), overrides);
    EXPECT_EQ(namesIn(*applied.config, "app"), (std::vector<std::string>{"app2"}));
    EXPECT_EQ(namesIn(*applied.config, "api"), (std::vector<std::string>{"api1"}));
    EXPECT_EQ(applied.overrides.deleted, overrides.deleted);
}

TEST(Apply, KeepsWeightsAndStatesAsOverridesWithoutChangingTheConfig) {
    RuntimeState overrides;
    overrides.servers.push_back(tuned("app", "app2", upstream::AdminState::kDrain, 9));
    overrides.servers.push_back(tuned("app", "gone", upstream::AdminState::kMaint, std::nullopt));
    const Applied applied = apply(loadOk(kPoolsFile), overrides);
    EXPECT_EQ(applied.config->findPool("app")->servers[1].weight, 3u);  // the file's
    // Kept, the one of a server that does not exist too: it applies if the server comes back.
    EXPECT_EQ(applied.overrides, overrides);
    EXPECT_TRUE(applied.notes.empty());
}

TEST(Apply, TheFileWinsOverARuntimeAddedServerOfTheSameName) {
    RuntimeState overrides;
    overrides.servers.push_back(added("app", "app2", "127.0.0.1:8999"));
    ServerOverride weighted = added("api", "api1", "127.0.0.1:9999");
    weighted.weight = 4;
    overrides.servers.push_back(weighted);
    const Applied applied = apply(loadOk(kPoolsFile), overrides);
    EXPECT_EQ(namesIn(*applied.config, "app"), (std::vector<std::string>{"app1", "app2"}));
    EXPECT_EQ(applied.config->findPool("app")->servers[1].address.text, "127.0.0.1:8002");
    EXPECT_EQ(applied.config->findPool("api")->servers[0].address.text, "127.0.0.1:9001");
    EXPECT_EQ(applied.notes,
              (std::vector<std::string>{
                  "server app/app2 is now defined by the config file; its runtime addition is "
                  "dropped",
                  "server api/api1 is now defined by the config file; its runtime addition is "
                  "dropped"}));
    // app/app2 had nothing else: gone. api/api1 keeps its weight as a plain override.
    ASSERT_EQ(applied.overrides.servers.size(), 1u);
    EXPECT_EQ(applied.overrides.servers[0], tuned("api", "api1", std::nullopt, 4));
}

TEST(Apply, DropsRuntimeAddedServersOfAPoolThatIsGone) {
    RuntimeState overrides;
    ServerOverride o = added("old", "x1", "127.0.0.1:7001");
    o.weight = 2;
    overrides.servers.push_back(o);
    overrides.servers.push_back(tuned("old", "x2", upstream::AdminState::kDrain, std::nullopt));
    const Applied applied = apply(loadOk(kPoolsFile), overrides);
    EXPECT_EQ(
        applied.notes,
        (std::vector<std::string>{"server old/x1: pool is gone; runtime-added server dropped"}));
    ASSERT_EQ(applied.overrides.servers.size(), 1u);
    EXPECT_EQ(applied.overrides.servers[0].name, "x2");  // not added: kept
    EXPECT_EQ(applied.config->pools.size(), 2u);
}

TEST(Apply, LeavesOutAnAddressThatDoesNotResolveWithANote) {
    RuntimeState overrides;
    overrides.servers.push_back(added("app", "app9", "backend.invalid:80"));
    const auto fails = [](const std::string&, config::Address*, std::string* error) {
        *error = "no such host";
        return false;
    };
    const Applied applied = apply(loadOk(kPoolsFile), overrides, fails);
    EXPECT_EQ(namesIn(*applied.config, "app"), (std::vector<std::string>{"app1", "app2"}));
    EXPECT_EQ(applied.notes,
              (std::vector<std::string>{"server app/app9: backend.invalid:80: no such host"}));
    EXPECT_EQ(applied.overrides, overrides);  // kept: it may resolve at the next reload
}

TEST(ApplyToServers, StoresOverriddenStatesAndWeightsAndResetsTheRest) {
    routing::ServerStateRegistry registry;
    const auto snapshot =
        routing::buildSnapshot(std::make_shared<config::Config>(loadOk(kPoolsFile)), 1, registry);
    const auto& app = snapshot->pools[0]->servers;
    const auto& api = snapshot->pools[1]->servers;
    app[0].state->admin.store(upstream::AdminState::kMaint);
    app[1].state->weight.store(100);
    RuntimeState overrides;
    overrides.servers.push_back(tuned("api", "api1", upstream::AdminState::kDrain, 5));
    applyToServers(*snapshot, overrides);
    EXPECT_EQ(app[0].state->admin.load(), upstream::AdminState::kReady);
    EXPECT_EQ(app[0].state->weight.load(), 1u);
    EXPECT_EQ(app[1].state->weight.load(), 3u);
    EXPECT_EQ(api[0].state->admin.load(), upstream::AdminState::kDrain);
    EXPECT_EQ(api[0].state->weight.load(), 5u);
}

TEST(ApplyToServers, BackToReadyStartsSlowStartAndLeavingServersDrain) {
    routing::ServerStateRegistry registry;
    auto config = std::make_shared<config::Config>(loadOk(kPoolsFile));
    config->pools[0].servers[1].leaving = true;  // discovered, gone from DNS
    const auto snapshot = routing::buildSnapshot(config, 1, registry);
    const auto& app = snapshot->pools[0]->servers;
    RuntimeState overrides;
    overrides.servers.push_back(tuned("app", "app1", upstream::AdminState::kMaint, 1));
    applyToServers(*snapshot, overrides);
    EXPECT_EQ(app[0].state->ramp_from_ms.load(), 0u);  // ready -> maint: no ramp
    EXPECT_EQ(app[1].state->admin.load(), upstream::AdminState::kDrain);
    overrides.servers.clear();
    applyToServers(*snapshot, overrides);
    EXPECT_EQ(app[0].state->admin.load(), upstream::AdminState::kReady);
    EXPECT_GT(app[0].state->ramp_from_ms.load(), 0u);  // maint -> ready: ramps from now
    EXPECT_EQ(app[1].state->admin.load(), upstream::AdminState::kDrain);  // still leaving
    const uint64_t stamp = app[0].state->ramp_from_ms.load();
    applyToServers(*snapshot, overrides);  // ready -> ready: the ramp goes on
    EXPECT_EQ(app[0].state->ramp_from_ms.load(), stamp);
}

TEST(AdminStateNames, OneTableBothWays) {
    EXPECT_EQ(nameOf(upstream::AdminState::kReady), "ready");
    EXPECT_EQ(nameOf(upstream::AdminState::kDrain), "drain");
    EXPECT_EQ(nameOf(upstream::AdminState::kMaint), "maint");
    for (const auto& entry : upstream::kAdminStateNames) {
        EXPECT_EQ(parseName<upstream::AdminState>(entry.name), entry.value);
    }
    EXPECT_EQ(parseName<upstream::AdminState>("Drain"), std::nullopt);
    EXPECT_EQ(parseName<upstream::AdminState>("up"), std::nullopt);
}

}  // namespace
}  // namespace sluice::control
