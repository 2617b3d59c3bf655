#include "net/accept_pause_log.h"

#include <cstdio>
#include <cstring>

namespace sluice::net {

std::string AcceptPauseLog::paused(uint64_t now_ms, int error, uint64_t retry_ms) {
    error_ = error;
    last_pause_ms_ = now_ms;
    ++episode_pauses_;
    char line[256];
    if (!in_episode_) {
        in_episode_ = true;
        started_ms_ = now_ms;
        window_ms_ = now_ms;
        window_pauses_ = 0;
        std::snprintf(line, sizeof line,
                      "accept: %s; pausing accepts, retrying every %llums (repeats summarized "
                      "every %llus)",
                      std::strerror(error), static_cast<unsigned long long>(retry_ms),
                      static_cast<unsigned long long>(kSummaryIntervalMs / 1000));
        return line;
    }
    ++window_pauses_;
    const uint64_t elapsed = now_ms - window_ms_;
    if (elapsed < kSummaryIntervalMs) return {};
    std::snprintf(line, sizeof line, "accept: %s: paused %llu times in the last %llus",
                  std::strerror(error), static_cast<unsigned long long>(window_pauses_),
                  static_cast<unsigned long long>((elapsed + 500) / 1000));
    window_ms_ = now_ms;
    window_pauses_ = 0;
    return line;
}

std::string AcceptPauseLog::settled(uint64_t now_ms) {
    if (!in_episode_ || now_ms - last_pause_ms_ < kQuietMs) return {};
    in_episode_ = false;
    const uint64_t elapsed = last_pause_ms_ - started_ms_;
    char line[256];
    std::snprintf(line, sizeof line, "accept: accepting again after %llu pauses in %llu.%llus (%s)",
                  static_cast<unsigned long long>(episode_pauses_),
                  static_cast<unsigned long long>(elapsed / 1000),
                  static_cast<unsigned long long>(elapsed % 1000 / 100), std::strerror(error_));
    episode_pauses_ = 0;
    return line;
}

}  // namespace sluice::net
