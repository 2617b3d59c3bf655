#pragma once
// Runtime changes made over the control socket (shared/design/control.md "Runtime changes
// survive reloads and restarts") and the pure function that lays them over the configuration
// file: the file says what exists, the overrides adjust it.

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "routing/snapshot.h"
#include "upstream/admin_state.h"

namespace sluice::control {

struct ServerOverride {
    std::string pool;
    std::string name;
    std::optional<upstream::AdminState> state;
    std::optional<unsigned> weight;
    // Runtime-added server (`add server`); address and backup only mean something when added.
    bool added = false;
    std::string address;
    bool backup = false;

    friend bool operator==(const ServerOverride&, const ServerOverride&) = default;
};

struct RuntimeState {
    // Persisted in the state file, in the order the changes were made.
    std::vector<ServerOverride> servers;
    // Servers of the file removed by `del server`: for this run only (not persisted; a reload or
    // restart brings them back).
    std::set<std::pair<std::string, std::string>> deleted;  // {pool, name}

    friend bool operator==(const RuntimeState&, const RuntimeState&) = default;
};

// The override of pool/name, or nullptr.
const ServerOverride* findOverride(const RuntimeState& state, const std::string& pool,
                                   const std::string& name);
ServerOverride* findOverride(RuntimeState& state, const std::string& pool, const std::string& name);

// Resolves an address written at runtime ("host:port"); false with *error (a short phrase).
using ResolveAddress =
    std::function<bool(const std::string& text, config::Address* address, std::string* error)>;
// parseAddress + a one-shot config::AddressResolver (numeric addresses need no lookup).
bool resolveAddress(const std::string& text, config::Address* address, std::string* error);

struct Applied {
    std::shared_ptr<const config::Config> config;
    // The overrides as they stand over this file: a runtime-added server the file now defines
    // (or whose pool is gone) is no longer "added", and its entry goes when nothing else is left
    // in it (or its pool is gone).
    RuntimeState overrides;
    // What the caller should report, e.g. "server app/app9 is now defined by the config file;
    // its runtime addition is dropped".
    std::vector<std::string> notes;
};

// The running configuration: `file` plus the runtime-added servers (appended to their pool, in
// the order they were added; one whose address does not resolve is left out with a note), minus
// the deleted ones. When the file defines a server with the pool and name of a runtime-added one,
// the file wins. Overrides of servers that do not exist are kept (they apply if the server comes
// back). Pure but for `resolve`.
Applied apply(const config::Config& file, const RuntimeState& overrides,
              const ResolveAddress& resolve = resolveAddress);

// Stores each server's admin state and weight in its shared ServerState: the override's, else
// ready and the configured weight; a discovered server that left DNS (leaving) drains. Main thread;
// the workers see it at their next pick.
void applyToServers(const routing::Snapshot& snapshot, const RuntimeState& overrides);

}  // namespace sluice::control
