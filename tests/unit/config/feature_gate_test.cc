// Features that parse but are not built yet are errors naming the feature.

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

TEST(FeatureGate, RejectsListenerTls) {
    EXPECT_EQ(
        gateErrors("  [listener.tls]\n  certificates = [ { cert = \"c\", key = \"k\" } ]\n", ""),
        Errors{"t.toml:5:3: [listener.tls]: TLS termination is not available in this build "
               "yet"});
}

TEST(FeatureGate, RejectsRoutes) {
    EXPECT_EQ(gateErrors("  [[listener.route]]\n  host = \"a.example\"\n  pool = \"app\"\n", ""),
              Errors{"t.toml:5:3: [[listener.route]]: host/path routing is not available in this "
                     "build yet"});
}

TEST(FeatureGate, RejectsAcceptProxyProtocol) {
    EXPECT_EQ(gateErrors("accept_proxy_protocol = true\n", ""),
              Errors{"t.toml:5:25: listener.accept_proxy_protocol = true: accepting the PROXY "
                     "protocol is not available in this build yet"});
}

TEST(FeatureGate, RejectsAdminListen) {
    EXPECT_EQ(errorsOf("[admin]\nlisten = \"127.0.0.1:9900\"\n" + kListener + kPool),
              Errors{"t.toml:2:10: admin.listen = \"127.0.0.1:9900\": the admin endpoint is not "
                     "available in this build yet"});
}

TEST(FeatureGate, RejectsAlgorithmsOtherThanRoundRobin) {
    EXPECT_EQ(gateErrors("", "algorithm = \"least_conn\"\n"),
              Errors{"t.toml:7:13: pool.algorithm = \"least_conn\": load balancing algorithm "
                     "\"least_conn\" is not available in this build yet"});
}

TEST(FeatureGate, RejectsMaxConnsPerServer) {
    EXPECT_EQ(gateErrors("", "max_conns_per_server = 10\n"),
              Errors{"t.toml:7:24: pool.max_conns_per_server = 10: the per-server connection "
                     "limit is not available in this build yet"});
}

TEST(FeatureGate, RejectsRetry5xx) {
    EXPECT_EQ(gateErrors("", "retry_5xx = true\n"),
              Errors{"t.toml:7:13: pool.retry_5xx = true: retrying 5xx responses is not "
                     "available in this build yet"});
}

TEST(FeatureGate, RejectsSendProxyProtocol) {
    EXPECT_EQ(gateErrors("", "send_proxy_protocol = \"v2\"\n"),
              Errors{"t.toml:7:23: pool.send_proxy_protocol = \"v2\": sending the PROXY "
                     "protocol is not available in this build yet"});
}

TEST(FeatureGate, RejectsUpstreamTls) {
    EXPECT_EQ(gateErrors("", "tls = true\n"),
              Errors{"t.toml:7:7: pool.tls = true: TLS to servers is not available in this "
                     "build yet"});
}

TEST(FeatureGate, RejectsHealthCheck) {
    EXPECT_EQ(gateErrors("", "  [pool.health_check]\n  type = \"tcp\"\n"),
              Errors{"t.toml:7:3: [pool.health_check]: active health checking is not available "
                     "in this build yet"});
}

TEST(FeatureGate, RejectsPassiveHealth) {
    EXPECT_EQ(gateErrors("", "  [pool.passive_health]\n  max_fails = 5\n"),
              Errors{"t.toml:7:3: [pool.passive_health]: passive health checking is not "
                     "available in this build yet"});
}

TEST(FeatureGate, RejectsBackupServers) {
    EXPECT_EQ(gateErrors("", "  [[pool.server]]\n  address = \"127.0.0.1:1\"\n  backup = true\n"),
              Errors{"t.toml:9:12: pool.server.backup = true: support for backup servers is not "
                     "available in this build yet"});
}

TEST(FeatureGate, RejectsServerMaxConns) {
    EXPECT_EQ(gateErrors("", "  [[pool.server]]\n  address = \"127.0.0.1:1\"\n  max_conns = 3\n"),
              Errors{"t.toml:9:15: pool.server.max_conns = 3: the per-server connection limit "
                     "is not available in this build yet"});
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

TEST(FeatureGate, ValidatesGatedTablesContentsToo) {
    const auto errors = gateErrors("", "  [pool.health_check]\n  rise = 0\n  tpye = \"tcp\"\n");
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_NE(errors[0].find("[pool.health_check]: active health checking"), std::string::npos);
    EXPECT_EQ(errors[1], "t.toml:8:10: pool.health_check.rise: 0 is out of range 1..1000");
    EXPECT_EQ(errors[2],
              "t.toml:9:3: unknown key \"tpye\" in [pool.health_check]; did you mean "
              "\"type\"?");
}

TEST(FeatureGate, ReportsEachUseSeparately) {
    const auto errors =
        errorsOf(kListener + kPool + "tls = true\n" + "[[pool]]\nname = \"b\"\ntls = true\n");
    EXPECT_EQ(errors.size(), 2u);
}

}  // namespace
}  // namespace sluice::config
