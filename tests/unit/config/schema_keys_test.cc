// The keys config.md added for features not built yet (stop_grace, [resolver], trusted_proxies,
// max_connections_per_ip, freebind (now built), HTTP/2, [[listener.rate_limit]], slow_start
// (now built), [pool.discovery]): read into Config with their defaults and fully validated, and
// then rejected by the feature gate naming the feature. readUngated() runs the reader without the
// gate, to see what a valid value becomes.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config/config_diff.h"
#include "config/config_reader.h"
#include "config/diagnostics.h"
#include "config/toml_document.h"
#include "unit/config/config_test_support.h"

namespace sluice::config {
namespace {

using testing::errorsOf;
using testing::hasErrorContaining;
using Errors = std::vector<std::string>;

// Lines 1-4; keys appended to it land on line 5.
const std::string kSchemaListener = R"([[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"
)";

const std::string kSchemaPool = R"([[pool]]
name = "app"
)";

// kSchemaListener + listener_extra + kSchemaPool + pool_extra, loaded as sluice -t would (with the
// gate).
Errors errorsWith(const std::string& listener_extra, const std::string& pool_extra = "") {
    return errorsOf(kSchemaListener + listener_extra + kSchemaPool + pool_extra);
}

struct Ungated {
    Config config;
    Errors errors;
};

// Parsed and read, without the feature gate.
Ungated readUngated(const std::string& text) {
    Ungated out;
    std::istringstream in(text);
    const toml::value root = parseTomlDocument(in);
    Diagnostics diags;
    ConfigReader(&diags, false).read(root, &out.config);
    out.errors = diags.format("t.toml");
    return out;
}

Ungated listenerUngated(const std::string& listener_extra, const std::string& pool_extra = "") {
    return readUngated(kSchemaListener + listener_extra + kSchemaPool + pool_extra);
}

// The validation errors alone: a table or array of a gated feature that holds invalid values
// gets the gate's error as well (both are true; the admin learns both at once).
Errors ungatedErrors(const std::string& listener_extra, const std::string& pool_extra = "") {
    return listenerUngated(listener_extra, pool_extra).errors;
}

// --- [global] stop_grace --------------------------------------------------------------------

TEST(SchemaKeys, StopGraceIsRead) {
    EXPECT_EQ(readUngated("[global]\n" + kSchemaListener + kSchemaPool).config.global.stop_grace,
              Duration{0});
    const Ungated read =
        readUngated("[global]\nstop_grace = \"5s\"\n" + kSchemaListener + kSchemaPool);
    EXPECT_EQ(read.errors, Errors{});
    EXPECT_EQ(read.config.global.stop_grace, Duration{5000});
    // Built (issue 17): no longer gated.
    EXPECT_EQ(errorsOf("[global]\nstop_grace = \"5s\"\n" + kSchemaListener + kSchemaPool),
              Errors{});
    EXPECT_EQ(errorsOf("[global]\nstop_grace = \"0s\"\n" + kSchemaListener + kSchemaPool),
              Errors{});
    EXPECT_EQ(errorsOf("[global]\nstop_grace = \"0ms\"\n" + kSchemaListener + kSchemaPool),
              Errors{});
    const Errors bad = errorsOf("[global]\nstop_grace = 5\n" + kSchemaListener + kSchemaPool);
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_NE(bad[0].find("global.stop_grace: a duration needs a unit"), std::string::npos)
        << bad[0];
    EXPECT_TRUE(hasErrorContaining(
        errorsOf("[global]\nstop_grace = \"-1s\"\n" + kSchemaListener + kSchemaPool),
        "global.stop_grace: invalid duration"));
}

// --- [resolver] ------------------------------------------------------------------------------

TEST(SchemaKeys, ResolverDefaultsAndValues) {
    const ResolverConfig defaults = readUngated(kSchemaListener + kSchemaPool).config.resolver;
    EXPECT_TRUE(defaults.nameservers.empty());
    EXPECT_EQ(defaults.timeout, Duration{2000});
    EXPECT_EQ(defaults.attempts, 2u);

    const Ungated read = readUngated(
        "[resolver]\nnameservers = [\"10.0.0.2\", \"127.0.0.1:5353\", \"[::1]:53\", \"::1\", "
        "\"[::2]\"]\ntimeout = \"500ms\"\nattempts = 3\n" +
        kSchemaListener + kSchemaPool);
    EXPECT_EQ(read.errors, Errors{});
    const ResolverConfig& r = read.config.resolver;
    ASSERT_EQ(r.nameservers.size(), 5u);
    EXPECT_EQ(r.nameservers[0].text, "10.0.0.2");
    EXPECT_EQ(r.nameservers[0].port, 53);
    EXPECT_EQ(r.nameservers[0].sockaddr.ss_family, AF_INET);
    EXPECT_EQ(r.nameservers[1].port, 5353);
    EXPECT_EQ(r.nameservers[2].sockaddr.ss_family, AF_INET6);
    EXPECT_EQ(r.nameservers[3].port, 53);
    EXPECT_EQ(r.nameservers[3].host, "::1");
    EXPECT_EQ(r.nameservers[4].port, 53);
    EXPECT_EQ(r.timeout, Duration{500});
    EXPECT_EQ(r.attempts, 3u);
}

TEST(SchemaKeys, ResolverRejectsBadValues) {
    const Errors errors =
        readUngated(
            "[resolver]\nnameservers = [\"ns.example.com:53\", \"10.0.0.2:99999\", 5, \"\"]\n"
            "timeout = \"0s\"\nattempts = 0\nattempt = 1\n" +
            kSchemaListener + kSchemaPool)
            .errors;
    EXPECT_EQ(errors,
              (Errors{"t.toml:2:16: resolver.nameservers: nameserver \"ns.example.com:53\" must "
                      "be an IP address, not a hostname",
                      "t.toml:2:37: resolver.nameservers: invalid nameserver \"10.0.0.2:99999\" "
                      "(expected an IP address, with a port or not)",
                      "t.toml:2:55: resolver.nameservers: expected an address string, got an "
                      "integer",
                      "t.toml:2:58: resolver.nameservers: invalid nameserver \"\" (expected an IP "
                      "address, with a port or not)",
                      "t.toml:3:11: resolver.timeout: must be greater than 0",
                      "t.toml:4:12: resolver.attempts: 0 is out of range 1..10",
                      "t.toml:5:1: unknown key \"attempt\" in [resolver]; did you mean "
                      "\"attempts\"?"}));
    EXPECT_TRUE(hasErrorContaining(
        errorsOf("[resolver]\nnameservers = \"10.0.0.2\"\n" + kSchemaListener + kSchemaPool),
        "resolver.nameservers: expected an array of addresses"));
    EXPECT_TRUE(
        hasErrorContaining(errorsOf("[resolver]\nattempts = 11\n" + kSchemaListener + kSchemaPool),
                           "resolver.attempts: 11 is out of range 1..10"));
}

TEST(SchemaKeys, ResolverTableIsBuilt) {
    EXPECT_EQ(
        errorsOf("[resolver]\nnameservers = [\"10.0.0.2\"]\n" + kSchemaListener + kSchemaPool),
        Errors{});
    EXPECT_EQ(errorsOf("[resolver]\n" + kSchemaListener + kSchemaPool), Errors{});
}

// --- listener keys ---------------------------------------------------------------------------

TEST(SchemaKeys, ListenerDefaults) {
    const ListenerConfig l = readUngated(kSchemaListener + kSchemaPool).config.listeners.at(0);
    EXPECT_TRUE(l.trusted_proxies.empty());
    EXPECT_EQ(l.max_connections_per_ip, 0u);
    EXPECT_FALSE(l.freebind);
    EXPECT_TRUE(l.http2);
    EXPECT_FALSE(l.h2c);
    EXPECT_EQ(l.http2_max_concurrent_streams, 100u);
    EXPECT_EQ(l.http2_initial_window, 65536u);
    EXPECT_TRUE(l.rate_limits.empty());
}

TEST(SchemaKeys, TrustedProxiesAreParsedNetworks) {
    const Ungated read =
        listenerUngated("trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\", \"2001:db8::/32\"]\n");
    EXPECT_EQ(read.errors, Errors{});
    const auto& networks = read.config.listeners.at(0).trusted_proxies;
    ASSERT_EQ(networks.size(), 3u);
    EXPECT_EQ(networks[0].prefix_length, 8u);
    EXPECT_EQ(networks[1].prefix_length, 32u);
    EXPECT_EQ(networks[2].family, AF_INET6);
    EXPECT_EQ(errorsWith("trusted_proxies = [\"10.0.0.0/8\"]\n"), Errors{});  // now built
    EXPECT_EQ(errorsWith("trusted_proxies = []\n"), Errors{});
}

TEST(SchemaKeys, TrustedProxiesRejectBadNetworks) {
    EXPECT_EQ(ungatedErrors("trusted_proxies = [\"10.0.0.1/8\", \"10.0.0.0/33\", 7]\n"),
              (Errors{"t.toml:5:20: listener.trusted_proxies: invalid network \"10.0.0.1/8\": has "
                      "bits set after the /8 prefix; the network is \"10.0.0.0/8\"",
                      "t.toml:5:34: listener.trusted_proxies: invalid network \"10.0.0.0/33\": "
                      "the prefix length must be 0..32",
                      "t.toml:5:49: listener.trusted_proxies: expected a network string, got an "
                      "integer"}));
    EXPECT_TRUE(hasErrorContaining(errorsWith("trusted_proxies = \"10.0.0.0/8\"\n"),
                                   "listener.trusted_proxies: expected an array of networks"));
    EXPECT_EQ(errorsWith("mode = \"tcp\"\ntrusted_proxies = [\"10.0.0.0/8\"]\n"),
              Errors{"t.toml:6:19: listener.trusted_proxies: needs mode = \"http\" (tcp listeners "
                     "read no headers)"});
}

TEST(SchemaKeys, MaxConnectionsPerIp) {
    EXPECT_EQ(listenerUngated("max_connections_per_ip = 50\n")
                  .config.listeners.at(0)
                  .max_connections_per_ip,
              50u);
    EXPECT_EQ(errorsWith("max_connections_per_ip = 50\n"), Errors{});  // now built
    EXPECT_EQ(errorsWith("max_connections_per_ip = 0\n"), Errors{});
    EXPECT_EQ(errorsWith("max_connections_per_ip = -1\n"),
              Errors{"t.toml:5:26: listener.max_connections_per_ip: -1 is out of range "
                     "0..10000000"});
    EXPECT_TRUE(hasErrorContaining(errorsWith("max_connections_per_ip = \"5\"\n"),
                                   "expected an integer, got a string"));
}

TEST(SchemaKeys, Freebind) {
    EXPECT_TRUE(listenerUngated("freebind = true\n").config.listeners.at(0).freebind);
    EXPECT_EQ(errorsWith("freebind = true\n"), Errors{});  // built: no longer gated
    EXPECT_EQ(errorsWith("freebind = false\n"), Errors{});
    EXPECT_TRUE(hasErrorContaining(errorsWith("freebind = \"yes\"\n"),
                                   "listener.freebind: expected a boolean"));
}

TEST(SchemaKeys, Http2KeysAreRead) {
    EXPECT_FALSE(listenerUngated("http2 = false\n").config.listeners.at(0).http2);
    EXPECT_TRUE(listenerUngated("").config.listeners.at(0).http2);  // the default
    for (const char* line :
         {"http2 = false\n", "http2 = true\n", "h2c = true\n", "h2c = false\n",
          "http2_max_concurrent_streams = 100\n", "http2_initial_window = \"64KiB\"\n"}) {
        EXPECT_EQ(errorsWith(line), Errors{}) << line;
    }
    const ListenerConfig l =
        listenerUngated(
            "h2c = true\nhttp2_max_concurrent_streams = 7\nhttp2_initial_window = "
            "\"1MiB\"\n")
            .config.listeners.at(0);
    EXPECT_TRUE(l.h2c);
    EXPECT_EQ(l.http2_max_concurrent_streams, 7u);
    EXPECT_EQ(l.http2_initial_window, 1024u * 1024);
}

TEST(SchemaKeys, Http2KeysAreValidated) {
    EXPECT_EQ(errorsWith("http2_max_concurrent_streams = 0\n"),
              Errors{"t.toml:5:32: listener.http2_max_concurrent_streams: 0 is out of range "
                     "1..2147483647"});
    EXPECT_EQ(errorsWith("http2_initial_window = \"2GiB\"\n"),
              Errors{"t.toml:5:24: listener.http2_initial_window: 2147483648 bytes is out of "
                     "range 1..2147483647"});
    EXPECT_TRUE(
        hasErrorContaining(errorsWith("http2 = 1\n"), "listener.http2: expected a boolean"));
    EXPECT_EQ(errorsWith("mode = \"tcp\"\nh2c = true\n"),
              Errors{"t.toml:6:7: listener.h2c: needs mode = \"http\""});
    EXPECT_EQ(errorsWith("h2c = true\n  [listener.tls]\n  certificates = [ { cert = \"c\", key = "
                         "\"k\" } ]\n"),
              Errors{"t.toml:5:7: listener.h2c: is HTTP/2 without TLS; with [listener.tls], "
                     "HTTP/2 is offered by ALPN (http2 = true)"});
}

TEST(SchemaKeys, AlpnH2NeedsHttp2) {
    const std::string tls =
        "  [listener.tls]\n  certificates = [ { cert = \"c\", key = \"k\" } ]\n";
    EXPECT_EQ(errorsWith(tls + "  alpn = [\"h2\", \"http/1.1\"]\n"), Errors{});
    EXPECT_EQ(errorsWith(tls + "  alpn = [\"http/1.1\"]\n"), Errors{});
    // Without http2 it is a contradiction.
    EXPECT_EQ(errorsWith("http2 = false\n" + tls + "  alpn = [\"h2\"]\n"),
              Errors{"t.toml:8:10: listener.tls.alpn: \"h2\" needs the listener's http2 = true"});
    EXPECT_EQ(errorsWith("http2 = false\nh2c = true\n"),
              Errors{"t.toml:6:7: listener.h2c: needs http2 = true"});
}

TEST(SchemaKeys, RateLimitsAreRead) {
    const Ungated read = listenerUngated(
        "  [[listener.rate_limit]]\n  rate = 100\n"
        "  [[listener.rate_limit]]\n  key = \"header:X-Api-Key\"\n  rate = 5\n  per = \"1m\"\n"
        "  burst = 10\n  path_prefix = \"/api/\"\n  max_keys = 5000\n");
    EXPECT_EQ(read.errors, Errors{});
    const auto& limits = read.config.listeners.at(0).rate_limits;
    ASSERT_EQ(limits.size(), 2u);
    EXPECT_EQ(limits[0].key, RateLimitKeyKind::kClientIp);
    EXPECT_EQ(limits[0].rate, 100u);
    EXPECT_EQ(limits[0].per, Duration{1000});
    EXPECT_EQ(limits[0].burst, 0u);
    EXPECT_EQ(limits[0].path_prefix, "");
    EXPECT_EQ(limits[0].max_keys, 100000u);
    EXPECT_EQ(limits[1].key, RateLimitKeyKind::kHeader);
    EXPECT_EQ(limits[1].header, "X-Api-Key");
    EXPECT_EQ(limits[1].rate, 5u);
    EXPECT_EQ(limits[1].per, Duration{60000});
    EXPECT_EQ(limits[1].burst, 10u);
    EXPECT_EQ(limits[1].path_prefix, "/api/");
    EXPECT_EQ(limits[1].max_keys, 5000u);
    EXPECT_EQ(errorsWith("  [[listener.rate_limit]]\n  rate = 100\n  [[listener.rate_limit]]\n"
                         "  rate = 1\n"),
              Errors{});  // now built
}

TEST(SchemaKeys, RateLimitsAreValidated) {
    EXPECT_EQ(
        ungatedErrors("  [[listener.rate_limit]]\n  key = \"cookie:sid\"\n  rate = 0\n"
                      "  per = \"0s\"\n  burst = -1\n  path_prefix = \"api\"\n  max_keys = 0\n"
                      "  brust = 1\n"),
        (Errors{"t.toml:6:9: listener.rate_limit.key: invalid key \"cookie:sid\"; expected "
                "\"client_ip\" or \"header:NAME\"",
                "t.toml:7:10: listener.rate_limit.rate: 0 is out of range 1..1000000000",
                "t.toml:8:9: listener.rate_limit.per: must be greater than 0",
                "t.toml:9:11: listener.rate_limit.burst: -1 is out of range 0..1000000000",
                "t.toml:10:17: listener.rate_limit.path_prefix: must start with '/'",
                "t.toml:11:14: listener.rate_limit.max_keys: 0 is out of range 1..100000000",
                "t.toml:12:3: unknown key \"brust\" in [[listener.rate_limit]]; did you mean "
                "\"burst\"?"}));
    EXPECT_EQ(ungatedErrors("  [[listener.rate_limit]]\n  per = \"1s\"\n"),
              Errors{"t.toml:5:3: [[listener.rate_limit]] is missing required key \"rate\""});
    EXPECT_TRUE(hasErrorContaining(errorsWith("  [[listener.rate_limit]]\n  key = \"header:\"\n"
                                              "  rate = 1\n"),
                                   "invalid key \"header:\""));
    EXPECT_EQ(ungatedErrors("mode = \"tcp\"\n  [[listener.rate_limit]]\n  rate = 1\n"),
              Errors{"t.toml:6:3: listener \"web\": [[listener.rate_limit]] needs mode = \"http\" "
                     "(it limits requests)"});
    EXPECT_TRUE(hasErrorContaining(errorsWith("rate_limit = 5\n"),
                                   "listener.rate_limit: expected an array of tables"));
}

// --- pool keys -------------------------------------------------------------------------------

TEST(SchemaKeys, SlowStart) {
    EXPECT_EQ(listenerUngated("").config.pools.at(0).slow_start, Duration{0});
    EXPECT_EQ(listenerUngated("", "slow_start = \"30s\"\n").config.pools.at(0).slow_start,
              Duration{30000});
    EXPECT_EQ(errorsWith("", "slow_start = \"30s\"\n"), Errors{});
    EXPECT_EQ(errorsWith("", "slow_start = \"0s\"\n"), Errors{});
    EXPECT_TRUE(hasErrorContaining(errorsWith("", "slow_start = \"soon\"\n"),
                                   "pool.slow_start: invalid duration"));
}

TEST(SchemaKeys, DiscoveryByNameAndBySrv) {
    const Ungated by_name = listenerUngated(
        "",
        "  [pool.discovery]\n  name = \"app.internal\"\n  port = 8000\n  refresh = \"5s\"\n"
        "  hold = \"0s\"\n  weight = 3\n");
    EXPECT_EQ(by_name.errors, Errors{});
    ASSERT_TRUE(by_name.config.pools.at(0).discovery);
    const DiscoveryConfig& d = *by_name.config.pools.at(0).discovery;
    EXPECT_EQ(d.name, "app.internal");
    EXPECT_EQ(d.port, 8000);
    EXPECT_EQ(d.srv, "");
    EXPECT_EQ(d.refresh, Duration{5000});
    EXPECT_EQ(d.hold, Duration{0});
    EXPECT_EQ(d.weight, 3u);

    const Ungated by_srv = listenerUngated(
        "", "  [pool.discovery]\n  name = \"\"\n  srv = \"_http._tcp.app.internal\"\n");
    EXPECT_EQ(by_srv.errors, Errors{});
    const DiscoveryConfig& s = *by_srv.config.pools.at(0).discovery;
    EXPECT_EQ(s.srv, "_http._tcp.app.internal");
    EXPECT_EQ(s.refresh, Duration{10000});
    EXPECT_EQ(s.hold, Duration{60000});
    EXPECT_EQ(s.weight, 1u);
    EXPECT_FALSE(listenerUngated("").config.pools.at(0).discovery);

    EXPECT_EQ(errorsWith("", "  [pool.discovery]\n  name = \"app.internal\"\n  port = 8000\n"),
              Errors{});
}

TEST(SchemaKeys, DiscoveryNeedsExactlyOneOfNameAndSrv) {
    EXPECT_EQ(ungatedErrors("", "  [pool.discovery]\n  port = 8000\n"),
              Errors{"t.toml:7:3: [pool.discovery] needs name (A/AAAA records) or srv (SRV "
                     "records)"});
    EXPECT_EQ(ungatedErrors("",
                            "  [pool.discovery]\n  name = \"a.internal\"\n  port = 1\n"
                            "  srv = \"_x._tcp.a.internal\"\n"),
              Errors{"t.toml:7:3: [pool.discovery] takes name (A/AAAA records) or srv (SRV "
                     "records), not both"});
    EXPECT_EQ(ungatedErrors("", "  [pool.discovery]\n  name = \"a.internal\"\n"),
              Errors{"t.toml:7:3: [pool.discovery] is missing required key \"port\""});
    EXPECT_EQ(ungatedErrors("",
                            "  [pool.discovery]\n  srv = \"_x._tcp.a.internal\"\n  port = 80\n"
                            "  weight = 2\n"),
              (Errors{"t.toml:9:10: pool.discovery.port: SRV records carry the port; remove it",
                      "t.toml:10:12: pool.discovery.weight: SRV records carry their own weight; "
                      "remove it"}));
}

TEST(SchemaKeys, DiscoveryValuesAreValidated) {
    EXPECT_EQ(ungatedErrors("",
                            "  [pool.discovery]\n  name = \"app..internal\"\n  port = 0\n"
                            "  refresh = \"0s\"\n  hold = \"-1s\"\n  weight = 1001\n  ttl = 1\n"),
              (Errors{"t.toml:8:10: pool.discovery.name: invalid DNS name \"app..internal\" "
                      "(labels of letters, digits, '-' and '_', separated by dots)",
                      "t.toml:9:10: pool.discovery.port: 0 is out of range 1..65535",
                      "t.toml:10:13: pool.discovery.refresh: must be greater than 0",
                      "t.toml:11:10: pool.discovery.hold: invalid duration \"-1s\" (expected a "
                      "number with unit ms, s, m or h, e.g. \"250ms\", \"2s\")",
                      "t.toml:12:12: pool.discovery.weight: 1001 is out of range 1..1000",
                      "t.toml:13:3: unknown key \"ttl\" in [pool.discovery]"}));
    EXPECT_EQ(ungatedErrors("", "  [pool.discovery]\n  srv = \"app.internal\"\n"),
              Errors{"t.toml:8:9: pool.discovery.srv: invalid SRV name \"app.internal\" (expected "
                     "e.g. \"_http._tcp.app.internal\")"});
    EXPECT_TRUE(hasErrorContaining(errorsWith("", "discovery = \"app.internal\"\n"),
                                   "pool.discovery: expected a table"));
}

TEST(SchemaKeys, DiscoveryWithoutPortGetsItsError) {
    EXPECT_EQ(errorsWith("", "  [pool.discovery]\n  name = \"a.internal\"\n"),
              (Errors{"t.toml:7:3: [pool.discovery] is missing required key \"port\""}));
    // But an invalid gated value itself gets its validation error only.
    EXPECT_EQ(errorsWith("max_connections_per_ip = 99999999999\n"),
              Errors{"t.toml:5:26: listener.max_connections_per_ip: 99999999999 is out of range "
                     "0..10000000"});
}

// --- what a change is, for reload ------------------------------------------------------------

TEST(SchemaKeys, NewKeysCountAsListenerAndPoolChanges) {
    const Config base = listenerUngated("").config;
    for (const std::string listener_key :
         {"trusted_proxies = [\"10.0.0.0/8\"]\n", "max_connections_per_ip = 3\n",
          "freebind = true\n", "http2 = false\n", "h2c = true\n",
          "http2_max_concurrent_streams = 5\n", "http2_initial_window = 1024\n",
          "  [[listener.rate_limit]]\n  rate = 1\n"}) {
        const Ungated changed = listenerUngated(listener_key);
        ASSERT_EQ(changed.errors, Errors{}) << listener_key;
        const ConfigDiff d = diffConfigs(base, changed.config);
        EXPECT_EQ(d.listeners_changed, std::vector<std::string>{"web"}) << listener_key;
        EXPECT_TRUE(d.pools_changed.empty()) << listener_key;
    }
    for (const std::string pool_key :
         {"slow_start = \"1s\"\n", "  [pool.discovery]\n  name = \"a.internal\"\n  port = 80\n"}) {
        const Ungated changed = listenerUngated("", pool_key);
        ASSERT_EQ(changed.errors, Errors{}) << pool_key;
        const ConfigDiff d = diffConfigs(base, changed.config);
        EXPECT_EQ(d.pools_changed, std::vector<std::string>{"app"}) << pool_key;
        EXPECT_TRUE(d.listeners_changed.empty()) << pool_key;
    }
    // A rate limit's own values and a discovery's too.
    EXPECT_FALSE(diffConfigs(listenerUngated("  [[listener.rate_limit]]\n  rate = 1\n").config,
                             listenerUngated("  [[listener.rate_limit]]\n  rate = 2\n").config)
                     .listeners_changed.empty());
    EXPECT_FALSE(
        diffConfigs(
            listenerUngated("", "  [pool.discovery]\n  name = \"a.internal\"\n  port = 80\n")
                .config,
            listenerUngated("", "  [pool.discovery]\n  name = \"a.internal\"\n  port = 81\n")
                .config)
            .pools_changed.empty());
    EXPECT_TRUE(diffConfigs(listenerUngated("trusted_proxies = [\"10.0.0.0/8\"]\n").config,
                            listenerUngated("trusted_proxies = [\"10.0.0.0/08\"]\n").config)
                    .empty());
}

// --- the reference config --------------------------------------------------------------------

TEST(SchemaKeys, ReferenceConfigsCommentedOutKeysAreValid) {
    // conf/sluice.toml shows some keys commented out ("# key = value", "# [table]": TLS files
    // that must exist to start, examples). Uncommented, they must be valid.
    std::ifstream in(testing::sourceRoot() + "/conf/sluice.toml");
    ASSERT_TRUE(in);
    std::string text;
    std::string line;
    int uncommented = 0;
    while (std::getline(in, line)) {
        const size_t hash = line.find_first_not_of(' ');
        if (hash != std::string::npos && line.compare(hash, 2, "# ") == 0) {
            const std::string rest = line.substr(hash + 2);
            const size_t eq = rest.find(" = ");
            const bool key = eq != std::string::npos && eq > 0 &&
                             rest.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == eq;
            if (key || rest.front() == '[') {
                line = line.substr(0, hash) + rest;
                ++uncommented;
            }
        }
        text += line + "\n";
    }
    EXPECT_EQ(uncommented, 23);
    EXPECT_EQ(errorsOf(text), Errors{});
}

}  // namespace
}  // namespace sluice::config
