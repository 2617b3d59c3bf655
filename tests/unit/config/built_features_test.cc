// Every feature whose keys config.md lists is built: configs using them load without errors.
// (There is no feature gate any more: the last gated feature, HTTP/2, is built.)

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "unit/config/config_test_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using testing::loadOk;
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
Errors featureErrors(const std::string& listener_extra, const std::string& pool_extra) {
    return errorsOf(kListener + listener_extra + kPool + pool_extra);
}

TEST(BuiltFeatures, AcceptsListenerTlsNowBuilt) {
    // The loader accepts it; the certificate files are read by the TLS layer (tls::buildContexts).
    EXPECT_EQ(
        featureErrors("  [listener.tls]\n  certificates = [ { cert = \"c\", key = \"k\" } ]\n", ""),
        Errors{});
}

TEST(BuiltFeatures, AcceptsRoutesNowBuilt) {
    EXPECT_EQ(featureErrors("  [[listener.route]]\n  host = \"a.example\"\n  pool = \"app\"\n", ""),
              Errors{});
}

TEST(BuiltFeatures, AcceptsAcceptProxyProtocolNowBuilt) {
    EXPECT_EQ(featureErrors("accept_proxy_protocol = true\n", ""), Errors{});
}

TEST(BuiltFeatures, AcceptsAdminListen) {  // built (issue 14)
    EXPECT_EQ(errorsOf("[admin]\nlisten = \"127.0.0.1:9900\"\n" + kListener + kPool), Errors{});
}

TEST(BuiltFeatures, AcceptsEveryAlgorithmNowBuilt) {
    for (const char* algorithm : {"round_robin", "weighted_round_robin", "least_conn", "random",
                                  "power_of_two", "ewma", "ip_hash", "hash"}) {
        EXPECT_EQ(featureErrors("", std::string("algorithm = \"") + algorithm + "\"\n"), Errors{})
            << algorithm;
    }
}

TEST(BuiltFeatures, AcceptsMaxConnsPerServerNowBuilt) {
    EXPECT_EQ(featureErrors("", "max_conns_per_server = 10\n"), Errors{});
}

TEST(BuiltFeatures, AcceptsRetry5xxNowBuilt) {
    EXPECT_EQ(featureErrors("", "retry_5xx = true\n"), Errors{});
}

TEST(BuiltFeatures, AcceptsSendProxyProtocolNowBuilt) {
    EXPECT_EQ(featureErrors("", "send_proxy_protocol = \"v2\"\n"), Errors{});
    EXPECT_EQ(featureErrors("", "send_proxy_protocol = \"v1\"\n"), Errors{});
}

TEST(BuiltFeatures, AcceptsUpstreamTlsNowBuilt) {
    EXPECT_EQ(featureErrors("", "tls = true\n"), Errors{});
}

TEST(BuiltFeatures, AcceptsHealthCheckNowBuilt) {
    EXPECT_EQ(featureErrors("", "  [pool.health_check]\n  type = \"tcp\"\n"), Errors{});
}

TEST(BuiltFeatures, AcceptsPassiveHealthNowBuilt) {
    EXPECT_EQ(featureErrors("", "  [pool.passive_health]\n  max_fails = 5\n"), Errors{});
}

TEST(BuiltFeatures, AcceptsBackupServersNowBuilt) {
    EXPECT_EQ(
        featureErrors("", "  [[pool.server]]\n  address = \"127.0.0.1:1\"\n  backup = true\n"),
        Errors{});
}

TEST(BuiltFeatures, AcceptsServerMaxConnsNowBuilt) {
    EXPECT_EQ(
        featureErrors("", "  [[pool.server]]\n  address = \"127.0.0.1:1\"\n  max_conns = 3\n"),
        Errors{});
}

TEST(BuiltFeatures, AcceptsKeysAtTheirDefaults) {
    EXPECT_EQ(
        featureErrors("accept_proxy_protocol = false\n",
                      "algorithm = \"round_robin\"\nmax_conns_per_server = 0\nretry_5xx = false\n"
                      "send_proxy_protocol = \"\"\ntls = false\n"
                      "  [[pool.server]]\n  address = \"127.0.0.1:1\"\n  backup = false\n"
                      "  max_conns = 0\n"),
        Errors{});
    EXPECT_EQ(errorsOf("[admin]\nlisten = \"\"\n" + kListener + kPool), Errors{});
}

TEST(BuiltFeatures, AcceptsHttp2Keys) {
    EXPECT_EQ(featureErrors("http2 = true\nh2c = true\nhttp2_max_concurrent_streams = 8\n"
                            "http2_initial_window = \"1MiB\"\n",
                            ""),
              Errors{});
    const Config config = loadOk(kListener +
                                 "http2_max_concurrent_streams = 8\nhttp2_initial_window = "
                                 "\"1MiB\"\nh2c = true\n" +
                                 kPool);
    EXPECT_TRUE(config.listeners.at(0).h2c);
    EXPECT_EQ(config.listeners.at(0).http2_max_concurrent_streams, 8u);
    EXPECT_EQ(config.listeners.at(0).http2_initial_window, 1024u * 1024u);
}

TEST(BuiltFeatures, H2cNeedsHttp2) {
    const auto errors = featureErrors("http2 = false\nh2c = true\n", "");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("h2c"), std::string::npos) << errors[0];
}

const std::string kTls = "  [listener.tls]\n  certificates = [ { cert = \"c\", key = \"k\" } ]\n";

TEST(BuiltFeatures, TlsListenersOfferH2ByDefault) {
    // config.md: http2 = true offers "h2" by ALPN before "http/1.1".
    const Config on = loadOk(kListener + kTls + kPool);
    EXPECT_EQ(on.listeners.at(0).tls->alpn, (std::vector<std::string>{"h2", "http/1.1"}));
    const Config off = loadOk(kListener + "http2 = false\n" + kTls + kPool);
    EXPECT_EQ(off.listeners.at(0).tls->alpn, std::vector<std::string>{"http/1.1"});
    // A list written in the file is kept as written.
    const Config written = loadOk(kListener + kTls + "  alpn = [\"http/1.1\"]\n" + kPool);
    EXPECT_EQ(written.listeners.at(0).tls->alpn, std::vector<std::string>{"http/1.1"});
    const Config both = loadOk(kListener + kTls + "  alpn = [\"http/1.1\", \"h2\"]\n" + kPool);
    EXPECT_EQ(both.listeners.at(0).tls->alpn, (std::vector<std::string>{"http/1.1", "h2"}));
}

TEST(BuiltFeatures, H2InAlpnNeedsHttp2) {
    const auto errors = featureErrors("http2 = false\n" + kTls + "  alpn = [\"h2\"]\n", "");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("needs the listener's http2 = true"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace sluice::config
