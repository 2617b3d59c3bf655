#include "loop/library_version.h"

#include <uv.h>

namespace sluice::loop {

std::string libraryVersion() { return std::string("libuv ") + uv_version_string(); }

}  // namespace sluice::loop
