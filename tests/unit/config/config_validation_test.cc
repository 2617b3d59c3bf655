// One test per kind of config error: message text and FILE:LINE:COL.

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "unit/config/config_test_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using testing::kListenerAndPool;

using Errors = std::vector<std::string>;

// A listener + pool config with `extra` appended to the [[pool]] table (line 11 onwards).
std::string withPoolKeys(const std::string& extra) {
    return R"([[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"

[[pool]]
name = "app"
  [[pool.server]]
  address = "127.0.0.1:8001"
[[pool]]
name = "other"
)" + extra;
}

TEST(ConfigValidation, RejectsUnknownKeyWithDidYouMeanHint) {
    EXPECT_EQ(errorsOf("[global]\nworker = 4\n" + kListenerAndPool),
              Errors{"t.toml:2:1: unknown key \"worker\" in [global]; did you mean \"workers\"?"});
}

TEST(ConfigValidation, RejectsUnknownKeyWithoutHintWhenNothingIsClose) {
    EXPECT_EQ(errorsOf("[global]\nbanana = 4\n" + kListenerAndPool),
              Errors{"t.toml:2:1: unknown key \"banana\" in [global]"});
}

TEST(ConfigValidation, RejectsUnknownKeysAtEveryLevel) {
    const auto errors = errorsOf(R"([globl]
[[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"
  [listener.tls]
  certificates = [ { cert = "c.pem", key = "k.pem", chain = "x" } ]
  min_versoin = "1.2"
  [[listener.route]]
  pool = "app"
  path_prefx = "/a"
[[pool]]
name = "app"
  [pool.health_check]
  intervl = "1s"
  [pool.passive_health]
  max_fail = 1
  [[pool.server]]
  address = "127.0.0.1:8001"
  wieght = 2
)");
    const Errors unknown = [&] {
        Errors out;
        for (const auto& e : errors) {
            if (e.find("unknown") != std::string::npos) out.push_back(e);
        }
        return out;
    }();
    EXPECT_EQ(unknown,
              (Errors{
                  "t.toml:1:2: unknown top-level key \"globl\"; did you mean \"global\"?",
                  "t.toml:7:53: unknown key \"chain\" in a listener.tls.certificates entry",
                  "t.toml:8:3: unknown key \"min_versoin\" in [listener.tls]; did you mean "
                  "\"min_version\"?",
                  "t.toml:11:3: unknown key \"path_prefx\" in [[listener.route]]; did you mean "
                  "\"path_prefix\"?",
                  "t.toml:15:3: unknown key \"intervl\" in [pool.health_check]; did you mean "
                  "\"interval\"?",
                  "t.toml:17:3: unknown key \"max_fail\" in [pool.passive_health]; did you mean "
                  "\"max_fails\"?",
                  "t.toml:20:3: unknown key \"wieght\" in [[pool.server]]; did you mean "
                  "\"weight\"?",
              }));
}

TEST(ConfigValidation, RejectsWrongType) {
    EXPECT_EQ(errorsOf("[global]\nworkers = \"4\"\n" + kListenerAndPool),
              Errors{"t.toml:2:11: global.workers: expected an integer, got a string"});
    EXPECT_EQ(errorsOf("[log]\nlevel = 3\n" + kListenerAndPool),
              Errors{"t.toml:2:9: log.level: expected a string, got an integer"});
    EXPECT_EQ(errorsOf(withPoolKeys("tls_verify = \"yes\"\n")),
              Errors{"t.toml:12:14: pool.tls_verify: expected a boolean (true or false), got a "
                     "string"});
    EXPECT_EQ(errorsOf("global = 1\n" + kListenerAndPool),
              Errors{"t.toml:1:10: global: expected a table ([global]), got an integer"});
}

TEST(ConfigValidation, RejectsListenerWrittenAsSingleTable) {
    const auto errors = errorsOf("[listener]\nname = \"web\"\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0],
              "t.toml:1:1: listener: expected an array of tables ([[listener]]), got a table");
}

TEST(ConfigValidation, RejectsOutOfRangeValues) {
    EXPECT_EQ(errorsOf("[global]\nworkers = 1025\n" + kListenerAndPool),
              Errors{"t.toml:2:11: global.workers: 1025 is out of range 0..1024"});
    EXPECT_EQ(errorsOf(kListenerAndPool + "  weight = 1001\n"),
              Errors{"t.toml:11:12: pool.server.weight: 1001 is out of range 1..1000"});
    EXPECT_EQ(errorsOf(kListenerAndPool + "  weight = 0\n"),
              Errors{"t.toml:11:12: pool.server.weight: 0 is out of range 1..1000"});
    EXPECT_EQ(errorsOf(withPoolKeys("keepalive = 100001\n")),
              Errors{"t.toml:12:13: pool.keepalive: 100001 is out of range 0..100000"});
    EXPECT_EQ(errorsOf(withPoolKeys("[pool.health_check]\nrise = 0\nfall = 0\n")).size(), 2u);
}

TEST(ConfigValidation, RejectsHeaderLimitsOutsideSaneBounds) {
    const std::string listener =
        "[[listener]]\nname = \"w\"\nbind = \"127.0.0.1:1\"\npool = \"app\"\n";
    const std::string pool = "[[pool]]\nname = \"app\"\n";
    EXPECT_EQ(errorsOf(listener + "max_header_bytes = 512\n" + pool),
              Errors{"t.toml:5:20: listener.max_header_bytes: 512 bytes is out of range "
                     "1024..1048576"});
    EXPECT_EQ(errorsOf(listener + "max_header_bytes = \"2MiB\"\n" + pool).size(), 1u);
    EXPECT_EQ(errorsOf(listener + "max_headers = 0\n" + pool),
              Errors{"t.toml:5:15: listener.max_headers: 0 is out of range 1..10000"});
}

TEST(ConfigValidation, RejectsZeroTimeouts) {
    EXPECT_EQ(errorsOf(withPoolKeys("connect_timeout = \"0s\"\n")),
              Errors{"t.toml:12:19: pool.connect_timeout: must be greater than 0"});
    EXPECT_EQ(errorsOf(withPoolKeys("[pool.health_check]\ninterval = \"0ms\"\ntimeout = \"0s\"\n"))
                  .size(),
              2u);  // interval and timeout
}

TEST(ConfigValidation, AllowsZeroShutdownTimeout) {
    EXPECT_EQ(errorsOf("[global]\nshutdown_timeout = \"0s\"\n" + kListenerAndPool), Errors{});
}

TEST(ConfigValidation, RejectsBadEnumListingAllowedValues) {
    EXPECT_EQ(errorsOf("[log]\nlevel = \"verbose\"\n" + kListenerAndPool),
              Errors{"t.toml:2:9: log.level: unknown value \"verbose\"; expected one of "
                     "\"error\", \"warn\", \"info\", \"debug\""});
    EXPECT_EQ(errorsOf("[log]\naccess_log_format = \"jsn\"\n" + kListenerAndPool),
              Errors{"t.toml:2:21: log.access_log_format: unknown value \"jsn\"; expected one of "
                     "\"combined\", \"json\"; did you mean \"json\"?"});
    EXPECT_EQ(errorsOf(withPoolKeys("send_proxy_protocol = \"v3\"\n")),
              Errors{"t.toml:12:23: pool.send_proxy_protocol: unknown value \"v3\"; expected one "
                     "of \"\", \"v1\", \"v2\"; did you mean \"v1\"?"});
}

TEST(ConfigValidation, RejectsBadAlgorithmBeforeGatingIt) {
    EXPECT_EQ(errorsOf(withPoolKeys("algorithm = \"fastest\"\n")),
              Errors{"t.toml:12:13: pool.algorithm: unknown value \"fastest\"; expected one of "
                     "\"round_robin\", \"weighted_round_robin\", \"least_conn\", \"random\", "
                     "\"power_of_two\", \"ewma\", \"ip_hash\", \"hash\""});
}

TEST(ConfigValidation, RejectsDuplicateListenerNames) {
    const auto errors = errorsOf(kListenerAndPool +
                                 "[[listener]]\nname = \"web\"\nbind = \"127.0.0.1:8081\"\n"
                                 "pool = \"app\"\n");
    EXPECT_EQ(errors, Errors{"t.toml:12:8: listener.name: duplicate listener \"web\" (first "
                             "defined at line 2)"});
}

TEST(ConfigValidation, RejectsDuplicatePoolNames) {
    EXPECT_EQ(errorsOf(withPoolKeys("[[pool]]\nname = \"app\"\n")),
              Errors{"t.toml:13:8: pool.name: duplicate pool \"app\" (first defined at line 7)"});
}

TEST(ConfigValidation, RejectsDuplicateServerNamesWithinAPool) {
    EXPECT_EQ(
        errorsOf(withPoolKeys("  [[pool.server]]\n  name = \"s\"\n  address = \"127.0.0.1:1\"\n"
                              "  [[pool.server]]\n  name = \"s\"\n  address = \"127.0.0.1:2\"\n")),
        Errors{"t.toml:16:10: pool.server: duplicate server \"s\" in pool \"other\" (first "
               "at line 13)"});
}

TEST(ConfigValidation, RejectsDuplicateDefaultServerNames) {
    // The default name is the address text, so the same address twice is a duplicate.
    EXPECT_EQ(errorsOf(kListenerAndPool + "  [[pool.server]]\n  address = \"127.0.0.1:8001\"\n"),
              Errors{"t.toml:11:3: pool.server: duplicate server \"127.0.0.1:8001\" in pool "
                     "\"app\" (first at line 9)"});
}

TEST(ConfigValidation, AllowsSameServerNameInDifferentPools) {
    EXPECT_EQ(errorsOf(withPoolKeys("  [[pool.server]]\n  address = \"127.0.0.1:8001\"\n")),
              Errors{});
}

TEST(ConfigValidation, RejectsDanglingListenerPool) {
    EXPECT_EQ(errorsOf("[[listener]]\nname = \"web\"\nbind = \"127.0.0.1:8080\"\npool = \"ap\"\n"
                       "[[pool]]\nname = \"app\"\n"),
              Errors{"t.toml:4:8: listener.pool: no pool named \"ap\"; did you mean \"app\"?"});
}

TEST(ConfigValidation, RejectsDanglingRoutePool) {
    const auto errors = errorsOf(kListenerAndPool.substr(0, kListenerAndPool.find("[[pool]]")) +
                                 "  [[listener.route]]\n  pool = \"missing\"\n"
                                 "[[pool]]\nname = \"app\"\n");
    EXPECT_TRUE(testing::hasErrorContaining(
        errors, "t.toml:7:10: listener.route.pool: no pool named \"missing\""));
}

TEST(ConfigValidation, RejectsBadDuration) {
    EXPECT_EQ(errorsOf("[global]\nshutdown_timeout = \"30 seconds\"\n" + kListenerAndPool),
              Errors{"t.toml:2:20: global.shutdown_timeout: invalid duration \"30 seconds\" "
                     "(expected a number with unit ms, s, m or h, e.g. \"250ms\", \"2s\")"});
}

TEST(ConfigValidation, RejectsBareNumberDuration) {
    EXPECT_EQ(errorsOf("[global]\nshutdown_timeout = 30\n" + kListenerAndPool),
              Errors{"t.toml:2:20: global.shutdown_timeout: a duration needs a unit and quotes, "
                     "e.g. \"30s\" (units: ms, s, m, h)"});
    EXPECT_EQ(errorsOf("[global]\nshutdown_timeout = \"30\"\n" + kListenerAndPool),
              Errors{"t.toml:2:20: global.shutdown_timeout: a duration needs a unit: write "
                     "\"30s\" or \"30ms\""});
}

TEST(ConfigValidation, RejectsBadSize) {
    const std::string listener =
        "[[listener]]\nname = \"w\"\nbind = \"127.0.0.1:1\"\npool = \"app\"\n";
    const std::string pool = "[[pool]]\nname = \"app\"\n";
    EXPECT_EQ(errorsOf(listener + "max_body_bytes = \"10MB\"\n" + pool),
              Errors{"t.toml:5:18: listener.max_body_bytes: invalid size \"10MB\" (expected an "
                     "integer number of bytes, or a string like \"64KiB\", \"10MiB\", \"1GiB\")"});
    EXPECT_EQ(errorsOf(listener + "max_body_bytes = -1\n" + pool),
              Errors{"t.toml:5:18: listener.max_body_bytes: a size cannot be negative"});
    EXPECT_EQ(errorsOf(listener + "max_body_bytes = 1.5\n" + pool).size(), 1u);
}

TEST(ConfigValidation, AcceptsSizeAsIntegerOrSuffixedString) {
    const std::string listener =
        "[[listener]]\nname = \"w\"\nbind = \"127.0.0.1:1\"\npool = \"app\"\n";
    const std::string pool = "[[pool]]\nname = \"app\"\n";
    EXPECT_EQ(
        errorsOf(listener + "max_header_bytes = \"1MiB\"\nmax_body_bytes = \"1GiB\"\n" + pool),
        Errors{});
    EXPECT_EQ(errorsOf(listener + "max_header_bytes = 1024\n" + pool), Errors{});
}

TEST(ConfigValidation, RejectsBadAddress) {
    EXPECT_EQ(errorsOf("[[listener]]\nname = \"w\"\nbind = \"0.0.0.0\"\npool = \"app\"\n"
                       "[[pool]]\nname = \"app\"\n"),
              Errors{"t.toml:3:8: listener.bind: invalid address \"0.0.0.0\": expected "
                     "\"host:port\""});
    EXPECT_EQ(errorsOf(kListenerAndPool + "  [[pool.server]]\n  address = \"127.0.0.1:70000\"\n"),
              Errors{"t.toml:12:13: pool.server.address: invalid address \"127.0.0.1:70000\": "
                     "port must be 1..65535"});
    EXPECT_EQ(errorsOf(kListenerAndPool + "  [[pool.server]]\n  address = \"::1:80\"\n"),
              Errors{"t.toml:12:13: pool.server.address: invalid address \"::1:80\": write IPv6 "
                     "addresses in brackets, e.g. \"[::1]:8080\""});
}

TEST(ConfigValidation, RejectsUnresolvableHost) {
    const auto errors =
        errorsOf(kListenerAndPool + "  [[pool.server]]\n  address = \"no-such-host.invalid:80\"\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].rfind("t.toml:12:13: pool.server.address: cannot resolve host "
                              "\"no-such-host.invalid\": ",
                              0),
              0u)
        << errors[0];
}

TEST(ConfigValidation, RejectsBadNameCharacters) {
    EXPECT_EQ(errorsOf(withPoolKeys("[[pool]]\nname = \"my pool\"\n")),
              Errors{"t.toml:13:8: pool.name: invalid name \"my pool\" (1 to 64 characters from "
                     "A-Z, a-z, 0-9, '_', '.', '-')"});
    EXPECT_EQ(errorsOf(withPoolKeys("[[pool]]\nname = \"\"\n")).size(), 1u);
    EXPECT_EQ(errorsOf(withPoolKeys("[[pool]]\nname = \"" + std::string(65, 'a') + "\"\n")).size(),
              1u);
    EXPECT_EQ(errorsOf(kListenerAndPool + "  name = \"app/1\"\n").size(), 1u);
}

TEST(ConfigValidation, RejectsMissingRequiredKeysAtTheTable) {
    EXPECT_EQ(errorsOf("[[listener]]\nbind = \"127.0.0.1:1\"\npool = \"app\"\n"
                       "[[pool]]\nname = \"app\"\n"),
              Errors{"t.toml:1:1: [[listener]] is missing required key \"name\""});
    EXPECT_EQ(errorsOf(withPoolKeys("  [[pool.server]]\n  weight = 2\n")),
              Errors{"t.toml:12:3: [[pool.server]] is missing required key \"address\""});
    EXPECT_EQ(errorsOf(withPoolKeys("[[pool]]\nkeepalive = 1\n")),
              Errors{"t.toml:12:1: [[pool]] is missing required key \"name\""});
}

TEST(ConfigValidation, RejectsDuplicateBind) {
    EXPECT_EQ(errorsOf(kListenerAndPool +
                       "[[listener]]\nname = \"b\"\nbind = \"127.0.0.1:8080\"\npool = \"app\"\n"),
              Errors{"t.toml:13:8: listener.bind: 127.0.0.1:8080 is already used by listener "
                     "\"web\" (line 3)"});
}

TEST(ConfigValidation, RejectsDuplicateBindWrittenDifferently) {
    const auto errors =
        errorsOf(kListenerAndPool +
                 "[[listener]]\nname = \"b\"\nbind = \"localhost:8080\"\npool = \"app\"\n");
    // localhost resolves to 127.0.0.1 here; where it resolves to ::1 first, it does not clash.
    if (!errors.empty()) {
        EXPECT_EQ(errors, Errors{"t.toml:13:8: listener.bind: localhost:8080 is already used by "
                                 "listener \"web\" (line 3)"});
    }
}

TEST(ConfigValidation, RejectsTcpListenerWithoutPool) {
    EXPECT_EQ(errorsOf("[[listener]]\nname = \"db\"\nbind = \"127.0.0.1:1\"\nmode = \"tcp\"\n"),
              Errors{"t.toml:1:1: listener \"db\": mode = \"tcp\" requires a pool"});
}

TEST(ConfigValidation, RejectsHttpListenerWithoutPoolOrCatchAllRoute) {
    EXPECT_EQ(errorsOf("[[listener]]\nname = \"web\"\nbind = \"127.0.0.1:1\"\n"),
              Errors{"t.toml:1:1: listener \"web\": an http listener needs a pool, or a route "
                     "without host and path_prefix to catch every request"});
    const auto with_partial_routes = errorsOf(
        "[[listener]]\nname = \"web\"\nbind = \"127.0.0.1:1\"\n"
        "  [[listener.route]]\n  host = \"a.example\"\n  pool = \"app\"\n"
        "[[pool]]\nname = \"app\"\n");
    EXPECT_TRUE(testing::hasErrorContaining(
        with_partial_routes, "t.toml:1:1: listener \"web\": an http listener needs"));
}

TEST(ConfigValidation, AcceptsHttpListenerWithCatchAllRouteInsteadOfPool) {
    const auto errors = errorsOf(
        "[[listener]]\nname = \"web\"\nbind = \"127.0.0.1:1\"\n"
        "  [[listener.route]]\n  path_prefix = \"/\"\n  pool = \"app\"\n"
        "[[pool]]\nname = \"app\"\n");
    // No "needs a pool": the catch-all route covers every request.
    EXPECT_TRUE(errors.empty());
}

TEST(ConfigValidation, RejectsRoutesOnTcpListener) {
    const auto errors = errorsOf(
        "[[listener]]\nname = \"db\"\nbind = \"127.0.0.1:1\"\n"
        "mode = \"tcp\"\npool = \"app\"\n"
        "  [[listener.route]]\n  pool = \"app\"\n"
        "[[pool]]\nname = \"app\"\n");
    EXPECT_TRUE(testing::hasErrorContaining(
        errors, "t.toml:6:3: listener \"db\": [[listener.route]] needs mode = \"http\""));
}

TEST(ConfigValidation, RejectsBadRouteHostAndPath) {
    const auto errors = errorsOf(kListenerAndPool.substr(0, kListenerAndPool.find("[[pool]]")) +
                                 "  [[listener.route]]\n  host = \"a b\"\n  path_prefix = \"api\"\n"
                                 "  pool = \"app\"\n[[pool]]\nname = \"app\"\n");
    EXPECT_TRUE(testing::hasErrorContaining(errors, "t.toml:7:10: listener.route.host: invalid"));
    EXPECT_TRUE(testing::hasErrorContaining(
        errors, "t.toml:8:17: listener.route.path_prefix: must start with '/'"));
}

TEST(ConfigValidation, RejectsBadHashKey) {
    EXPECT_EQ(errorsOf(withPoolKeys("hash_key = \"header:\"\n")),
              Errors{"t.toml:12:12: pool.hash_key: invalid hash_key \"header:\"; expected "
                     "\"client_ip\", \"uri\", \"header:NAME\" or \"cookie:NAME\""});
    EXPECT_EQ(errorsOf(withPoolKeys("hash_key = \"ip\"\n")).size(), 1u);
}

TEST(ConfigValidation, RejectsHealthCheckPathOrHostThatWouldBreakTheRequest) {
    EXPECT_TRUE(testing::hasErrorContaining(
        errorsOf(withPoolKeys("[pool.health_check]\npath = \"/a b\"\n")),
        "pool.health_check.path: must not contain spaces or control characters"));
    EXPECT_TRUE(testing::hasErrorContaining(
        errorsOf(withPoolKeys("[pool.health_check]\nhost = \"a\\r\\nX: y\"\n")),
        "pool.health_check.host: must not contain spaces or control characters"));
}

TEST(ConfigValidation, RejectsBadExpectStatus) {
    const auto errors = errorsOf(withPoolKeys("[pool.health_check]\nexpect_status = \"2xx\"\n"));
    EXPECT_TRUE(testing::hasErrorContaining(
        errors,
        "t.toml:13:17: pool.health_check.expect_status: invalid status list \"2xx\": "
        "\"2xx\" is not a status code 100..599"));
    EXPECT_EQ(errorsOf(withPoolKeys("[pool.health_check]\nexpect_status = \"200-700\"\n")).size(),
              1u);  // the range
}

TEST(ConfigValidation, RejectsBadOctalMode) {
    EXPECT_EQ(errorsOf("[global]\ncontrol_socket_mode = \"0968\"\n" + kListenerAndPool),
              Errors{"t.toml:2:23: global.control_socket_mode: invalid file mode \"0968\" "
                     "(expected an octal string like \"0660\")"});
    EXPECT_EQ(errorsOf("[global]\ncontrol_socket_mode = 660\n" + kListenerAndPool),
              Errors{"t.toml:2:23: global.control_socket_mode: expected an octal string like "
                     "\"0660\", got an integer"});
}

TEST(ConfigValidation, RejectsBadRequestIdHeader) {
    const std::string listener =
        "[[listener]]\nname = \"w\"\nbind = \"127.0.0.1:1\"\npool = \"app\"\n";
    EXPECT_EQ(errorsOf(listener + "request_id_header = \"X Request\"\n[[pool]]\nname = \"app\"\n"),
              Errors{"t.toml:5:21: listener.request_id_header: \"X Request\" is not a valid header "
                     "name"});
}

TEST(ConfigValidation, RejectsEmptyPaths) {
    EXPECT_EQ(errorsOf("[log]\naccess_log = \"\"\n" + kListenerAndPool),
              Errors{"t.toml:2:14: log.access_log: must not be empty"});
    EXPECT_EQ(errorsOf("[global]\ncontrol_socket = \"/" + std::string(120, 's') + "\"\n" +
                       kListenerAndPool)
                  .size(),
              1u);
}

TEST(ConfigValidation, RejectsTlsWithoutCertificates) {
    const auto errors = errorsOf(kListenerAndPool.substr(0, kListenerAndPool.find("[[pool]]")) +
                                 "  [listener.tls]\n  min_version = \"1.1\"\n"
                                 "[[pool]]\nname = \"app\"\n");
    EXPECT_TRUE(testing::hasErrorContaining(
        errors, "t.toml:6:3: [listener.tls] is missing required key \"certificates\""));
    EXPECT_TRUE(testing::hasErrorContaining(errors, "t.toml:7:17: listener.tls.min_version"));
}

}  // namespace
}  // namespace sluice::config
