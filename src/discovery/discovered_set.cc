#include "discovery/discovered_set.h"

#include <algorithm>

namespace sluice::discovery {

const char* statusName(Answer::Status status) {
    switch (status) {
        case Answer::kOk:
            return "ok";
        case Answer::kNxDomain:
            return "NXDOMAIN";
        case Answer::kEmpty:
            return "no records";
        case Answer::kError:
            return "error";
    }
    return "error";
}

std::string DiscoveredSet::nameOf(const Record& record) {
    std::string ip = record.ip;
    std::replace(ip.begin(), ip.end(), ':', '-');
    return ip + "_" + std::to_string(record.port);
}

Change DiscoveredSet::adopt(const std::vector<Record>& records) {
    Change change;
    std::vector<std::string> seen;
    for (const Record& record : records) {
        const std::string name = nameOf(record);
        if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;  // duplicate
        seen.push_back(name);
        auto it = std::find_if(members_.begin(), members_.end(),
                               [&](const Member& m) { return m.name == name; });
        if (it == members_.end()) {
            members_.push_back({name, record, false});
            change.log.push_back("server " + name + " discovered");
            change.changed = true;
            continue;
        }
        if (it->draining) {
            it->draining = false;
            change.log.push_back("server " + name + " is back in DNS");
            change.changed = true;
        }
        if (!(it->record == record)) {
            it->record = record;
            change.log.push_back("server " + name + " now has weight " +
                                 std::to_string(record.weight) +
                                 (record.backup ? " (backup)" : ""));
            change.changed = true;
        }
    }
    for (Member& m : members_) {
        if (m.draining || std::find(seen.begin(), seen.end(), m.name) != seen.end()) continue;
        m.draining = true;
        change.log.push_back("server " + m.name + " left DNS: draining");
        change.changed = true;
    }
    return change;
}

Change DiscoveredSet::onAnswer(const Answer& answer, uint64_t now_ms, uint64_t hold_ms) {
    const bool good = answer.status == Answer::kOk && !answer.records.empty();
    if (good) {
        Change change;
        if (failing_since_ms_ != 0) {
            change.log.push_back("resolves again");
            failing_since_ms_ = 0;
            held_ = false;
            last_failure_ = Answer::kOk;
        }
        Change adopted = adopt(answer.records);
        change.log.insert(change.log.end(), adopted.log.begin(), adopted.log.end());
        change.changed = adopted.changed;
        return change;
    }
    Change change;
    const std::string why =
        answer.status == Answer::kError && !answer.detail.empty()
            ? answer.detail
            : statusName(answer.status == Answer::kOk ? Answer::kEmpty : answer.status);
    if (failing_since_ms_ == 0) {
        failing_since_ms_ = now_ms == 0 ? 1 : now_ms;
        last_failure_ = answer.status;
        size_t live = 0;
        for (const Member& m : members_) live += !m.draining;
        change.log.push_back("lookup failed (" + why + "): keeping " + std::to_string(live) +
                             " server(s) for " + std::to_string(hold_ms) + "ms");
    } else if (answer.status != last_failure_) {
        last_failure_ = answer.status;
        change.log.push_back("lookup still failing, now: " + why);
    }
    if (!held_ && now_ms >= failing_since_ms_ + hold_ms) {
        held_ = true;
        Change dropped = adopt({});
        change.log.push_back("lookup failing for longer than hold: removing the servers");
        change.log.insert(change.log.end(), dropped.log.begin(), dropped.log.end());
        change.changed = dropped.changed;
    }
    return change;
}

bool DiscoveredSet::forget(const std::string& name) {
    auto it = std::find_if(members_.begin(), members_.end(),
                           [&](const Member& m) { return m.name == name && m.draining; });
    if (it == members_.end()) return false;
    members_.erase(it);
    return true;
}

}  // namespace sluice::discovery
