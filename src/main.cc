// sluice: command line, then hand off to the configuration loader and the supervisor.

#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/log.h"
#include "base/version.h"
#include "config/config_loader.h"
#include "proxy/http/access_log.h"
#include "server/preflight.h"
#include "server/supervisor.h"
#include "tls/contexts.h"
#include "tls/ticket_keys.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/sluice/sluice.toml";

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: sluice [-c FILE] [-t] [--version] [-V]\n"
                 "  -c FILE         configuration file (default %s)\n"
                 "  -t              validate the configuration (and that its log files and state\n"
                 "                  file directory can be opened) and exit\n"
                 "  --version       print the version and exit\n"
                 "  -V              print the version and build information and exit\n",
                 kDefaultConfig);
}

// The option getopt_long() just refused in `arg` (the argument it was reading), as written:
// "--name" for a long one, "-x" for a short one (possibly inside "-tx").
std::string optionText(std::string_view arg, int short_option) {
    if (arg.starts_with("--")) return std::string(arg.substr(0, arg.find('=')));
    return std::string("-") + static_cast<char>(short_option);
}

// Prints a usage error and the usage; the exit status for a bad command line.
int usageError(const std::string& message) {
    std::fprintf(stderr, "sluice: %s\n", message.c_str());
    usage(stderr);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    // Before anything else: the path this binary was started from (an upgrade executes it
    // again, so a package's newer binary) and what a process being upgraded handed over.
    const auto launch = sluice::server::LaunchInfo::current(argc, argv);
    sluice::server::Inheritance inherited;
    {
        std::string error;
        if (!sluice::server::Inheritance::fromEnvironment(&inherited, &error)) {
            std::fprintf(stderr, "sluice: %s\n", error.c_str());
            return 1;
        }
    }
    std::string config_path = kDefaultConfig;
    bool test_only = false;
    // "+": options end at the first other argument (which is then an error), as they are read
    // in order: `sluice extra --version` is a usage error, not the version.
    static const option kOptions[] = {{"version", no_argument, nullptr, 'v'},
                                      {"help", no_argument, nullptr, 'h'},
                                      {nullptr, 0, nullptr, 0}};
    opterr = 0;  // our messages, not getopt's
    for (int at = optind, opt; (opt = getopt_long(argc, argv, "+:c:tvVh", kOptions, nullptr)) != -1;
         at = optind) {
        switch (opt) {
            case 'c':
                config_path = optarg;
                break;
            case 't':
                test_only = true;
                break;
            case 'v':
                std::printf("sluice %s\n", sluice::kVersion);
                return 0;
            case 'V':
                std::fputs(sluice::server::buildInfo().c_str(), stdout);
                return 0;
            case 'h':
                usage(stdout);
                return 0;
            case ':':
                return usageError("option -c needs FILE");
            default:
                return usageError("unknown argument '" + optionText(argv[at], optopt) + "'");
        }
    }
    if (optind < argc) return usageError("unknown argument '" + std::string(argv[optind]) + "'");

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
        // The files it will write, as the user running the check (ExecStartPre: sluice's).
        if (const auto problems = sluice::server::checkWritablePaths(config); !problems.empty())
            return invalid(problems);
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
    sluice::server::Supervisor supervisor(std::move(config), launch, std::move(inherited));
    return supervisor.run();
}
