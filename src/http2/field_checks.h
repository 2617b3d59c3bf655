#pragma once
// Byte rules of HTTP/2 fields (RFC 9113 8.2.1) that the request and response translations share.
// Pure functions; no allocation.

#include <string_view>

namespace sluice::http2 {

// A valid HTTP/2 field name: one or more token characters, none of them upper case.
bool isLowercaseToken(std::string_view name);
// A valid field value: no control character but HTAB (so no NUL, CR or LF), no DEL, and no SP
// or HTAB at either end. Empty is valid.
bool isValidFieldValue(std::string_view value);

}  // namespace sluice::http2
