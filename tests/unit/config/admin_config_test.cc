// [admin] (config.md): listen and allow, their defaults and their FILE:LINE:COL errors.

#include <gtest/gtest.h>

#include "unit/config/config_test_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using testing::kListenerAndPool;
using testing::loadOk;

std::vector<std::string> texts(const std::vector<Network>& networks) {
    std::vector<std::string> out;
    for (const auto& n : networks) out.push_back(n.text);
    return out;
}

TEST(AdminConfig, AllowDefaultsToLoopbackWithOrWithoutTheTable) {
    const Config without = loadOk(kListenerAndPool);
    EXPECT_FALSE(without.admin.listen);
    EXPECT_EQ(texts(without.admin.allow), (std::vector<std::string>{"127.0.0.0/8", "::1/128"}));
    const Config with = loadOk("[admin]\nlisten = \"127.0.0.1:9900\"\n" + kListenerAndPool);
    ASSERT_TRUE(with.admin.listen);
    EXPECT_EQ(with.admin.listen->port, 9900);
    EXPECT_EQ(texts(with.admin.allow), (std::vector<std::string>{"127.0.0.0/8", "::1/128"}));
}

TEST(AdminConfig, ReadsAllow) {
    const Config c = loadOk(
        "[admin]\nlisten = \"127.0.0.1:9900\"\nallow = [\"10.0.0.0/8\", "
        "\"192.0.2.7\", \"2001:db8::/32\"]\n" +
        kListenerAndPool);
    EXPECT_EQ(texts(c.admin.allow),
              (std::vector<std::string>{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}));
    EXPECT_EQ(c.admin.allow[1].prefix_length, 32u);
    // An empty list is allowed: nobody may use the endpoint.
    EXPECT_TRUE(loadOk("[admin]\nallow = []\n" + kListenerAndPool).admin.allow.empty());
}

TEST(AdminConfig, BadAllowIsAnErrorAtItsPlace) {
    EXPECT_EQ(errorsOf("[admin]\nallow = \"10.0.0.0/8\"\n" + kListenerAndPool),
              (std::vector<std::string>{"t.toml:2:9: admin.allow: expected an array of networks "
                                        "like [\"10.0.0.0/8\"], got a string"}));
    const auto errors = errorsOf("[admin]\nallow = [\"10.0.0.1/8\", 7]\n" + kListenerAndPool);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].rfind("t.toml:2:10: admin.allow: invalid network \"10.0.0.1/8\"", 0), 0u)
        << errors[0];
    EXPECT_EQ(errors[1].rfind("t.toml:2:24: admin.allow: expected a network string", 0), 0u)
        << errors[1];
}

}  // namespace
}  // namespace sluice::config
