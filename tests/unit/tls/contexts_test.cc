#include "tls/contexts.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "tls/ticket_keys.h"
#include "unit/tls/test_certs.h"

namespace sluice::tls {
namespace {

using testing::contains;
using testing::startsWith;
using testing::TestPki;

config::ListenerConfig tlsListener(const std::string& name, const std::string& cert,
                                   const std::string& key, config::SourcePos pos) {
    config::ListenerConfig listener;
    listener.name = name;
    listener.tls.emplace();
    listener.tls->certificates.push_back({cert, key, pos});
    return listener;
}

config::PoolConfig tlsPool(const std::string& name, bool verify, const std::string& ca,
                           config::SourcePos pos) {
    config::PoolConfig pool;
    pool.name = name;
    pool.tls = true;
    pool.tls_verify = verify;
    pool.tls_ca = ca;
    pool.tls_pos = pos;
    return pool;
}

TEST(BuildContexts, BuildsTlsListenersAndPoolsOnly) {
    TestPki pki;
    const auto site = pki.leaf("site", "site.test", "DNS:site.test");
    config::Config config;
    config.path = "/etc/sluice/sluice.toml";
    config.listeners.emplace_back();  // plain
    config.listeners.push_back(tlsListener("https", site.cert, site.key, {4, 3}));
    config.pools.push_back(tlsPool("secure", true, pki.caFile(), {10, 1}));
    config.pools.emplace_back();  // plain
    config.pools.push_back(tlsPool("insecure", false, "", {20, 1}));

    auto result = buildContexts(config, std::make_shared<TicketKeys>());
    ASSERT_TRUE(std::holds_alternative<Contexts>(result))
        << std::get<std::vector<std::string>>(result)[0];
    const Contexts& contexts = std::get<Contexts>(result);
    ASSERT_EQ(contexts.listeners.size(), 2u);
    EXPECT_EQ(contexts.listeners[0], nullptr);
    ASSERT_NE(contexts.listeners[1], nullptr);
    EXPECT_EQ(contexts.listeners[1]->namesOf(0), std::vector<std::string>{"site.test"});
    ASSERT_EQ(contexts.pools.size(), 3u);
    ASSERT_NE(contexts.pools[0], nullptr);
    EXPECT_TRUE(contexts.pools[0]->verify());
    EXPECT_EQ(contexts.pools[1], nullptr);
    ASSERT_NE(contexts.pools[2], nullptr);
    EXPECT_FALSE(contexts.pools[2]->verify());
}

TEST(BuildContexts, CollectsEveryError) {
    TestPki pki;
    const auto site = pki.leaf("site", "site.test", "DNS:site.test");
    const auto other = pki.leaf("other", "other.test", "DNS:other.test");
    const std::string garbage = pki.writeFile("garbage.pem", "garbage\n");
    config::Config config;
    config.path = "conf.toml";
    config.listeners.push_back(
        tlsListener("bad-cert", pki.path("missing.pem"), site.key, {12, 18}));
    config.listeners.push_back(tlsListener("good", site.cert, site.key, {20, 5}));
    config.listeners.push_back(tlsListener("bad-key", site.cert, other.key, {30, 7}));
    config.pools.push_back(tlsPool("bad-ca", true, garbage, {40, 9}));
    config.pools.push_back(tlsPool("good", true, pki.caFile(), {50, 9}));

    auto result = buildContexts(config, std::make_shared<TicketKeys>());
    ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(result));
    const auto& errors = std::get<std::vector<std::string>>(result);
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_PRED2(startsWith, errors[0],
                 "conf.toml:12:18: certificate " + pki.path("missing.pem") + ": cannot load: ");
    EXPECT_PRED2(contains, errors[0], "No such file or directory");
    EXPECT_EQ(errors[1],
              "conf.toml:30:7: key " + other.key + " does not match certificate " + site.cert);
    EXPECT_PRED2(startsWith, errors[2], "conf.toml:40:9: CA file " + garbage + ": cannot load: ");
}

TEST(BuildContexts, UnknownPositionIsJustTheFile) {
    TestPki pki;
    config::Config config;
    config.path = "conf.toml";
    config.pools.push_back(tlsPool("bad-ca", true, pki.path("none.pem"), {}));
    auto result = buildContexts(config, std::make_shared<TicketKeys>());
    ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(result));
    EXPECT_PRED2(startsWith, std::get<std::vector<std::string>>(result)[0],
                 "conf.toml: CA file " + pki.path("none.pem"));
}

}  // namespace
}  // namespace sluice::tls
