// Features that parse but are not built yet are errors naming the feature; built ones pass.

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "unit/config/config_test_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using Errors = std::vector<std::string>;

const std::string kListener = R"([[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"
)";  // 4 lines; keys appended here are line 5

const std::string kPool = R"([[pool]]
name = "app"
)";

// kListener + listener_extra + kPool + pool_extra
Errors gateErrors(const std::string& listener_extra, const std::string& pool_extra) {
    return errorsOf(kListener + listener_extra + kPool + pool_extra);
}

TEST(FeatureGate, AcceptsListenerTlsNowBuilt) {
    // The loader accepts it; the certificate files are read by the TLS layer (tls::buildContexts).
    EXPECT_EQ(
        gateErrors("  [listener.tls]\n  certificates = [ { cert = \"c\", key = \"k\" } ]\n", ""),
        Errors{});
}

TEST(FeatureGate, AcceptsRoutesNowBuilt) {
    EXPECT_EQ(gateErrors("  [[listener.route]]\n  host = \"a.example\"\n  pool = \"app\"\n", ""),
              Errors{});
}

TEST(FeatureGate, AcceptsAcceptProxyProtocolNowBuilt) {
    EXPECT_EQ(gateErrors("accept_proxy_protocol = true\n", ""), Errors{});
}

TEST(FeatureGate, AcceptsAdminListen) {  // built (issue 14)
    EXPECT_EQ(errorsOf("[admin]\nlisten = \"127.0.0.1:9900\"\n" + kListener + kPool), Errors{});
}

TEST(FeatureGate, AcceptsEveryAlgorithmNowBuilt) {
    for (const char* algorithm : {"round_robin", "weighted_round_robin", "least_conn", "random",
                                  "power_of_two", "ewma", "ip_hash", "hash"}) {
        EXPECT_EQ(gateErrors("", std::string("algorithm = \"") + algorithm + "\"\n"), Errors{})
            << algorithm;
    }
}

TEST(FeatureGate, AcceptsMaxConnsPerServerNowBuilt) {
    EXPECT_EQ(gateErrors("", "max_conns_per_server = 10\n"), Errors{});
}

TEST(FeatureGate, AcceptsRetry5xxNowBuilt) {
    EXPECT_EQ(gateErrors("", "retry_5xx = true\n"), Errors{});
}

TEST(FeatureGate, AcceptsSendProxyProtocolNowBuilt) {
    EXPECT_EQ(gateErrors("", "send_proxy_protocol = \"v2\"\n"), Errors{});
    EXPECT_EQ(gateErrors("", "send_proxy_protocol = \"v1\"\n"), Errors{});
}

TEST(FeatureGate, AcceptsUpstreamTlsNowBuilt) {
    EXPECT_EQ(gateErrors("", "tls = true\n"), Errors{});
}

TEST(FeatureGate, AcceptsHealthCheckNowBuilt) {
    EXPECT_EQ(gateErrors("", "  [pool.health_check]\n  type = \"tcp\"\n"), Errors{});
}

TEST(FeatureGate, AcceptsPassiveHealthNowBuilt) {
    EXPECT_EQ(gateErrors("", "  [pool.passive_health]\n  max_fails = 5\n"), Errors{});
}

TEST(FeatureGate, AcceptsBackupServersNowBuilt) {
    EXPECT_EQ(gateErrors("", "  [[pool.server]]\n  address = \"127.0.0.1:1\"\n  backup = true\n"),
              Errors{});
}

TEST(FeatureGate, AcceptsServerMaxConnsNowBuilt) {
    EXPECT_EQ(gateErrors("", "  [[pool.server]]\n  address = \"127.0.0.1:1\"\n  max_conns = 3\n"),
              Errors{});
}

TEST(FeatureGate, AcceptsGatedKeysAtTheirDefaults) {
    EXPECT_EQ(
        gateErrors("accept_proxy_protocol = false\n",
                   "algorithm = \"round_robin\"\nmax_conns_per_server = 0\nretry_5xx = false\n"
                   "send_proxy_protocol = \"\"\ntls = false\n"
                   "  [[pool.server]]\n  address = \"127.0.0.1:1\"\n  backup = false\n"
                   "  max_conns = 0\n"),
        Errors{});
    EXPECT_EQ(errorsOf("[admin]\nlisten = \"\"\n" + kListener + kPool), Errors{});
}

TEST(FeatureGate, GatedKeysAreValidatedToo) {
    // A gated key with a bad value gets the validation error, not the gate's.
    const auto errors = gateErrors("", "send_proxy_protocol = \"v3\"\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].find("not available in this build"), std::string::npos) << errors[0];
}

TEST(FeatureGate, ReportsEachUseSeparately) {
    const auto errors = errorsOf(kListener + "h2c = true\n" +
                                 "[[listener]]\nname = \"b\"\nbind = \"127.0.0.1:8081\"\n"
                                 "pool = \"app\"\nh2c = true\n" +
                                 kPool);
    EXPECT_EQ(errors.size(), 2u);
}

}  // namespace
}  // namespace sluice::config
