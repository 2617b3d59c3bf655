#pragma once
// What to log while accepting is paused for lack of descriptors or memory (EMFILE, ENFILE,
// ENOBUFS, ENOMEM): such a pause repeats every 100 ms for as long as the shortage lasts, and a
// line per pause flooded the log (~20 lines a second with 2 workers). An episode logs its first
// pause, then at most one summary per kSummaryIntervalMs ("accept: Too many open files: paused
// 50 times in the last 5s"), then one line once accepting has gone kQuietMs without a pause.
// Waiting for a quiet spell keeps a process at the edge of its limit, where accepting works and
// pauses in turn, from logging an end and a new start every few hundred milliseconds.
//
// Pure: the caller passes the loop's clock and logs the lines returned. Not thread-safe: the
// Acceptors keep one per worker thread, so each worker reports for itself without sharing.

#include <cstdint>
#include <string>

namespace sluice::net {

class AcceptPauseLog {
  public:
    static constexpr uint64_t kSummaryIntervalMs = 5000;
    static constexpr uint64_t kQuietMs = 1000;

    // Accepting paused at `now_ms` because accept() failed with `error` (an errno), to be
    // retried in `retry_ms`. Returns the line to log ("" = none).
    std::string paused(uint64_t now_ms, int error, uint64_t retry_ms);
    // Returns the line that ends the episode when its last pause is at least kQuietMs before
    // `now_ms`, else "". Call it after accepting worked, and kQuietMs after a pause.
    std::string settled(uint64_t now_ms);

    bool inEpisode() const { return in_episode_; }

  private:
    bool in_episode_ = false;
    int error_ = 0;                // the latest errno of the episode
    uint64_t started_ms_ = 0;      // first pause of the episode
    uint64_t last_pause_ms_ = 0;   // latest pause
    uint64_t window_ms_ = 0;       // start of the current summary window
    uint64_t window_pauses_ = 0;   // pauses since window_ms_, not reported yet
    uint64_t episode_pauses_ = 0;  // every pause of the episode
};

}  // namespace sluice::net
