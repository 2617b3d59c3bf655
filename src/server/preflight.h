#pragma once
// What `sluice -t` checks beyond the configuration itself (shared/design/control.md): that the
// files sluice will write can be opened by the user running the check: error_log and
// access_log files (an existing one opened for append, else its directory writable) and the
// state file's directory (writable, for its temp file + rename). Nothing is created. Each
// problem is "FILE:LINE:COL: KEY: PATH: why" at the key's value, or at 1:1 with "KEY
// (default)" for a default the file does not write.

#include <string>
#include <vector>

#include "config/config.h"

namespace sluice::server {

std::vector<std::string> checkWritablePaths(const config::Config& config);

// "sluice V\nbuilt with OpenSSL ..., libuv ..., llhttp ..., toml11 ...": `sluice -V`.
std::string buildInfo();

}  // namespace sluice::server
