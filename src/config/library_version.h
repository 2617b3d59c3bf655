#pragma once
// The toml11 this build uses, for `sluice -V` ("toml11 X.Y.Z ..."). The only place outside this
// layer learns it (the library's headers stay here).

#include <string>

namespace sluice::config {

std::string libraryVersion();

}  // namespace sluice::config
