#pragma once
// Strict JSON documents for what the control layer reads (the state file), parsed by
// nlohmann-json (base/json.h): RFC 8259 only (no comments, no trailing commas, valid UTF-8, no
// lone surrogates), and beyond what the library checks, no object may repeat a key and nesting
// stops at kMaxJsonDepth. Never throws on bad input; errors carry a 1-based line and column.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/json.h"

namespace sluice::control {

inline constexpr int kMaxJsonDepth = 64;

struct JsonError {
    size_t offset = 0;    // byte offset of the offending byte (the input's size at its end)
    int line = 1;         // 1-based
    int column = 1;       // 1-based, in bytes
    std::string message;  // e.g. "unexpected ',', expected a value"

    // "LINE:COL: message"
    std::string format() const;
};

// Parses one JSON document (surrounding whitespace allowed). On failure returns nullopt and, if
// `error` is not null, fills it.
std::optional<Json> parseJson(std::string_view text, JsonError* error);

}  // namespace sluice::control
