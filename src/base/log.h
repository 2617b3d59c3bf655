#pragma once
// Error log: leveled lines "2026-11-24T10:00:00.123Z [warn] message" to stderr or a file.
// Thread-safe: each line is one write(2). reopen() is for SIGUSR1 / reload (logrotate).
// When stderr is the journal (JOURNAL_STREAM names its device and inode, as systemd sets it),
// lines on stderr are "<N>[warn] message" instead: the sd-daemon(3) priority prefix (error 3,
// warn 4, info 6, debug 7) that journald turns into the entry's priority, and no timestamp of
// our own (journald has one).

#include <cstdarg>
#include <string>

#include "base/enum_names.h"

namespace sluice::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };
// Also the names of log.level in the config file.
inline constexpr EnumName<Level> kLevelNames[] = {{Level::kError, "error"},
                                                  {Level::kWarn, "warn"},
                                                  {Level::kInfo, "info"},
                                                  {Level::kDebug, "debug"}};
constexpr const auto& namesOf(Level) { return kLevelNames; }
static_assert(coversEveryValue(kLevelNames));

void setLevel(Level level);
bool enabled(Level level);
// "stderr" or a file path (opened for append). Returns false and keeps the old target on error.
bool setTarget(const std::string& target, std::string* error);
bool reopen(std::string* error);
// Re-reads JOURNAL_STREAM against the current stderr (done once at the first write otherwise).
void detectJournal();
// The sd-daemon priority of `level`.
int journalPriority(Level level);

void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace sluice::log

#define SLUICE_LOG(level, ...)                                                       \
    do {                                                                             \
        if (::sluice::log::enabled(level)) ::sluice::log::write(level, __VA_ARGS__); \
    } while (0)
#define LOG_ERROR(...) SLUICE_LOG(::sluice::log::Level::kError, __VA_ARGS__)
#define LOG_WARN(...) SLUICE_LOG(::sluice::log::Level::kWarn, __VA_ARGS__)
#define LOG_INFO(...) SLUICE_LOG(::sluice::log::Level::kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) SLUICE_LOG(::sluice::log::Level::kDebug, __VA_ARGS__)
