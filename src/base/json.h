#pragma once
// JSON values and text from nlohmann-json (Debian's nlohmann-json3-dev), with the one policy for
// writing it: compact, members in insertion order, and never invalid. Bytes that are not UTF-8
// (a header value from the network, a name from a file) come out as U+FFFD instead of making
// dump() throw or the text invalid.

#include <nlohmann/json.hpp>
#include <string>

namespace sluice {

using Json = nlohmann::ordered_json;

// Compact text of `value` (no whitespace, no trailing newline); invalid UTF-8 replaced.
inline std::string toJsonText(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace sluice
