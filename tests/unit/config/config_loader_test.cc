// Loading: defaults, a full round trip, the shipped configs, syntax errors, error collection.

#include "config/config_loader.h"

#include <gtest/gtest.h>

#include <sstream>

#include "unit/config/config_test_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using testing::hasErrorContaining;
using testing::kListenerAndPool;
using testing::loadOk;
using testing::sourceRoot;

TEST(ConfigLoader, AppliesDefaultsWhenKeysAreAbsent) {
    const Config config = loadOk(kListenerAndPool);
    EXPECT_EQ(config.path, "t.toml");
    EXPECT_EQ(config.global.workers, 0u);
    EXPECT_EQ(config.global.max_connections, 65536u);
    EXPECT_EQ(config.global.shutdown_timeout, Duration{30000});
    EXPECT_EQ(config.global.control_socket, "/run/sluice/control.sock");
    EXPECT_EQ(config.global.control_socket_mode, 0660u);
    EXPECT_EQ(config.global.state_file, "/var/lib/sluice/state.json");
    EXPECT_EQ(config.log.level, LogLevel::kInfo);
    EXPECT_EQ(config.log.error_log, "stderr");
    EXPECT_EQ(config.log.access_log, "stderr");
    EXPECT_EQ(config.log.access_log_format, AccessLogFormat::kCombined);
    EXPECT_FALSE(config.admin.listen);

    ASSERT_EQ(config.listeners.size(), 1u);
    const ListenerConfig& l = config.listeners[0];
    EXPECT_EQ(l.mode, ListenerMode::kHttp);
    EXPECT_EQ(l.idle_timeout, Duration{60000});
    EXPECT_EQ(l.client_header_timeout, Duration{10000});
    EXPECT_EQ(l.client_body_timeout, Duration{60000});
    EXPECT_EQ(l.max_header_bytes, 32u * 1024);
    EXPECT_EQ(l.max_headers, 100u);
    EXPECT_EQ(l.max_body_bytes, 0u);
    EXPECT_TRUE(l.forwarded_headers);
    EXPECT_EQ(l.request_id_header, "X-Request-ID");
    EXPECT_FALSE(l.accept_proxy_protocol);
    EXPECT_FALSE(l.tls);
    EXPECT_TRUE(l.routes.empty());

    ASSERT_EQ(config.pools.size(), 1u);
    const PoolConfig& p = config.pools[0];
    EXPECT_EQ(p.algorithm, Algorithm::kRoundRobin);
    EXPECT_EQ(p.hash_key.kind, HashKeyKind::kClientIp);
    EXPECT_EQ(p.connect_timeout, Duration{3000});
    EXPECT_EQ(p.response_timeout, Duration{60000});
    EXPECT_EQ(p.idle_timeout, Duration{20000});
    EXPECT_EQ(p.keepalive, 32u);
    EXPECT_EQ(p.max_conns_per_server, 0u);
    EXPECT_EQ(p.queue_timeout, Duration{10000});
    EXPECT_EQ(p.retries, 2u);
    EXPECT_FALSE(p.retry_5xx);
    EXPECT_EQ(p.send_proxy_protocol, ProxyProtocol::kNone);
    EXPECT_FALSE(p.tls);
    EXPECT_TRUE(p.tls_verify);
    EXPECT_EQ(p.tls_ca, "");
    EXPECT_FALSE(p.health_check);
    EXPECT_FALSE(p.passive_health);
    ASSERT_EQ(p.servers.size(), 1u);
    EXPECT_EQ(p.servers[0].name, "127.0.0.1:8001");  // defaults to the address text
    EXPECT_EQ(p.servers[0].weight, 1u);
    EXPECT_FALSE(p.servers[0].backup);
    EXPECT_EQ(p.servers[0].max_conns, 0u);
}

TEST(ConfigLoader, FullConfigLandsInTheRightFields) {
    const Config config = loadOk(R"(
[global]
workers = 4
max_connections = 1000
shutdown_timeout = "5s"
user = "sluice"
group = "nogroup"
control_socket = "/tmp/s.sock"
control_socket_mode = "0600"
state_file = "/tmp/state.json"

[log]
level = "debug"
error_log = "/var/log/sluice/error.log"
access_log = "off"
access_log_format = "json"

[admin]
listen = ""

[[listener]]
name = "edge"
bind = "[::1]:8443"
mode = "http"
pool = "app"
idle_timeout = "90s"
client_header_timeout = "250ms"
client_body_timeout = "2m"
max_header_bytes = 16384
max_headers = 50
max_body_bytes = "10MiB"
forwarded_headers = false
request_id_header = ""
accept_proxy_protocol = false

[[listener]]
name = "pg"
bind = "127.0.0.1:15432"
mode = "tcp"
pool = "db"

[[pool]]
name = "app"
algorithm = "round_robin"
hash_key = "cookie:sid"
connect_timeout = "1s"
response_timeout = "30s"
idle_timeout = "5s"
keepalive = 8
max_conns_per_server = 0
queue_timeout = "1s"
retries = 0
retry_5xx = false
send_proxy_protocol = ""
tls = false
tls_verify = false
tls_ca = "/etc/ssl/ca.pem"

  [[pool.server]]
  name = "a"
  address = "127.0.0.1:8001"
  weight = 5

  [[pool.server]]
  address = "localhost:8002"

[[pool]]
name = "db"
  [[pool.server]]
  address = "127.0.0.1:5432"
)");
    EXPECT_EQ(config.global.workers, 4u);
    EXPECT_EQ(config.global.max_connections, 1000u);
    EXPECT_EQ(config.global.shutdown_timeout, Duration{5000});
    EXPECT_EQ(config.global.user, "sluice");
    EXPECT_EQ(config.global.group, "nogroup");
    EXPECT_EQ(config.global.control_socket, "/tmp/s.sock");
    EXPECT_EQ(config.global.control_socket_mode, 0600u);
    EXPECT_EQ(config.global.state_file, "/tmp/state.json");
    EXPECT_EQ(config.log.level, LogLevel::kDebug);
    EXPECT_EQ(config.log.error_log, "/var/log/sluice/error.log");
    EXPECT_EQ(config.log.access_log, "off");
    EXPECT_EQ(config.log.access_log_format, AccessLogFormat::kJson);
    EXPECT_FALSE(config.admin.listen);

    ASSERT_EQ(config.listeners.size(), 2u);
    const ListenerConfig& edge = config.listeners[0];
    EXPECT_EQ(edge.name, "edge");
    EXPECT_EQ(edge.bind.host, "::1");
    EXPECT_EQ(edge.bind.port, 8443);
    EXPECT_EQ(edge.bind.sockaddr.ss_family, AF_INET6);
    EXPECT_EQ(edge.pool, "app");
    EXPECT_EQ(edge.idle_timeout, Duration{90000});
    EXPECT_EQ(edge.client_header_timeout, Duration{250});
    EXPECT_EQ(edge.client_body_timeout, Duration{120000});
    EXPECT_EQ(edge.max_header_bytes, 16384u);
    EXPECT_EQ(edge.max_headers, 50u);
    EXPECT_EQ(edge.max_body_bytes, 10u * 1024 * 1024);
    EXPECT_FALSE(edge.forwarded_headers);
    EXPECT_EQ(edge.request_id_header, "");
    const ListenerConfig& pg = config.listeners[1];
    EXPECT_EQ(pg.mode, ListenerMode::kTcp);
    EXPECT_EQ(pg.pool, "db");
    EXPECT_EQ(pg.bind.sockaddr.ss_family, AF_INET);

    ASSERT_EQ(config.pools.size(), 2u);
    const PoolConfig& app = config.pools[0];
    EXPECT_EQ(app.hash_key.kind, HashKeyKind::kCookie);
    EXPECT_EQ(app.hash_key.name, "sid");
    EXPECT_EQ(app.connect_timeout, Duration{1000});
    EXPECT_EQ(app.response_timeout, Duration{30000});
    EXPECT_EQ(app.idle_timeout, Duration{5000});
    EXPECT_EQ(app.keepalive, 8u);
    EXPECT_EQ(app.queue_timeout, Duration{1000});
    EXPECT_EQ(app.retries, 0u);
    EXPECT_FALSE(app.tls_verify);
    EXPECT_EQ(app.tls_ca, "/etc/ssl/ca.pem");
    ASSERT_EQ(app.servers.size(), 2u);
    EXPECT_EQ(app.servers[0].name, "a");
    EXPECT_EQ(app.servers[0].address.port, 8001);
    EXPECT_EQ(app.servers[0].weight, 5u);
    EXPECT_EQ(app.servers[1].name, "localhost:8002");
    EXPECT_GT(app.servers[1].address.sockaddr_len, 0u);

    EXPECT_EQ(config.findPool("db"), &config.pools[1]);
    EXPECT_EQ(config.findPool("nope"), nullptr);
    EXPECT_EQ(config.serverCount(), 3u);
}

TEST(ConfigLoader, RecordsWhereTlsFilesAreNamed) {
    // TLS files are read after loading; their errors point back at the entry in the file.
    const size_t pool_at = kListenerAndPool.find("[[pool]]");
    std::string pool = kListenerAndPool.substr(pool_at);
    pool.insert(pool.find("\n\n") + 1, "tls = true\n");
    const Config config = loadOk(
        kListenerAndPool.substr(0, pool_at) + "  [listener.tls]\n" +
        "  certificates = [ { cert = \"c\", key = \"k\" } ]\n  min_version = \"1.3\"\n" + pool);
    ASSERT_TRUE(config.listeners.size() == 1 && config.pools.size() == 1);
    ASSERT_TRUE(config.listeners[0].tls);
    const TlsCertificate& cert = config.listeners[0].tls->certificates.at(0);
    EXPECT_EQ(cert.cert, "c");
    EXPECT_EQ(config.listeners[0].tls->min_version, TlsVersion::kTls13);
    EXPECT_GT(cert.pos.line, 1u);
    EXPECT_EQ(cert.pos.column, 20u);
    EXPECT_EQ(config.where(cert.pos), config.path + ":" + std::to_string(cert.pos.line) + ":20");
    EXPECT_TRUE(config.pools[0].tls);
    EXPECT_GT(config.pools[0].tls_pos.line, cert.pos.line);
}

TEST(ConfigLoader, LoadsTheReferenceConfig) {
    const std::string path = sourceRoot() + "/conf/sluice.toml";
    auto result = loadConfig(path);
    if (auto* errors = std::get_if<ConfigErrors>(&result)) {
        for (const auto& m : errors->messages) ADD_FAILURE() << m;
        return;
    }
    const Config& config = std::get<Config>(result);
    EXPECT_EQ(config.path, path);
    EXPECT_GE(config.listeners.size(), 2u);
    EXPECT_GE(config.pools.size(), 1u);
}

TEST(ConfigLoader, LoadsTheDemoConfig) {
    auto result = loadConfig(sourceRoot() + "/conf/demo.toml");
    if (auto* errors = std::get_if<ConfigErrors>(&result)) {
        for (const auto& m : errors->messages) ADD_FAILURE() << m;
        return;
    }
    const Config& config = std::get<Config>(result);
    ASSERT_EQ(config.listeners.size(), 1u);
    EXPECT_EQ(config.listeners[0].name, "web");
    EXPECT_EQ(config.listeners[0].bind.text, "127.0.0.1:8080");
    EXPECT_EQ(config.listeners[0].pool, "app");
    ASSERT_EQ(config.pools.size(), 1u);
    ASSERT_EQ(config.pools[0].servers.size(), 3u);
    EXPECT_EQ(config.pools[0].servers[2].name, "app3");
    EXPECT_EQ(config.pools[0].servers[2].address.text, "127.0.0.1:8003");
    EXPECT_EQ(config.global.control_socket, "/tmp/sluice-demo/control.sock");
    EXPECT_EQ(config.global.state_file, "/tmp/sluice-demo/state.json");
    EXPECT_EQ(config.log.access_log, "stderr");
}

TEST(ConfigLoader, ReportsUnreadableFile) {
    const auto result = loadConfig("/nonexistent/sluice.toml");
    const auto* errors = std::get_if<ConfigErrors>(&result);
    ASSERT_NE(errors, nullptr);
    ASSERT_EQ(errors->messages.size(), 1u);
    EXPECT_EQ(errors->messages[0],
              "/nonexistent/sluice.toml:1:1: cannot read file: No such file or directory");
}

TEST(ConfigLoader, ReportsSyntaxErrorAtItsLineAndColumn) {
    const auto errors = errorsOf("[global]\nworkers = 4\nuser = \n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0],
              "t.toml:3:8: syntax error: missing value after key-value separator '=' (expected "
              "value, but got nothing)");
}

TEST(ConfigLoader, ReportsDuplicateKeyAsSyntaxErrorAtTheSecond) {
    const auto errors = errorsOf("[global]\nworkers = 1\nworkers = 2\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].rfind("t.toml:3:11: syntax error: value (\"workers\") already exists", 0),
              0u)
        << errors[0];
}

TEST(ConfigLoader, SyntaxErrorIsOneLine) {
    const auto errors = errorsOf("[[listener]\nname = \"x\"\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].find('\n'), std::string::npos) << errors[0];
    EXPECT_EQ(errors[0].rfind("t.toml:1:", 0), 0u) << errors[0];
}

TEST(ConfigLoader, SyntaxErrorNamesTheCallersPathOnly) {
    // toml11 parses without a file name (toml_document.h): a message that cites two places
    // (the first and the second definition) still comes out as one line, under the path the
    // caller gave, however long.
    const std::string path = "/etc/sluice/conf.d/a-path-longer-than-any-inline-buffer.toml";
    const auto result = loadConfigFromString("[global]\nworkers = 1\nworkers = 2\n", path);
    const auto* errors = std::get_if<ConfigErrors>(&result);
    ASSERT_NE(errors, nullptr);
    ASSERT_EQ(errors->messages.size(), 1u);
    const std::string& message = errors->messages[0];
    EXPECT_EQ(message.rfind(path + ":3:11: syntax error: value (\"workers\") already exists", 0),
              0u)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.find("-->"), std::string::npos) << message;
}

TEST(ConfigLoader, RequiresAtLeastOneListener) {
    const auto errors = errorsOf("[global]\nworkers = 1\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "t.toml:1:1: no [[listener]] defined; at least one is required");
}

TEST(ConfigLoader, ReportsEveryErrorSortedByPosition) {
    const auto errors = errorsOf(R"([log]
level = "loud"

[global]
workers = -1
shutdown_timeout = "forever"

[[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "nope"
)");
    ASSERT_EQ(errors.size(), 4u);
    EXPECT_EQ(errors[0].rfind("t.toml:2:9: log.level:", 0), 0u) << errors[0];
    EXPECT_EQ(errors[1].rfind("t.toml:5:11: global.workers:", 0), 0u) << errors[1];
    EXPECT_EQ(errors[2].rfind("t.toml:6:20: global.shutdown_timeout:", 0), 0u) << errors[2];
    EXPECT_EQ(errors[3], "t.toml:11:8: listener.pool: no pool named \"nope\"");
}

TEST(ConfigLoader, ErrorsNeverProduceAPartialConfig) {
    auto result = loadConfigFromString(kListenerAndPool + "[global]\nworkers = 99999\n", "t.toml");
    EXPECT_TRUE(std::holds_alternative<ConfigErrors>(result));
}

}  // namespace
}  // namespace sluice::config
