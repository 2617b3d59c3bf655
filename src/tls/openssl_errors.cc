#include "tls/openssl_errors.h"

#include <openssl/err.h>

#include <system_error>

namespace sluice::tls::internal {

std::string errorReason(unsigned long code) {
    if (code == 0) return "unknown error";
    if (ERR_SYSTEM_ERROR(code)) {
        return std::error_code(ERR_GET_REASON(code), std::generic_category()).message();
    }
    if (const char* reason = ERR_reason_error_string(code)) return reason;
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    return buf;
}

std::string takeError(const char* fallback) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    return code == 0 ? std::string(fallback) : errorReason(code);
}

}  // namespace sluice::tls::internal
