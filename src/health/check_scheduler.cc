#include "health/check_scheduler.h"

#include <algorithm>

namespace sluice::health {

CheckScheduler::CheckScheduler(uint64_t seed) : rng_(seed) {}

void CheckScheduler::add(const std::vector<NewTarget>& targets, uint64_t now_ms) {
    const uint64_t n = targets.size();
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t interval = std::max<uint64_t>(1, targets[i].interval_ms);
        // i * interval / n keeps the whole batch inside the first interval; the fixed gap keeps
        // a small batch (a reload adding a few servers) effectively "at once".
        const uint64_t first = now_ms + std::min(i * kFirstCheckGapMs, i * interval / n);
        schedule(targets[i].id, Entry{first, interval, 0, first});
    }
}

void CheckScheduler::remove(TargetId id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    queue_.erase({it->second.due, id});
    entries_.erase(it);
}

void CheckScheduler::setInterval(TargetId id, uint64_t interval_ms, uint64_t now_ms) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    const uint64_t interval = std::max<uint64_t>(1, interval_ms);
    if (interval == it->second.interval) return;
    const uint64_t first = now_ms + 1 + rng_.below(interval);
    schedule(id, Entry{first, interval, 0, first});
}

std::vector<CheckScheduler::TargetId> CheckScheduler::popDue(uint64_t now_ms) {
    std::vector<TargetId> due;
    while (!queue_.empty() && queue_.begin()->first <= now_ms) {
        const TargetId id = queue_.begin()->second;
        due.push_back(id);
        Entry entry = entries_.at(id);
        // The next slot whose unjittered time lies after now: missed slots are skipped.
        uint64_t slot = entry.slot + 1;
        if (entry.anchor + slot * entry.interval <= now_ms) {
            slot = (now_ms - entry.anchor) / entry.interval + 1;
        }
        entry.slot = slot;
        entry.due = std::max(jitteredDue(entry), now_ms + 1);
        schedule(id, entry);
    }
    return due;
}

std::optional<uint64_t> CheckScheduler::nextDue() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first;
}

std::optional<uint64_t> CheckScheduler::dueOf(TargetId id) const {
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    return it->second.due;
}

void CheckScheduler::schedule(TargetId id, Entry entry) {
    auto [it, inserted] = entries_.try_emplace(id, entry);
    if (!inserted) {
        queue_.erase({it->second.due, id});
        it->second = entry;
    }
    queue_.insert({entry.due, id});
}

uint64_t CheckScheduler::jitteredDue(const Entry& entry) {
    const uint64_t base = entry.anchor + entry.slot * entry.interval;
    const uint64_t bound = jitterBound(entry.interval);
    if (bound == 0) return base;
    const uint64_t offset = rng_.below(2 * bound + 1);  // [0, 2*bound] -> [-bound, +bound]
    return base + offset >= bound ? base + offset - bound : 0;
}

}  // namespace sluice::health
