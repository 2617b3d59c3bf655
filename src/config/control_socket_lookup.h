#pragma once
// sluicectl's default socket: `global.control_socket` of a config file, without validating the
// rest of the file (sluicectl must work even when the config has errors elsewhere).

#include <string>

namespace sluice::config {

// The string value of `global.control_socket` in the TOML file at `path`, or "" when the file is
// missing or unreadable, is not valid TOML, or has no such string key. Never throws.
std::string controlSocketFromFile(const std::string& path);

}  // namespace sluice::config
