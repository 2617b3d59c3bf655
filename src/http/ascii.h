#pragma once
// ASCII helpers for the bytes of HTTP heads (names, tokens, digits): no locale, no allocation.

#include <string_view>

namespace sluice::http {

// ASCII lower case by table: names are compared byte by byte on every message.
struct AsciiLowerTable {
    char to[256] = {};
    constexpr AsciiLowerTable() {
        for (int c = 0; c < 256; ++c) {
            to[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
    }
};
inline constexpr AsciiLowerTable kAsciiLower;

constexpr char lowerAscii(char c) { return kAsciiLower.to[static_cast<unsigned char>(c)]; }

constexpr bool isDigit(char c) { return c >= '0' && c <= '9'; }

// ASCII case-insensitive equality (header names, tokens).
constexpr bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i] && lowerAscii(a[i]) != lowerAscii(b[i])) return false;
    }
    return true;
}

constexpr bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace sluice::http
