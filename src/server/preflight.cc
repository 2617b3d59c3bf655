#include "server/preflight.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/version.h"
#include "config/library_version.h"
#include "http/library_version.h"
#include "loop/library_version.h"
#include "tls/library_version.h"

namespace sluice::server {
namespace {

std::string directoryOf(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// "" when a process of this user can create files in `dir`.
std::string checkDirectory(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return "directory " + dir + ": " + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        return "directory " + dir + ": " + std::strerror(errno);
    }
    return "";
}

// "" when `path` can be opened for append (or created).
std::string checkAppendable(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
        ::close(fd);
        return "";
    }
    if (errno != ENOENT) return std::strerror(errno);
    return checkDirectory(directoryOf(path));
}

}  // namespace

std::vector<std::string> checkWritablePaths(const config::Config& config) {
    std::vector<std::string> problems;
    const auto add = [&](const char* key, const std::string& at, const std::string& path,
                         const std::string& why) {
        if (why.empty()) return;
        problems.push_back(config.path + ":" + (at.empty() ? "1:1" : at) + ": " + key +
                           (at.empty() ? " (default)" : "") + ": " + path + ": " + why);
    };
    const auto& log = config.log;
    if (log.error_log != "stderr")
        add("log.error_log", log.error_log_at, log.error_log, checkAppendable(log.error_log));
    if (log.access_log != "off" && log.access_log != "stderr" && log.access_log != "stdout") {
        add("log.access_log", log.access_log_at, log.access_log, checkAppendable(log.access_log));
    }
    const std::string& state = config.global.state_file;
    if (!state.empty()) {
        add("global.state_file", config.global.state_file_at, state,
            checkDirectory(directoryOf(state)));
    }
    return problems;
}

std::string buildInfo() {
    return std::string("sluice ") + kVersion + "\nbuilt with " + tls::libraryVersion() + ", " +
           loop::libraryVersion() + ", " + http::libraryVersion() + ", " +
           config::libraryVersion() + "\n";
}

}  // namespace sluice::server
