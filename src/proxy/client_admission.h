#pragma once
// max_connections_per_ip at the door of a session: called once per client connection as soon
// as its address is known (right after accept, before any read; behind a PROXY header, once
// the header is in). Refused: counted (ProcessCounters::refused_per_ip), logged at most once a
// second per address, and the caller closes the connection at once. Admitted: `lease` holds
// the slot until the session (which owns it, after its snapshot) ends.

#include <cstddef>
#include <cstdint>

#include "http/message.h"
#include "net/tcp_connection.h"
#include "proxy/edge/connection_limiter.h"
#include "proxy/proxy_context.h"

namespace sluice::proxy {

// [[listener.rate_limit]] for one request: every limit whose path_prefix matches is charged.
// 0: allowed; else the request is refused (429, nothing sent upstream) and this is its
// Retry-After, seconds until every denying limit has a token again. Counted in
// ProcessCounters::rate_limited.
[[nodiscard]] uint32_t checkRateLimits(ProxyContext& ctx, const WorkerSnapshot& snap,
                                       size_t listener, const net::TcpConnection& client,
                                       const http::RequestHead& head);

[[nodiscard]] bool admitClient(ProxyContext& ctx, const WorkerSnapshot& snap, size_t listener,
                               const net::TcpConnection& client,
                               edge::ConnectionLimiter::Lease& lease);

}  // namespace sluice::proxy
