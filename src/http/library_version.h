#pragma once
// The llhttp this build uses, for `sluice -V` ("llhttp X.Y.Z ..."). The only place outside this
// layer learns it (the library's headers stay here).

#include <string>

namespace sluice::http {

std::string libraryVersion();

}  // namespace sluice::http
