#pragma once
// `[admin] allow`: whether a client address may use the admin endpoint (config.md).

#include <string_view>
#include <vector>

#include "config/config.h"

namespace sluice::admin {

// `ip` as TcpConnection::peerAddress() gives it ("127.0.0.1", "::1"); an IPv4-mapped IPv6
// address ("::ffff:10.0.0.1") is matched as the IPv4 address it carries. An address that does
// not parse is never allowed.
bool clientAllowed(const std::vector<config::Network>& allow, std::string_view ip);

}  // namespace sluice::admin
