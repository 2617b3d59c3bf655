#pragma once
// The OpenSSL this build uses, for `sluice -V` ("OpenSSL X.Y.Z ..."). The only place outside this
// layer learns it (the library's headers stay here).

#include <string>

namespace sluice::tls {

std::string libraryVersion();

}  // namespace sluice::tls
