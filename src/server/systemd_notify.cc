#include "server/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <ctime>

#include "base/log.h"

namespace sluice::server::systemd {

bool enabled() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    return socket != nullptr && *socket != '\0';
}

void notify(const std::string& state) {
    if (!enabled()) return;
    const int rc = sd_notify(0, state.c_str());
    if (rc < 0) LOG_DEBUG("sd_notify: %s", std::strerror(-rc));
}

std::string reloadingState() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const unsigned long long usec = static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                                    static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
    return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
}

}  // namespace sluice::server::systemd
