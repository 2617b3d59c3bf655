#include "http/field_rules.h"

#include <cstdint>
#include <cstring>

#include "http/ascii.h"
#include "http/header_list.h"

namespace sluice::http {

namespace {

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// ALPHA / DIGIT / "-" / "." / "_" / "~" by table: every request's Host goes through it.
struct RegNameTable {
    bool is[256] = {};
    constexpr RegNameTable() {
        for (int c = 0; c < 256; ++c) {
            is[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        }
    }
};
constexpr RegNameTable kRegNameChar;

// Splits "host[:port]"; false when the shape is wrong (e.g. "[::1" or "a:b:c").
bool splitAuthority(std::string_view authority, std::string_view& host, std::string_view& port) {
    size_t host_end;
    if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) return false;
        host_end = close + 1;
    } else {
        host_end = authority.find(':');
        if (host_end == std::string_view::npos) host_end = authority.size();
    }
    host = authority.substr(0, host_end);
    port = std::string_view();
    if (host_end == authority.size()) return true;
    if (authority[host_end] != ':') return false;
    port = authority.substr(host_end + 1);
    return true;
}

bool validPort(std::string_view port) {
    if (port.empty() || port.size() > 5) return false;
    unsigned value = 0;
    for (char c : port) {
        if (!isDigit(c)) return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value <= 65535;
}

bool validHost(std::string_view host) {
    if (host.empty()) return false;
    if (host[0] == '[') {
        if (host.size() < 3 || host.back() != ']') return false;
        for (char c : host.substr(1, host.size() - 2)) {
            if (!isHex(c) && c != ':' && c != '.') return false;
        }
        return true;
    }
    for (char c : host) {
        if (!kRegNameChar.is[static_cast<unsigned char>(c)]) return false;
    }
    return true;
}

}  // namespace

bool isTokenChar(char c) {
    if (isAlpha(c) || isDigit(c)) return true;
    return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string_view trimOws(std::string_view s) {
    size_t begin = 0;
    size_t end = s.size();
    while (begin < end && (s[begin] == ' ' || s[begin] == '\t')) ++begin;
    while (end > begin && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
    return s.substr(begin, end - begin);
}

bool parseContentLength(std::string_view value, uint64_t& out) {
    if (value.empty() || value.size() > 19) return false;  // 19 digits < 2^63 needs a check
    uint64_t n = 0;
    for (char c : value) {
        if (!isDigit(c)) return false;
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n > static_cast<uint64_t>(INT64_MAX)) return false;
    out = n;
    return true;
}

CodingVerdict parseTransferEncoding(std::string_view value) {
    unsigned chunked = 0;
    unsigned others = 0;
    bool last_chunked = false;
    size_t pos = 0;
    while (true) {
        size_t comma = value.find(',', pos);
        std::string_view element = value.substr(
            pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        if (pos > 0 && !element.empty() && element[0] == ' ') element.remove_prefix(1);
        if (element.empty()) return CodingVerdict::kInvalid;
        for (char c : element) {
            if (!isTokenChar(c)) return CodingVerdict::kInvalid;
        }
        last_chunked = equalsIgnoreCase(element, "chunked");
        if (last_chunked) {
            ++chunked;
        } else {
            ++others;
        }
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    if (chunked != 1 || !last_chunked) return CodingVerdict::kInvalid;
    return others == 0 ? CodingVerdict::kChunked : CodingVerdict::kUnsupported;
}

bool listHasToken(std::string_view list, std::string_view token) {
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        if (comma == std::string_view::npos) comma = list.size();
        if (equalsIgnoreCase(trimOws(list.substr(pos, comma - pos)), token)) return true;
        pos = comma + 1;
    }
    return false;
}

bool isValidAuthority(std::string_view authority) {
    std::string_view host, port;
    if (!splitAuthority(authority, host, port)) return false;
    if (!validHost(host)) return false;
    return authority.size() == host.size() || validPort(port);
}

bool sameAuthority(std::string_view a, std::string_view b, std::string_view default_port) {
    std::string_view host_a, port_a, host_b, port_b;
    if (!splitAuthority(a, host_a, port_a) || !splitAuthority(b, host_b, port_b)) return false;
    if (!equalsIgnoreCase(host_a, host_b)) return false;
    if (port_a.empty()) port_a = default_port;
    if (port_b.empty()) port_b = default_port;
    // Leading zeros ("080") would compare unequal: stricter, which is the safe direction.
    return port_a == port_b;
}

}  // namespace sluice::http
