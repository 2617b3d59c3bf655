#include "base/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

namespace sluice::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_fd{STDERR_FILENO};
std::mutex g_target_mutex;  // guards g_target and fd swaps; never taken by write()
std::string g_target = "stderr";
std::atomic<int> g_journal{-1};  // stderr is the journal: -1 unknown, 0 no, 1 yes

bool stderrIsJournal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

int openTarget(const std::string& target, std::string* error) {
    if (target == "stderr") return STDERR_FILENO;
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 && error) *error = target + ": " + std::strerror(errno);
    return fd;
}

void swapFd(int fd) {
    int old = g_fd.exchange(fd);
    // A writer may still hold the old fd for one write; closing it then loses at most that line.
    if (old != STDERR_FILENO && old != fd) ::close(old);
}

}  // namespace

void setLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool enabled(Level level) {
    return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

bool setTarget(const std::string& target, std::string* error) {
    std::lock_guard lock(g_target_mutex);
    int fd = openTarget(target, error);
    if (fd < 0) return false;
    g_target = target;
    swapFd(fd);
    return true;
}

bool reopen(std::string* error) {
    std::lock_guard lock(g_target_mutex);
    if (g_target == "stderr") return true;
    int fd = openTarget(g_target, error);
    if (fd < 0) return false;
    swapFd(fd);
    return true;
}

void detectJournal() { g_journal.store(stderrIsJournal() ? 1 : 0); }

int journalPriority(Level level) {
    switch (level) {
        case Level::kError:
            return 3;  // LOG_ERR
        case Level::kWarn:
            return 4;  // LOG_WARNING
        case Level::kInfo:
            return 6;  // LOG_INFO
        case Level::kDebug:
            return 7;  // LOG_DEBUG
    }
    return 6;
}

void write(Level level, const char* fmt, ...) {
    char line[4096];
    const std::string_view name = nameOf(level);
    const int fd = g_fd.load(std::memory_order_relaxed);
    if (g_journal.load(std::memory_order_relaxed) < 0) detectJournal();
    int n;
    if (fd == STDERR_FILENO && g_journal.load(std::memory_order_relaxed) == 1) {
        n = std::snprintf(line, sizeof line, "<%d>[%.*s] ", journalPriority(level),
                          static_cast<int>(name.size()), name.data());
    } else {
        timeval tv{};
        gettimeofday(&tv, nullptr);
        tm utc{};
        gmtime_r(&tv.tv_sec, &utc);
        n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ [%.*s] ",
                          utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                          utc.tm_sec, static_cast<int>(tv.tv_usec / 1000),
                          static_cast<int>(name.size()), name.data());
    }
    va_list args;
    va_start(args, fmt);
    int m = std::vsnprintf(line + n, sizeof line - n - 1, fmt, args);
    va_end(args);
    size_t len = n + (m < 0 ? 0 : std::min<size_t>(m, sizeof line - n - 2));
    line[len++] = '\n';
    ssize_t ignored = ::write(fd, line, len);
    (void)ignored;
}

}  // namespace sluice::log
