#pragma once
// The bytes a pool's consistent-hash balancer hashes for one request: the client address for
// ip_hash and hash_key = "client_ip", the request target for "uri", a header's value for
// "header:NAME", a cookie's value for "cookie:NAME". "" when the request has no such value (the
// balancer then falls back to any eligible server) and for algorithms that do not hash.
// Pure; the view points into `head` or `client_ip`.

#include <string_view>

#include "config/config.h"
#include "http/message.h"

namespace sluice::proxy {

std::string_view hashKeyOf(const config::PoolConfig& pool, const http::RequestHead& head,
                           std::string_view client_ip);

// Value of cookie `name` in a Cookie header value ("a=1; b=2"), or "".
std::string_view cookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace sluice::proxy
