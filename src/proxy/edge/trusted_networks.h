#pragma once
// Whether a client address lies inside one of a listener's trusted_proxies networks. An IPv4
// client seen as a v4-mapped IPv6 address (::ffff:a.b.c.d, a dual-stack listener) matches the
// IPv4 networks too. Pure; an empty list (the default) trusts nobody without looking.

#include <sys/socket.h>

#include <vector>

#include "config/config.h"

namespace sluice::proxy::edge {

bool inNetworks(const std::vector<config::Network>& networks, const sockaddr& address);

}  // namespace sluice::proxy::edge
