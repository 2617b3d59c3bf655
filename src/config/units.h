#pragma once
// Text forms of the config value types (shared/design/config.md, "Value types"): durations,
// sizes, names, octal modes. Pure functions, no toml11, no I/O; errors are short phrases the
// loader prefixes with the key and a FILE:LINE:COL location.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace sluice::config {

// Longest duration accepted anywhere (365 days); keeps every timer value far from overflow.
inline constexpr Duration kMaxDuration{365LL * 24 * 3600 * 1000};

// "250ms", "2s", "5m", "1h" (^[0-9]+(ms|s|m|h)$). Bare numbers ("30") are an error.
// Returns nullopt and sets *error on failure.
std::optional<Duration> parseDuration(std::string_view text, std::string* error);

// "64KiB", "10MiB", "1GiB" (^[0-9]+(KiB|MiB|GiB)$). Integers are handled by the caller.
std::optional<uint64_t> parseSize(std::string_view text, std::string* error);

// [A-Za-z0-9_.-]{1,64}
bool isValidName(std::string_view name);

// RFC 9110 token: header and cookie names.
bool isToken(std::string_view text);

// "0660", "660", "0750": at most four octal digits, value <= 07777.
std::optional<unsigned> parseOctalMode(std::string_view text, std::string* error);

// "200", "200-399", "200,204", "200-299,304": each code 100..599, ranges ascending.
std::optional<std::vector<std::pair<int, int>>> parseStatusRanges(std::string_view text,
                                                                  std::string* error);

// "client_ip" | "uri" | "header:NAME" | "cookie:NAME" (NAME a token).
std::optional<HashKey> parseHashKey(std::string_view text, std::string* error);

// "10.0.0.0/8", "192.0.2.7" (/32), "2001:db8::/32", "::1" (/128): an IP literal and an
// optional prefix length within its family's range, with no bit set past the prefix.
std::optional<Network> parseNetwork(std::string_view text, std::string* error);

// A [[listener.rate_limit]] key: "client_ip" | "header:NAME" (NAME a token).
// Returns false and sets *error on failure.
bool parseRateLimitKey(std::string_view text, RateLimitConfig* limit, std::string* error);

// A DNS name: dot-separated labels of 1..63 letters, digits, '-' or '_' (SRV labels), 253
// characters at most, one trailing dot allowed ("app.internal", "_http._tcp.app.internal.").
bool isDnsName(std::string_view name);

// Edit distance, for "did you mean" hints.
size_t levenshtein(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is a plausible misspelling (distance <= 2 and
// shorter than the word), else "".
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace sluice::config
