#include "config/config_diff.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "unit/config/config_test_support.h"

namespace sluice::config {
namespace {

using testing::loadOk;

const char* kBase = R"([[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"
[[pool]]
name = "app"
  [[pool.server]]
  name = "a"
  address = "127.0.0.1:9001"
  [[pool.server]]
  name = "b"
  address = "127.0.0.1:9002"
)";

TEST(ConfigDiff, SameConfigHasNoChanges) {
    EXPECT_TRUE(diffConfigs(loadOk(kBase), loadOk(kBase)).empty());
}

TEST(ConfigDiff, ReportsServersAddedRemovedAndChanged) {
    std::string after = R"([[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"
[[pool]]
name = "app"
  [[pool.server]]
  name = "a"
  address = "127.0.0.1:9001"
  weight = 5
  [[pool.server]]
  name = "c"
  address = "127.0.0.1:9003"
)";
    ConfigDiff d = diffConfigs(loadOk(kBase), loadOk(after));
    EXPECT_EQ(d.servers_added, std::vector<std::string>{"app/c"});
    EXPECT_EQ(d.servers_removed, std::vector<std::string>{"app/b"});
    EXPECT_EQ(d.servers_changed, std::vector<std::string>{"app/a"});
    EXPECT_TRUE(d.pools_changed.empty());
    EXPECT_TRUE(d.listeners_changed.empty());
}

TEST(ConfigDiff, ReportsPoolAndListenerChanges) {
    std::string after = std::string(kBase) + R"([[pool]]
name = "api"
[[listener]]
name = "api"
bind = "127.0.0.1:8081"
pool = "api"
)";
    // The algorithm of "app" changes too.
    after.replace(after.find("name = \"app\"\n  [[pool.server]]"), 13,
                  "name = \"app\"\nalgorithm = \"least_conn\"\n");
    ConfigDiff d = diffConfigs(loadOk(kBase), loadOk(after));
    EXPECT_EQ(d.pools_added, std::vector<std::string>{"api"});
    EXPECT_EQ(d.pools_changed, std::vector<std::string>{"app"});
    EXPECT_EQ(d.listeners_added, std::vector<std::string>{"api"});
}

}  // namespace
}  // namespace sluice::config
