// Supervisor, admin half: the admin endpoint (shared/design/admin.md).

#include <ctime>

#include "base/log.h"
#include "server/supervisor.h"

namespace sluice::server {

bool Supervisor::startAdmin(std::string* error) {
    admin_facts_.start_unix_s = static_cast<int64_t>(std::time(nullptr));
    if (!config_->admin.listen) return true;
    // The allow list of the running configuration, so a reload changes it at once.
    admin_ = std::make_unique<admin::AdminServer>(
        loop_.raw(), static_cast<admin::Source&>(*this),
        [this]() -> const std::vector<config::Network>& { return config_->admin.allow; });
    if (!admin_->listen(*config_->admin.listen, error)) {
        admin_.reset();
        return false;
    }
    LOG_INFO("admin endpoint on %s", config_->admin.listen->text.c_str());
    return true;
}

std::string Supervisor::metricsText() {
    return admin::metricsText(static_cast<const control::Process&>(*this), admin_facts_);
}

std::string Supervisor::statusJson() {
    return admin::statusJson(static_cast<const control::Process&>(*this), commands_.overrides());
}

}  // namespace sluice::server
