#pragma once
// The servers one pool has found in DNS, and how each answer changes them: pure set logic, no
// I/O, no clock of its own (the caller passes the loop clock).
//
// - An answer with records makes the set exactly its records (one member per address:port,
//   named "ADDRESS_PORT", IPv6 colons as '-'): new records join, records that vanished are
//   marked draining (the caller stops new requests to them and forgets them once idle), a
//   draining member that reappears is back in service, and a weight or backup change updates
//   the member.
// - A failed lookup (error, timeout, NXDOMAIN, empty answer) keeps the set as it is for `hold`
//   from the first failure; the first answer after that deadline drains every member. A good
//   answer ends the failure.
// - Every change of state is reported once, in `Change::log` (one line per change, not one per
//   refresh).

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::discovery {

// One address a lookup returned, as a server.
struct Record {
    std::string ip;  // numeric, no brackets
    uint16_t port = 0;
    unsigned weight = 1;  // 1..1000
    bool backup = false;  // SRV: not in the lowest priority group
    bool operator==(const Record&) const = default;
};

struct Answer {
    enum Status { kOk, kNxDomain, kEmpty, kError };
    Status status = kError;
    std::string detail;           // for kError: c-ares' message ("timeout", ...)
    std::vector<Record> records;  // kOk: at least one
    uint32_t min_ttl_s = 0;       // kOk: the shortest TTL among the records (0 = unknown)
};

const char* statusName(Answer::Status status);

struct Member {
    std::string name;
    Record record;
    bool draining = false;
};

struct Change {
    std::vector<std::string> log;  // lines to log at info/warn, each once
    bool changed = false;          // the members (or their draining marks) changed
};

class DiscoveredSet {
  public:
    static std::string nameOf(const Record& record);

    Change onAnswer(const Answer& answer, uint64_t now_ms, uint64_t hold_ms);
    // A draining member has finished its last request: it goes. False if it was not draining.
    bool forget(const std::string& name);

    const std::vector<Member>& members() const { return members_; }
    bool failing() const { return failing_since_ms_ != 0; }
    uint64_t failingSinceMs() const { return failing_since_ms_; }
    bool held() const { return held_; }  // failing for longer than hold: members drained

  private:
    Change adopt(const std::vector<Record>& records);

    std::vector<Member> members_;    // in the order they were first seen
    uint64_t failing_since_ms_ = 0;  // first failure of the current outage (0 = resolving)
    bool held_ = false;              // the outage outlasted `hold`: members dropped
    Answer::Status last_failure_ = Answer::kOk;
};

}  // namespace sluice::discovery
