// sluice: command line, then hand off to the configuration loader and the supervisor.

#include <cstdio>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "base/log.h"
#include "base/version.h"
#include "config/config_loader.h"
#include "proxy/http/access_log.h"
#include "server/supervisor.h"
#include "tls/contexts.h"
#include "tls/ticket_keys.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/sluice/sluice.toml";

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: sluice [-c FILE] [-t] [--version]\n"
                 "  -c FILE     configuration file (default %s)\n"
                 "  -t          validate the configuration and exit\n"
                 "  --version   print the version and exit\n",
                 kDefaultConfig);
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = kDefaultConfig;
    bool test_only = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-c" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (arg == "-t") {
            test_only = true;
        } else if (arg == "--version" || arg == "-v") {
            std::printf("sluice %s\n", sluice::kVersion);
            return 0;
        } else if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "sluice: unknown argument '%s'\n", arg.c_str());
            usage(stderr);
            return 2;
        }
    }

    const auto invalid = [&config_path](const std::vector<std::string>& errors) {
        for (const auto& message : errors) std::fprintf(stderr, "%s\n", message.c_str());
        std::fprintf(stderr, "sluice: configuration %s is invalid (%zu error%s)\n",
                     config_path.c_str(), errors.size(), errors.size() == 1 ? "" : "s");
        return 1;
    };
    auto loaded = sluice::config::loadConfig(config_path);
    if (auto* errors = std::get_if<sluice::config::ConfigErrors>(&loaded)) {
        return invalid(errors->messages);
    }
    auto& config = std::get<sluice::config::Config>(loaded);
    if (test_only) {
        // Certificates, keys and CA files are part of the configuration: a broken one fails
        // -t too. (A real start builds them in Supervisor::run(), which reports the same errors.)
        auto contexts =
            sluice::tls::buildContexts(config, std::make_shared<sluice::tls::TicketKeys>());
        if (auto* errors = std::get_if<std::vector<std::string>>(&contexts))
            return invalid(*errors);
        std::printf("configuration ok: %zu listeners, %zu pools, %zu servers\n",
                    config.listeners.size(), config.pools.size(), config.serverCount());
        return 0;
    }

    sluice::log::setLevel(config.log.level);
    std::string error;
    if (!sluice::log::setTarget(config.log.error_log, &error)) {
        std::fprintf(stderr, "sluice: error_log %s\n", error.c_str());
        return 1;
    }
    if (!sluice::proxy::accessLog().open(config.log, &error)) {
        std::fprintf(stderr, "sluice: access_log %s\n", error.c_str());
        return 1;
    }
    sluice::server::Supervisor supervisor(std::move(config));
    return supervisor.run();
}
