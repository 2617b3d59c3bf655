#pragma once
// Keeps the edge limiters' tables across reloads, by identity, as routing::ServerStateRegistry
// keeps server state: a reload hands the new snapshot the table the old one used when the
// limit is the same one, so counts of open connections and rate-limit debts carry over, and
// old and new connections of a listener count in one table.
//
// Identities (the wiring builds them from the config):
//   ConnectionLimiter: the listener's name.
//   RateLimiter: the listener's name, the key ("client_ip", "header:x-user"), path_prefix, and
//   the ordinal of the limit among the listener's limits with that same key and path_prefix
//   (0 for the first: two limits on one key, say 10/s and 1000/h, must not share a table).
//   rate, per, burst and max_connections_per_ip are not part of it: they travel with each call.
// A changed capacity (max_keys; the connection table's size) gives a new, empty table.
//
// Main thread only. Use at each (re)load:
//   for each limited listener / limit: snapshot.limiter = registry.obtain(identity, capacity);
//   registry.sweep();  // drops tables no limit obtained since the last sweep
// A swept table lives on in the snapshots that still hold it, until their connections drain.

#include <cstddef>
#include <map>
#include <memory>
#include <string>

namespace sluice::proxy::edge {

template <typename Table>  // ConnectionLimiter or RateLimiter: Table(size_t), capacity()
class LimiterRegistry {
  public:
    std::shared_ptr<Table> obtain(const std::string& identity, size_t capacity) {
        Entry& e = tables_[identity];
        if (!e.table || e.capacity != capacity) {
            e.table = std::make_shared<Table>(capacity);
            e.capacity = capacity;
        }
        e.used = true;
        return e.table;
    }

    void sweep() {
        for (auto it = tables_.begin(); it != tables_.end();) {
            if (!it->second.used) {
                it = tables_.erase(it);
            } else {
                it->second.used = false;
                ++it;
            }
        }
    }

    size_t size() const { return tables_.size(); }

  private:
    struct Entry {
        std::shared_ptr<Table> table;
        size_t capacity = 0;
        bool used = false;
    };
    std::map<std::string, Entry> tables_;
};

// The RateLimiter identity described above.
inline std::string rateLimitIdentity(const std::string& listener, const std::string& key,
                                     const std::string& path_prefix, size_t ordinal) {
    std::string id = listener;
    for (const std::string* part : {&key, &path_prefix}) {
        id.push_back('\0');
        id += *part;
    }
    id.push_back('\0');
    id += std::to_string(ordinal);
    return id;
}

}  // namespace sluice::proxy::edge
