#pragma once
// Strict readings of the header fields that decide framing and routing, shared by the request
// and response parsers and the serializer. Pure functions over bytes: no allocation, no throw.

#include <cstdint>
#include <string_view>

namespace sluice::http {

// Content-Length value (OWS already trimmed): 1-19 digits, nothing else (no sign, list, space
// or hex), below 2^63. Returns false for anything else.
bool parseContentLength(std::string_view value, uint64_t& out);

enum class CodingVerdict {
    kChunked,      // exactly one coding: chunked
    kUnsupported,  // a well-formed list ending in chunked with other codings before it (501)
    kInvalid,      // anything else: chunked missing, not last, repeated, empty or odd elements
};
// Transfer-Encoding value (OWS trimmed): comma-separated tokens, optionally one SP after a comma.
CodingVerdict parseTransferEncoding(std::string_view value);

// Whether a comma-separated list (Connection, Upgrade) contains `token`, case-insensitively.
bool listHasToken(std::string_view list, std::string_view token);

// host[:port] where host is a reg-name of ALPHA / DIGIT / "-" / "." / "_" / "~" or an
// IP-literal "[...]" of hex digits, ":" and ".", and port is 1-5 digits up to 65535.
// Empty, userinfo ("@"), paths, spaces and percent-encoding are rejected.
bool isValidAuthority(std::string_view authority);

// Two valid authorities name the same origin: host case-insensitively, ports equal once an
// absent port is read as `default_port` ("80" for http, "443" for https).
bool sameAuthority(std::string_view a, std::string_view b, std::string_view default_port);

bool isTokenChar(char c);

// Trims SP / HTAB at both ends.
std::string_view trimOws(std::string_view s);

}  // namespace sluice::http
