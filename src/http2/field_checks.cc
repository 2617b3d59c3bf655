#include "http2/field_checks.h"

namespace sluice::http2 {

namespace {

// By table: every field of every request and response goes through it.
struct LowerTokenTable {
    bool is[256] = {};
    constexpr LowerTokenTable() {
        for (int c = 0; c < 256; ++c) {
            is[c] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' || c == '#' ||
                    c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' ||
                    c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' ||
                    c == '~';
        }
    }
};
constexpr LowerTokenTable kLowerToken;

}  // namespace

bool isLowercaseToken(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!kLowerToken.is[static_cast<unsigned char>(c)]) return false;
    }
    return true;
}

bool isValidFieldValue(std::string_view value) {
    if (value.empty()) return true;
    if (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' ||
        value.back() == '\t') {
        return false;
    }
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
    }
    return true;
}

}  // namespace sluice::http2
