#pragma once
// The service manager's notification socket (sd_notify(3), libsystemd): READY=1, RELOADING=1,
// STOPPING=1, STATUS=..., MAINPID=... (shared/design/control.md "systemd"). Outside systemd
// (NOTIFY_SOCKET unset) nothing is sent and enabled() is false. Thread-safe (one datagram per
// call); a failed send is logged at debug and otherwise ignored: the service manager is an
// observer, serving never depends on it.

#include <string>

namespace sluice::server::systemd {

// NOTIFY_SOCKET is set.
bool enabled();
// Sends `state` (newline-separated KEY=VALUE assignments) as one datagram.
void notify(const std::string& state);
// "RELOADING=1\nMONOTONIC_USEC=N": what systemd (253+, Type=notify-reload) wants with RELOADING=1.
std::string reloadingState();

}  // namespace sluice::server::systemd
