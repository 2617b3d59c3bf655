#pragma once
// Prior-knowledge HTTP/2 over cleartext (h2c): a client that knows the server speaks HTTP/2
// starts with the 24-byte connection preface instead of an HTTP/1.1 request line. A listener
// with h2c on looks at the first bytes to pick the protocol. (The HTTP/1.1 "Upgrade: h2c"
// dance is not supported: such a request is served as plain HTTP/1.1.)

#include <string_view>

namespace sluice::http2 {

// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class PrefaceMatch {
    kHttp2,     // `first_bytes` start with the whole preface
    kNotHttp2,  // they differ from it somewhere: HTTP/1.x (or garbage for the HTTP/1 parser)
    kNeedMore,  // a proper prefix of the preface (possibly empty): read more before deciding
};
// The decision on the first bytes a client sent. Feed every byte, preface included, to
// ServerSession::feed() when this says kHttp2.
PrefaceMatch looksLikeH2Preface(std::string_view first_bytes);

}  // namespace sluice::http2
