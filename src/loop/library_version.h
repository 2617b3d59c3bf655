#pragma once
// The libuv this build uses, for `sluice -V` ("libuv X.Y.Z ..."). The only place outside this
// layer learns it (the library's headers stay here).

#include <string>

namespace sluice::loop {

std::string libraryVersion();

}  // namespace sluice::loop
