#pragma once
// Plain, validated configuration: what config_loader.h produces from a TOML file.
// The schema and defaults are the contract in shared/design/config.md; every field below
// mirrors one key there. Nothing here does I/O; values are already range-checked.

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/enum_names.h"
#include "base/log.h"

namespace sluice::config {

using Duration = std::chrono::milliseconds;

// Each enum below has its one name table (base/enum_names.h): the names are the values written
// in the file, and what replies and logs print.
using LogLevel = log::Level;  // names: log::kLevelNames

enum class ListenerMode { kHttp, kTcp };
inline constexpr EnumName<ListenerMode> kListenerModeNames[] = {{ListenerMode::kHttp, "http"},
                                                                {ListenerMode::kTcp, "tcp"}};
constexpr const auto& namesOf(ListenerMode) { return kListenerModeNames; }

enum class AccessLogFormat { kCombined, kJson };
inline constexpr EnumName<AccessLogFormat> kAccessLogFormatNames[] = {
    {AccessLogFormat::kCombined, "combined"}, {AccessLogFormat::kJson, "json"}};
constexpr const auto& namesOf(AccessLogFormat) { return kAccessLogFormatNames; }

enum class Algorithm {
    kRoundRobin,
    kWeightedRoundRobin,
    kLeastConn,
    kRandom,
    kPowerOfTwo,
    kEwma,
    kIpHash,
    kHash,
};
inline constexpr EnumName<Algorithm> kAlgorithmNames[] = {
    {Algorithm::kRoundRobin, "round_robin"},
    {Algorithm::kWeightedRoundRobin, "weighted_round_robin"},
    {Algorithm::kLeastConn, "least_conn"},
    {Algorithm::kRandom, "random"},
    {Algorithm::kPowerOfTwo, "power_of_two"},
    {Algorithm::kEwma, "ewma"},
    {Algorithm::kIpHash, "ip_hash"},
    {Algorithm::kHash, "hash"},
};
constexpr const auto& namesOf(Algorithm) { return kAlgorithmNames; }

// Parsed from "client_ip" | "uri" | "header:NAME" | "cookie:NAME" (units.h), not by name.
enum class HashKeyKind { kClientIp, kUri, kHeader, kCookie };

enum class ProxyProtocol { kNone, kV1, kV2 };
inline constexpr EnumName<ProxyProtocol> kProxyProtocolNames[] = {
    {ProxyProtocol::kNone, ""}, {ProxyProtocol::kV1, "v1"}, {ProxyProtocol::kV2, "v2"}};
constexpr const auto& namesOf(ProxyProtocol) { return kProxyProtocolNames; }

enum class HealthCheckType { kHttp, kTcp };
inline constexpr EnumName<HealthCheckType> kHealthCheckTypeNames[] = {
    {HealthCheckType::kHttp, "http"}, {HealthCheckType::kTcp, "tcp"}};
constexpr const auto& namesOf(HealthCheckType) { return kHealthCheckTypeNames; }

enum class TlsVersion { kTls12, kTls13 };
inline constexpr EnumName<TlsVersion> kTlsVersionNames[] = {{TlsVersion::kTls12, "1.2"},
                                                            {TlsVersion::kTls13, "1.3"}};
constexpr const auto& namesOf(TlsVersion) { return kTlsVersionNames; }

static_assert(coversEveryValue(kListenerModeNames) && coversEveryValue(kAccessLogFormatNames) &&
              coversEveryValue(kAlgorithmNames) && coversEveryValue(kProxyProtocolNames) &&
              coversEveryValue(kHealthCheckTypeNames) && coversEveryValue(kTlsVersionNames));

// "host:port" or "[v6]:port", resolved once at load time (first address getaddrinfo returns).
struct Address {
    std::string text;  // as written in the file
    std::string host;  // without brackets
    uint16_t port = 0;
    sockaddr_storage sockaddr{};
    socklen_t sockaddr_len = 0;
};

// "10.0.0.0/8", "192.0.2.7" (a /32), "2001:db8::/32": parsed and checked, host bits zero.
struct Network {
    std::string text;  // as written
    sa_family_t family = AF_INET;
    std::array<uint8_t, 16> address{};  // network byte order; the first 4 bytes for AF_INET
    unsigned prefix_length = 32;
    bool operator==(const Network& other) const {
        return family == other.family && address == other.address &&
               prefix_length == other.prefix_length;
    }
};

struct GlobalConfig {
    unsigned workers = 0;  // 0 = one per core (resolved by the server, not the loader)
    uint64_t max_connections = 65536;
    Duration shutdown_timeout{30000};
    Duration stop_grace{0};  // before shutdown_timeout: serve on while /healthz answers 503
    std::string user;
    std::string group;
    std::string control_socket = "/run/sluice/control.sock";
    unsigned control_socket_mode = 0660;
    std::string state_file = "/var/lib/sluice/state.json";
    std::string state_file_at;  // "LINE:COL" of state_file in the file; "" = not written
};

struct LogConfig {
    LogLevel level = LogLevel::kInfo;
    std::string error_log = "stderr";   // "stderr" or a path
    std::string access_log = "stderr";  // "off" | "stderr" | "stdout" | a path
    // "LINE:COL" of error_log / access_log in the file ("" = not written): for the checks that
    // `sluice -t` makes after loading (the files can be opened), reported at the key.
    std::string error_log_at;
    std::string access_log_at;
    AccessLogFormat access_log_format = AccessLogFormat::kCombined;
};

struct AdminConfig {
    std::optional<Address> listen;  // empty string in the file = no admin endpoint
    // Clients allowed; any other gets 403. Absent in the file: loopback (127.0.0.0/8, ::1/128).
    std::vector<Network> allow;
};

// [resolver]: how hostnames in addresses and [pool.discovery] are resolved.
struct ResolverConfig {
    std::vector<Address> nameservers;  // IP literals; port 53 when not written; [] = resolv.conf
    Duration timeout{2000};            // per query attempt
    unsigned attempts = 2;
};

// Where a value was written (1-based; 0 = not from a file), for errors found after loading,
// such as a certificate that does not parse.
struct SourcePos {
    uint32_t line = 0;
    uint32_t column = 0;
};

struct TlsCertificate {
    std::string cert;
    std::string key;
    SourcePos pos;  // of the { cert, key } entry
};

struct ListenerTlsConfig {
    std::vector<TlsCertificate> certificates;
    TlsVersion min_version = TlsVersion::kTls12;
    std::vector<std::string> alpn{"http/1.1"};  // ["h2", "http/1.1"] if the listener's http2
    std::optional<Address> redirect_http;
};

enum class RateLimitKeyKind { kClientIp, kHeader };

// [[listener.rate_limit]]: a token bucket per key; over it, 429 with Retry-After.
struct RateLimitConfig {
    RateLimitKeyKind key = RateLimitKeyKind::kClientIp;
    std::string header;  // for kHeader: the header's name (requests without it: not limited)
    uint64_t rate = 0;   // requests per `per` (required: at least 1)
    Duration per{1000};
    uint64_t burst = 0;       // requests allowed at once above the steady rate
    std::string path_prefix;  // "" = every request
    uint64_t max_keys = 100000;
    bool operator==(const RateLimitConfig&) const = default;
};

struct RouteConfig {
    std::string host;         // "" = any; exact or "*.suffix"; lower-cased by the loader
    std::string path_prefix;  // "" = any
    std::string pool;
};

struct ListenerConfig {
    std::string name;
    Address bind;
    ListenerMode mode = ListenerMode::kHttp;
    std::string pool;  // "" = none (http with routes only)
    Duration idle_timeout{60000};
    Duration client_header_timeout{10000};
    Duration client_body_timeout{60000};
    uint64_t max_header_bytes = 32 * 1024;
    unsigned max_headers = 100;
    uint64_t max_body_bytes = 0;  // 0 = unlimited
    bool forwarded_headers = true;
    std::string request_id_header = "X-Request-ID";  // "" = off
    bool accept_proxy_protocol = false;
    std::vector<Network> trusted_proxies;  // http: whose X-Forwarded-* are kept
    uint64_t max_connections_per_ip = 0;   // 0 = unlimited
    bool freebind = false;                 // IP_FREEBIND
    bool http2 = true;  // http with tls: offer "h2" by ALPN (the default alpn lists it first)
    bool h2c = false;   // http without tls: HTTP/2 with prior knowledge too
    uint32_t http2_max_concurrent_streams = 100;
    uint64_t http2_initial_window = 64 * 1024;  // per-stream receive window, bytes
    std::optional<ListenerTlsConfig> tls;
    std::vector<RouteConfig> routes;
    std::vector<RateLimitConfig> rate_limits;  // http only; every matching limit applies
};

struct HealthCheckConfig {
    HealthCheckType type = HealthCheckType::kHttp;
    std::string path = "/healthz";
    std::string host;  // "" = the server's address
    // Accepted status ranges, inclusive: "200-399" -> {{200,399}}, "200,204" ->
    // {{200,200},{204,204}}.
    std::vector<std::pair<int, int>> expect_status{{200, 399}};
    Duration interval{2000};
    Duration timeout{1000};
    unsigned rise = 2;
    unsigned fall = 3;
};

struct PassiveHealthConfig {
    unsigned max_fails = 3;
    Duration fail_timeout{10000};
};

struct ServerConfig {
    std::string name;  // defaults to the address text
    Address address;
    unsigned weight = 1;  // 1..1000
    bool backup = false;
    unsigned max_conns = 0;   // 0 = pool default
    bool discovered = false;  // found by [pool.discovery] (discovery/), not written in the file
    bool leaving = false;     // discovered, and gone from DNS: drains, then goes
};

// [pool.discovery]: servers found in DNS. Exactly one of name (A/AAAA, on `port`) and srv.
struct DiscoveryConfig {
    std::string name;   // A and AAAA records: one server per address
    uint16_t port = 0;  // with name (required there); SRV records carry their own
    std::string srv;    // "_http._tcp.app.internal": target, port and weight from the records
    Duration refresh{10000};
    Duration hold{60000};  // the last servers stay this long once the name stops resolving
    unsigned weight = 1;   // of A/AAAA servers (1..1000)
    bool operator==(const DiscoveryConfig&) const = default;
};

struct HashKey {
    HashKeyKind kind = HashKeyKind::kClientIp;
    std::string name;  // header or cookie name for kHeader / kCookie
};

struct PoolConfig {
    std::string name;
    Algorithm algorithm = Algorithm::kRoundRobin;
    HashKey hash_key;
    Duration connect_timeout{3000};
    Duration response_timeout{60000};
    Duration idle_timeout{20000};
    unsigned keepalive = 32;
    unsigned max_conns_per_server = 0;
    Duration queue_timeout{10000};
    unsigned retries = 2;
    bool retry_5xx = false;
    Duration slow_start{0};  // a server that becomes available ramps up to its weight over this
    ProxyProtocol send_proxy_protocol = ProxyProtocol::kNone;
    bool tls = false;
    bool tls_verify = true;
    std::string tls_ca;
    SourcePos tls_pos;  // of tls_ca if set, else of tls
    std::optional<HealthCheckConfig> health_check;
    std::optional<PassiveHealthConfig> passive_health;
    std::optional<DiscoveryConfig> discovery;
    std::vector<ServerConfig> servers;
};

struct Config {
    std::string path;  // file it was loaded from
    GlobalConfig global;
    LogConfig log;
    AdminConfig admin;
    ResolverConfig resolver;
    std::vector<ListenerConfig> listeners;
    std::vector<PoolConfig> pools;

    const PoolConfig* findPool(const std::string& name) const;
    // "FILE:LINE:COL" of `pos` (just FILE when the position is unknown).
    std::string where(SourcePos pos) const;
    size_t serverCount() const;
};

}  // namespace sluice::config
