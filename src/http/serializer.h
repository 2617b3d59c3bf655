#pragma once
// Writes message heads for the other side of the proxy: hop-by-hop headers removed (Connection,
// Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade unless tunnelling, and
// the fields named in Connection, but never Host or framing decided here), framing headers
// written from the outgoing framing, forwarding headers added. Appends to `out` (a reusable
// buffer). Pure functions; no allocation once `out` has capacity.

#include <string>
#include <string_view>

#include "http/message.h"

namespace sluice::http {

struct ForwardInfo {
    std::string_view client_ip;  // for X-Forwarded-For
    bool tls = false;            // X-Forwarded-Proto: https / http
    // The client is a trusted proxy (trusted_proxies): its X-Forwarded-For is kept and
    // client_ip appended, its X-Forwarded-Proto/-Host kept (the first non-empty of each).
    // Otherwise all three carry sluice's own values only.
    bool trusted_client = false;
    bool forwarded_headers = true;       // add X-Forwarded-For/-Proto/-Host and Via
    std::string_view request_id_header;  // "" = off
    std::string_view request_id;         // value to send when the request had none
};

// Request to an upstream: always HTTP/1.1. `framing` is kNone, kContentLength (with the
// request's content_length) or kChunked. `keep_alive` false adds "Connection: close".
// When head.upgrade, "Connection: upgrade" and the Upgrade field are kept (websocket only;
// other upgrade protocols such as h2c are stripped by the caller clearing head.upgrade).
void serializeRequestHead(const RequestHead& head, BodyFraming framing, bool keep_alive,
                          const ForwardInfo& info, std::string& out);

// Response to a client speaking HTTP/1.`client_minor`. `framing` is the outgoing framing
// (kChunked only for 1.1 clients; kUntilClose means no length header and the connection closes).
// `keep_alive` false adds "Connection: close"; for HTTP/1.0 clients true adds
// "Connection: keep-alive". `extra` is appended verbatim (e.g. "X-Request-ID: abc\r\n").
void serializeResponseHead(const ResponseHead& head, BodyFraming framing, bool keep_alive,
                           int client_minor, std::string_view extra, std::string& out);

// A short plain-text error response ("502 Bad Gateway\n") with Content-Length, and
// "Connection: close" when `close`. `extra_headers` are appended verbatim. Returns the length
// of its body (what an access log counts as bytes sent).
uint64_t serializeErrorResponse(int status, bool close, std::string_view extra_headers,
                                std::string& out);

// The end of a chunked body, in either direction: the last chunk and its trailer section.
// `trailers` (null or empty: none) are a received trailer section's fields (checked as a head's
// are: RequestParser/ResponseParser::trailers(), or an HTTP/2 trailer block). Left out: what a
// trailer may not carry on (RFC 9110 6.5.1): Content-Length, Transfer-Encoding, Host, Expect,
// the connection fields (Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade) and the
// forwarding fields sluice writes (X-Forwarded-*, Via).
void serializeLastChunk(const HeaderList* trailers, std::string& out);

std::string_view reasonPhrase(int status);

}  // namespace sluice::http
