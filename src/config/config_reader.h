#pragma once
// Walks a parsed TOML document into a Config, checking every key against the schema in
// shared/design/config.md. Reports into Diagnostics and keeps going, so one pass finds every
// problem. Loader-internal; config_loader.cc is the public entry point.

#include <map>
#include <optional>
#include <string>
#include <toml.hpp>
#include <vector>

#include "config/address_resolver.h"
#include "config/config.h"
#include "config/diagnostics.h"
#include "config/table_reader.h"

namespace sluice::config {

class ConfigReader {
  public:
    // resolve_hostnames: see LoadOptions (config_loader.h).
    ConfigReader(Diagnostics* diags, bool resolve_hostnames)
        : diags_(diags), resolver_(resolve_hostnames) {}

    // `root` must be the document's root table. Addresses are resolved here.
    void read(const toml::value& root, Config* config);

  private:
    // config_reader.cc
    void readGlobal(const toml::value& table, GlobalConfig* global);
    void readLog(const toml::value& table, LogConfig* log);
    void readAdmin(const toml::value& table, AdminConfig* admin);
    void readResolver(const toml::value& table, ResolverConfig* resolver);
    // "10.0.0.2", "10.0.0.2:53", "[::1]:5353", "::1": an IP literal; port 53 when omitted.
    static std::optional<Address> parseNameserver(const std::string& text, std::string* error);
    // A [A-Za-z0-9_.-]{1,64} name; returns the value when present and valid.
    const toml::value* readName(TableReader& reader, const char* key, std::string* out);
    // Parses and resolves; an empty string is "no address" when allow_empty.
    bool readAddress(TableReader& reader, const char* key, bool allow_empty, Address* out);
    bool readNonEmptyString(TableReader& reader, const char* key, std::string* out);
    // readNonEmptyString, and `*at` = "LINE:COL" of the value when it was read.
    bool readNonEmptyString(TableReader& reader, const char* key, std::string* out,
                            std::string* at);
    // Reports a second socket on the same address.
    void claimBind(const Address& address, const toml::value& at, const std::string& what,
                   const std::string& owner);
    // Reports a pool reference to a pool that does not exist.
    void checkPoolRef(const toml::value& at, const std::string& key_path, const std::string& pool);

    // listener_reader.cc
    void readListener(const toml::value& table, ListenerConfig* listener);
    void readListenerTls(const toml::value& table, ListenerConfig* listener);
    void readRoute(const toml::value& table, RouteConfig* route);
    void readRateLimit(const toml::value& table, RateLimitConfig* limit);
    // Keys that only make sense for http listeners, or with or without TLS.
    void checkHttpOnlyKeys(TableReader& r, const ListenerConfig& listener, bool mode_known,
                           const std::string& who);
    // The default tls.alpn of an http listener: ["h2", "http/1.1"] while http2 = true.
    static void defaultAlpn(const toml::value* tls_table, ListenerConfig* listener);
    // trusted_proxies: an array of networks.
    void readNetworks(TableReader& reader, const char* key, std::vector<Network>* out);

    // pool_reader.cc
    void readPool(const toml::value& table, PoolConfig* pool);
    void readHealthCheck(const toml::value& table, HealthCheckConfig* check);
    void readPassiveHealth(const toml::value& table, PassiveHealthConfig* passive);
    void readServer(const toml::value& table, ServerConfig* server);
    void readDiscovery(const toml::value& table, DiscoveryConfig* discovery);

    struct Bind {
        std::string owner;
        Location at;
    };

    Diagnostics* diags_;
    AddressResolver resolver_;
    std::map<std::string, Location> pool_names_;
    std::map<std::string, Location> listener_names_;
    std::map<std::string, Bind> binds_;  // by socketKey() of the address
};

}  // namespace sluice::config
