#pragma once
// Loads and validates a sluice TOML config (schema: shared/design/config.md).
// The only includer of toml.hpp. Not used on the data path; may allocate freely.

#include <string>
#include <variant>
#include <vector>

#include "config/config.h"

namespace sluice::config {

// Every problem found, each formatted "FILE:LINE:COL: message" (with a did-you-mean hint for
// misspelled keys). Never empty when returned from loadConfig.
struct ConfigErrors {
    std::vector<std::string> messages;
};

struct LoadOptions {
    // false: no name lookups. An address must then be an IP literal; a hostname is reported as
    // unresolvable. For callers that must not do I/O or wait on a resolver (the fuzz target).
    bool resolve_hostnames = true;
};

// Parses, validates and resolves every address. Either a complete Config or all errors; a
// config never half-loads.
std::variant<Config, ConfigErrors> loadConfig(const std::string& path);

// Same, from text already in memory; `path` is used only in messages.
std::variant<Config, ConfigErrors> loadConfigFromString(const std::string& text,
                                                        const std::string& path,
                                                        const LoadOptions& options = {});

}  // namespace sluice::config
