#pragma once
// Runtime overrides (control.md "Runtime changes survive reloads and restarts") persisted as JSON:
//   {"version":1,"servers":[
//     {"pool":"app","name":"app2","state":"drain","weight":5},
//     {"pool":"app","name":"app9","added":true,"address":"127.0.0.1:8009","backup":false}]}
// Main thread only; blocking file I/O (small file, written on each runtime change). The JSON is
// read and written with nlohmann-json (control/json_reader.h, base/json.h).

#include <string>
#include <string_view>

#include "control/runtime_state.h"

namespace sluice::control {

inline constexpr int kStateFileVersion = 1;

// Only RuntimeState::servers is persisted (deleted servers last for one run).
// Writes atomically: a temporary file in the same directory, fsync, rename over `path`, fsync of
// the directory. Readers see the old or the new file, never a partial one; on failure the old
// file is untouched and the temporary file removed. The file keeps the permission bits of the
// file it replaces, else 0644. Fails (with "PATH: ...") if the directory does not exist.
bool writeStateFile(const std::string& path, const RuntimeState& state, std::string* error);

// A missing file is an empty state (returns true). A file that cannot be read, is not valid JSON,
// or does not match the format (unknown keys, wrong types, unknown state, version != 1,
// duplicate pool/name, address on a server that is not added, added without address) returns
// false with an error "PATH: ..." ("PATH:LINE:COL: ..." for JSON syntax errors); *state is then
// left empty.
bool readStateFile(const std::string& path, RuntimeState* state, std::string* error);

// The JSON text written by writeStateFile (one server per line).
std::string formatStateFile(const RuntimeState& state);

// Parses the text of a state file; `path` is used only in messages.
bool parseStateFile(std::string_view text, const std::string& path, RuntimeState* state,
                    std::string* error);

}  // namespace sluice::control
