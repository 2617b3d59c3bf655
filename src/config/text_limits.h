#pragma once
// What the raw text of a config file must satisfy before toml11 parses it (config.md,
// "Validation rules": hostile files are errors, never crashes). toml11's parser recurses once per
// nested array or inline table with no limit of its own (10,000 levels overflow the stack) and
// slows down quadratically with the length of a dotted key; these checks keep such a file an
// error with a position. Loader-internal.

#include <cstddef>
#include <string>
#include <string_view>

#include "config/diagnostics.h"

namespace sluice::config {

inline constexpr size_t kMaxConfigBytes = 16 * 1024 * 1024;
inline constexpr int kMaxNestingDepth = 64;

// Checks, in this order, and stops at the first that fails (reporting into diags):
//  - at most kMaxConfigBytes (reported at 1:1);
//  - valid UTF-8 (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF),
//    reported at the first bad byte;
//  - nesting at most kMaxNestingDepth, reported where it is first exceeded. Depth counts the
//    containers a value sits in, as written: one per key of a [table] header (plus one for the
//    array of an [[array]] header), one per component of a dotted key but the last, one per
//    array '[' and inline table '{'. Brackets inside strings (basic, literal, multi-line) and
//    comments do not count.
// Columns are in bytes, 1-based, as toml11 reports them. Returns true when the text may be
// parsed. Not a TOML validator: whatever it cannot make sense of is left to toml11, and it
// never counts less nesting than toml11 would parse.
bool checkTextLimits(std::string_view text, Diagnostics* diags);

// Reads the file at `path`, at most kMaxConfigBytes + 1 bytes (enough for checkTextLimits to
// see that it is too large, and a path such as /dev/zero does not read forever). Returns false
// with errno set when the file cannot be opened or read.
bool readConfigText(const std::string& path, std::string* text);

}  // namespace sluice::config
