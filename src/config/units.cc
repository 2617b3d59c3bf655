#include "config/units.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <limits>

namespace sluice::config {
namespace {

bool allDigits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits only, checked by the caller; nullopt on overflow.
std::optional<uint64_t> toUnsigned(std::string_view digits) {
    uint64_t value = 0;
    for (char c : digits) {
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (value > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
        value = value * 10 + d;
    }
    return value;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::optional<Duration> parseDuration(std::string_view text, std::string* error) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const std::string_view number = text.substr(0, digits);
    const std::string_view unit = text.substr(digits);
    if (number.empty() || (unit != "ms" && unit != "s" && unit != "m" && unit != "h")) {
        if (allDigits(text)) {
            *error = "a duration needs a unit: write \"" + std::string(text) + "s\" or \"" +
                     std::string(text) + "ms\"";
        } else {
            *error = "invalid duration \"" + std::string(text) +
                     "\" (expected a number with unit ms, s, m or h, e.g. \"250ms\", \"2s\")";
        }
        return std::nullopt;
    }
    const uint64_t unit_ms = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : 3600000;
    const auto value = toUnsigned(number);
    const auto max = static_cast<uint64_t>(kMaxDuration.count());
    if (!value || *value > max / unit_ms) {
        *error = "duration \"" + std::string(text) + "\" is too long (at most 365 days)";
        return std::nullopt;
    }
    return Duration{static_cast<Duration::rep>(*value * unit_ms)};
}

std::optional<uint64_t> parseSize(std::string_view text, std::string* error) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const std::string_view number = text.substr(0, digits);
    const std::string_view unit = text.substr(digits);
    int shift = -1;
    if (unit == "KiB") shift = 10;
    if (unit == "MiB") shift = 20;
    if (unit == "GiB") shift = 30;
    if (number.empty() || shift < 0) {
        *error = "invalid size \"" + std::string(text) +
                 "\" (expected an integer number of bytes, or a string like \"64KiB\", "
                 "\"10MiB\", \"1GiB\")";
        return std::nullopt;
    }
    const auto value = toUnsigned(number);
    if (!value || *value > (std::numeric_limits<uint64_t>::max() >> shift)) {
        *error = "size \"" + std::string(text) + "\" is too large";
        return std::nullopt;
    }
    return *value << shift;
}

bool isValidName(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

bool isToken(std::string_view text) {
    static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
    if (text.empty()) return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               kSpecials.find(c) != std::string_view::npos;
    });
}

std::optional<unsigned> parseOctalMode(std::string_view text, std::string* error) {
    const bool octal =
        text.size() >= 3 && text.size() <= 4 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
    if (!octal) {
        *error = "invalid file mode \"" + std::string(text) +
                 "\" (expected an octal string like \"0660\")";
        return std::nullopt;
    }
    unsigned mode = 0;
    for (char c : text) mode = mode * 8 + static_cast<unsigned>(c - '0');
    return mode;
}

std::optional<std::vector<std::pair<int, int>>> parseStatusRanges(std::string_view text,
                                                                  std::string* error) {
    const auto fail = [&](const std::string& why) {
        *error = "invalid status list \"" + std::string(text) + "\": " + why +
                 " (expected e.g. \"200\", \"200-399\" or \"200,204\")";
        return std::nullopt;
    };
    const auto code = [](std::string_view s) -> int {
        s = trimmed(s);
        if (s.size() != 3 || !allDigits(s)) return -1;
        const int value = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        return value >= 100 && value <= 599 ? value : -1;
    };
    std::vector<std::pair<int, int>> ranges;
    std::string_view rest = text;
    while (true) {
        const size_t comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        const size_t dash = item.find('-');
        const std::string_view lo_text = item.substr(0, dash);
        const std::string_view hi_text =
            dash == std::string_view::npos ? lo_text : item.substr(dash + 1);
        const int lo = code(lo_text);
        const int hi = code(hi_text);
        if (lo < 0 || hi < 0) {
            const std::string_view bad = trimmed(lo < 0 ? lo_text : hi_text);
            return fail("\"" + std::string(bad) + "\" is not a status code 100..599");
        }
        if (lo > hi) return fail("range \"" + std::string(trimmed(item)) + "\" is descending");
        ranges.emplace_back(lo, hi);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return ranges;
}

std::optional<HashKey> parseHashKey(std::string_view text, std::string* error) {
    const auto fail = [&]() {
        *error = "invalid hash_key \"" + std::string(text) +
                 "\"; expected \"client_ip\", \"uri\", \"header:NAME\" or \"cookie:NAME\"";
        return std::nullopt;
    };
    if (text == "client_ip") return HashKey{HashKeyKind::kClientIp, ""};
    if (text == "uri") return HashKey{HashKeyKind::kUri, ""};
    for (const auto& [prefix, kind] :
         {std::pair{std::string_view("header:"), HashKeyKind::kHeader},
          std::pair{std::string_view("cookie:"), HashKeyKind::kCookie}}) {
        if (text.substr(0, prefix.size()) == prefix) {
            const std::string_view name = text.substr(prefix.size());
            if (!isToken(name)) return fail();
            return HashKey{kind, std::string(name)};
        }
    }
    return fail();
}

std::optional<Network> parseNetwork(std::string_view text, std::string* error) {
    const auto fail = [&](const std::string& why) {
        *error = "invalid network \"" + std::string(text) + "\": " + why;
        return std::nullopt;
    };
    Network network;
    network.text = std::string(text);
    const size_t slash = text.find('/');
    const std::string host(text.substr(0, slash));
    if (inet_pton(AF_INET, host.c_str(), network.address.data()) == 1) {
        network.family = AF_INET;
        network.prefix_length = 32;
    } else if (inet_pton(AF_INET6, host.c_str(), network.address.data()) == 1) {
        network.family = AF_INET6;
        network.prefix_length = 128;
    } else {
        return fail(
            "expected an IP address with an optional /prefix, e.g. \"10.0.0.0/8\" or "
            "\"2001:db8::/32\"");
    }
    if (slash != std::string_view::npos) {
        const std::string_view length = text.substr(slash + 1);
        const unsigned max = network.prefix_length;
        const auto value =
            allDigits(length) && length.size() <= 3 ? toUnsigned(length) : std::nullopt;
        if (!value || *value > max) {
            return fail("the prefix length must be 0.." + std::to_string(max));
        }
        network.prefix_length = static_cast<unsigned>(*value);
    }
    // Bits past the prefix: "10.0.0.1/8" is most likely a typo for one of two things.
    const size_t bytes = network.family == AF_INET ? 4 : 16;
    for (size_t bit = network.prefix_length; bit < bytes * 8; ++bit) {
        if (network.address[bit / 8] & (0x80 >> (bit % 8))) {
            Network masked = network;
            for (size_t b = network.prefix_length; b < bytes * 8; ++b) {
                masked.address[b / 8] &= static_cast<uint8_t>(~(0x80 >> (b % 8)));
            }
            char buffer[INET6_ADDRSTRLEN] = {};
            inet_ntop(network.family, masked.address.data(), buffer, sizeof buffer);
            return fail("has bits set after the /" + std::to_string(network.prefix_length) +
                        " prefix; the network is \"" + buffer + "/" +
                        std::to_string(network.prefix_length) + "\"");
        }
    }
    return network;
}

bool parseRateLimitKey(std::string_view text, RateLimitConfig* limit, std::string* error) {
    if (text == "client_ip") {
        limit->key = RateLimitKeyKind::kClientIp;
        limit->header.clear();
        return true;
    }
    constexpr std::string_view kHeader = "header:";
    if (text.substr(0, kHeader.size()) == kHeader && isToken(text.substr(kHeader.size()))) {
        limit->key = RateLimitKeyKind::kHeader;
        limit->header = std::string(text.substr(kHeader.size()));
        return true;
    }
    *error = "invalid key \"" + std::string(text) + "\"; expected \"client_ip\" or \"header:NAME\"";
    return false;
}

bool isDnsName(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty() || name.size() > 253) return false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        const std::string_view label = name.substr(start, dot - start);
        if (label.empty() || label.size() > 63) return false;
        for (const char c : label) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
        }
        if (label.front() == '-' || label.back() == '-') return false;
        start = dot + 1;
    }
    return true;
}

size_t levenshtein(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_distance = 3;  // accept distance <= 2 only
    for (const auto& candidate : candidates) {
        const size_t d = levenshtein(word, candidate);
        if (d < best_distance && d < word.size()) {
            best = candidate;
            best_distance = d;
        }
    }
    return best;
}

}  // namespace sluice::config
