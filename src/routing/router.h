#pragma once
// Picks the pool for an HTTP request on one listener: the first [[listener.route]] whose host
// (exact or "*.suffix", case-insensitive, port ignored) and path prefix match, else the
// listener's default pool. Pure; built once per snapshot and listener.

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "routing/snapshot.h"

namespace sluice::routing {

class Router {
  public:
    Router(const config::ListenerConfig& listener, const Snapshot& snapshot);
    // Pool index in the snapshot, or -1 (no route and no default pool: 404).
    int route(std::string_view host, std::string_view target) const;

  private:
    struct Route {
        std::string host;  // lower-case; "" = any; "*.x" = suffix ".x"
        std::string path_prefix;
        int pool;
    };
    std::vector<Route> routes_;
    int default_pool_;
};

}  // namespace sluice::routing
