#include "http/library_version.h"

#include <llhttp.h>

namespace sluice::http {

std::string libraryVersion() {
    return "llhttp " + std::to_string(LLHTTP_VERSION_MAJOR) + "." +
           std::to_string(LLHTTP_VERSION_MINOR) + "." + std::to_string(LLHTTP_VERSION_PATCH);
}

}  // namespace sluice::http
