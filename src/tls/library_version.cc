#include "tls/library_version.h"

#include <openssl/crypto.h>

namespace sluice::tls {

std::string libraryVersion() { return std::string(OpenSSL_version(OPENSSL_VERSION)); }

}  // namespace sluice::tls
