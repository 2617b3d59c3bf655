#include "config/library_version.h"

#include <toml.hpp>

namespace sluice::config {

std::string libraryVersion() {
    return "toml11 " + std::to_string(TOML11_VERSION_MAJOR) + "." +
           std::to_string(TOML11_VERSION_MINOR) + "." + std::to_string(TOML11_VERSION_PATCH);
}

}  // namespace sluice::config
