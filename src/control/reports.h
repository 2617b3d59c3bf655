#pragma once
// The replies of the read-only control commands (shared/design/control.md): `status`,
// `show pools`, `show servers [POOL]` and `show stats`, as aligned text tables, or as one JSON
// object with `json`. They read the process only through control::Process and the overrides
// (to mark what was set at runtime); every reply ends with "\n".

#include <string>

#include "control/process.h"
#include "control/runtime_state.h"

namespace sluice::control {

// "error: MESSAGE\n": what every command answers when it fails.
std::string errorReply(const std::string& message);

std::string statusReply(const Process& process, bool json);
std::string showPoolsReply(const Process& process, bool json);
// `only_pool` "" lists every pool's servers; an unknown pool is an error reply.
std::string showServersReply(const Process& process, const RuntimeState& overrides,
                             const std::string& only_pool, bool json);
std::string showStatsReply(const Process& process, bool json);

}  // namespace sluice::control
