#include "control/paths.h"

#include <cstring>

namespace sluice::control {

std::string parentDirectory(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string errnoText(int err) { return std::strerror(err); }

}  // namespace sluice::control
