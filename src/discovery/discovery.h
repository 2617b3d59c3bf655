#pragma once
// [pool.discovery] for the whole process, on the main thread's loop: one DiscoveredSet and one
// c-ares Resolver per pool that has discovery, re-resolved every `refresh` (sooner when the
// records' TTL is shorter, never more often than once a second).
//
// The supervisor drives it around every publication of a generation:
//   configure(running)      pools that gained, lost or changed discovery start, stop, restart;
//                           an unchanged pool (same [pool.discovery] and [resolver]) keeps its
//                           servers and its schedule; one whose name/srv/port stay keeps its
//                           servers until the next answer.
//   withServers(running, deleted)
//                           the configuration the snapshot is built from: each pool's
//                           discovered servers appended (ServerConfig::discovered; those that
//                           left DNS with `leaving`, which applyToServers turns into drain). A
//                           name that a configured server already has, or that `del server`
//                           deleted, is skipped.
//   adopt(snapshot)         the generation now running: once a leaving server has no request in
//                           flight it is forgotten (and on_change runs).
// A failing name keeps its servers for `hold` from the first failure: the lookups then happen
// at least at the end of hold, which removes them on time.
// on_change runs (from a zero timer, never inside c-ares) when the discovered servers changed:
// the caller publishes again through the same path runtime server changes use.

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "discovery/discovered_set.h"
#include "discovery/resolver.h"
#include "loop/timer.h"
#include "loop/uv_types.h"
#include "routing/snapshot.h"

namespace sluice::discovery {

// A discovered record as a server's address ("10.0.0.5:8000", "[2001:db8::1]:8000").
config::Address addressOf(const Record& record);

class Discovery {
  public:
    Discovery(uv_loop_t* loop, std::function<void()> on_change);
    ~Discovery();
    Discovery(const Discovery&) = delete;
    Discovery& operator=(const Discovery&) = delete;

    void configure(const config::Config& running);
    using Deleted = std::set<std::pair<std::string, std::string>>;  // {pool, server}
    std::shared_ptr<const config::Config> withServers(std::shared_ptr<const config::Config> running,
                                                      const Deleted& deleted = {}) const;
    void adopt(std::shared_ptr<const routing::Snapshot> snapshot);
    // Servers forgotten (drained after leaving DNS) since the last call, as {pool, name}: the
    // caller drops their runtime overrides, which last until a server leaves DNS.
    std::vector<std::pair<std::string, std::string>> takeForgotten();

  private:
    struct PoolEntry;
    void lookup(PoolEntry& entry);
    void onAnswer(PoolEntry& entry, const Answer& answer);
    void checkDrained();
    void changed();

    uv_loop_t* loop_;
    std::function<void()> on_change_;
    std::map<std::string, std::unique_ptr<PoolEntry>> pools_;
    std::shared_ptr<const routing::Snapshot> snapshot_;
    std::vector<std::pair<std::string, std::string>> forgotten_;
    loop::Timer notify_;       // delivers on_change outside c-ares' callbacks
    loop::Timer drain_check_;  // while some server drains: is it idle yet?
};

}  // namespace sluice::discovery
