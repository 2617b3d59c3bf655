#pragma once
// What a reload changes: listeners, pools and servers added, removed or changed between two
// configs, by name (servers by pool/name). Pure; used for the `reload` reply and the log.

#include <string>
#include <vector>

#include "config/config.h"

namespace sluice::config {

struct ConfigDiff {
    std::vector<std::string> listeners_added, listeners_removed, listeners_changed;
    std::vector<std::string> pools_added, pools_removed, pools_changed;
    std::vector<std::string> servers_added, servers_removed, servers_changed;  // "pool/name"
    bool empty() const;
};

ConfigDiff diffConfigs(const Config& before, const Config& after);

// Field-by-field equality of what the proxy uses (addresses compare by their resolved socket).
bool sameListener(const ListenerConfig& a, const ListenerConfig& b);
bool samePoolSettings(const PoolConfig& a, const PoolConfig& b);  // ignores the server list
bool sameServer(const ServerConfig& a, const ServerConfig& b);

}  // namespace sluice::config
