#pragma once
// The bodies of `/metrics` and `/status.json` (shared/design/admin.md), rendered on the main
// thread from what control commands read (control::Process) and the counting scopes of the
// running generation (routing::Snapshot::stats).

#include <cstdint>
#include <string>

#include "control/process.h"
#include "control/runtime_state.h"

namespace sluice::admin {

// What only the process knows: its start and its reload outcomes (main thread).
struct ProcessFacts {
    int64_t start_unix_s = 0;
    uint64_t reloads_ok = 0;
    uint64_t reloads_error = 0;
};

// Prometheus text format 0.0.4, every family of admin.md in its order. Listeners, pools and
// servers in configuration order. Counters are the sum over all workers at this moment.
std::string metricsText(const control::Process& process, const ProcessFacts& facts);

// {"status": `status --json`, "listeners": `show stats --json`'s, "pools": `show pools --json`'s
// rows with `show stats`' requests and latency_ms merged in, "servers": `show servers --json`'s
// rows with requests_by_code (and ejections) from `show stats`}: the same numbers as sluicectl.
std::string statusJson(const control::Process& process, const control::RuntimeState& overrides);

}  // namespace sluice::admin
