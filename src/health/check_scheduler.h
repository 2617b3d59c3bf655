#pragma once
// When each server's next active check runs. Pure: time is passed in (milliseconds of any
// monotonic clock), so tests drive it with a fake clock. Main thread only, not thread-safe.
//
// Contract:
// - add(): the first check of each new target is due at once. A batch of n targets added
//   together is paced: the i-th (0-based) is due at
//   now + min(i * kFirstCheckGapMs, i * interval / n), so the first one runs immediately, a
//   handful run within a few tens of milliseconds, and a large batch (hundreds of servers at
//   start) is spread over at most one interval instead of being probed in one burst. Every
//   first check is due strictly within the first interval.
// - Later checks keep the phase of the first one: check k is due at
//   first + k * interval + jitter_k, jitter_k uniform in [-interval/10, +interval/10], drawn
//   afresh each time (not accumulated), so the spread of a batch never collapses into bursts and
//   the gap between two checks of one server stays within interval +- 2 * interval/10.
// - popDue(now) returns every target due at or before `now` (earliest first) and schedules its
//   next check strictly after `now`; a stalled loop skips missed slots instead of catching up in
//   a burst. Whether a check is still running when its next one is due is the caller's concern.

#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "upstream/balancer/split_mix64.h"

namespace sluice::health {

class CheckScheduler {
  public:
    using TargetId = uint64_t;
    static constexpr uint64_t kFirstCheckGapMs = 10;

    struct NewTarget {
        TargetId id;
        uint64_t interval_ms;
    };

    explicit CheckScheduler(uint64_t seed = 0x5eed);

    // Ids must be unique; re-adding a known id replaces its schedule. Intervals of 0 count as 1.
    void add(const std::vector<NewTarget>& targets, uint64_t now_ms);
    void remove(TargetId id);
    // New interval (reload): the target keeps running, its next check is due within one new
    // interval from now (at a random phase, so a reload does not line all servers up).
    void setInterval(TargetId id, uint64_t interval_ms, uint64_t now_ms);

    std::vector<TargetId> popDue(uint64_t now_ms);
    // Earliest due time; nullopt when there are no targets.
    std::optional<uint64_t> nextDue() const;
    // Due time of one target; nullopt when unknown.
    std::optional<uint64_t> dueOf(TargetId id) const;
    size_t size() const { return entries_.size(); }

    static uint64_t jitterBound(uint64_t interval_ms) { return interval_ms / 10; }

  private:
    struct Entry {
        uint64_t anchor;    // due time of check 0 (the phase)
        uint64_t interval;  // ms, >= 1
        uint64_t slot;      // index k of the pending check
        uint64_t due;
    };
    void schedule(TargetId id, Entry entry);
    uint64_t jitteredDue(const Entry& entry);

    std::unordered_map<TargetId, Entry> entries_;
    std::set<std::pair<uint64_t, TargetId>> queue_;  // (due, id)
    upstream::SplitMix64 rng_;
};

}  // namespace sluice::health
