#pragma once
// Warns when a pool has no available server (every server down, drained, in maintenance or
// ejected: its requests get 503) and again when it recovers, once per change:
//   `pool app has no available server (2 servers): requests get 503`
//   `pool app recovered: 1 of 2 servers available`
// Looks every kPeriodMs on the main loop at the running snapshot (linear in servers; no lock).

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "loop/timer.h"
#include "loop/uv_types.h"
#include "routing/snapshot.h"

namespace sluice::server {

class PoolWatch {
  public:
    static constexpr uint64_t kPeriodMs = 500;
    using SnapshotSource = std::function<std::shared_ptr<const routing::Snapshot>()>;

    PoolWatch(uv_loop_t* loop, SnapshotSource snapshot);
    void stop() { timer_.stop(); }

  private:
    void check();

    uv_loop_t* loop_;
    SnapshotSource snapshot_;
    std::map<std::string, bool> empty_;  // pool name -> had no available server at last look
    loop::Timer timer_;
};

}  // namespace sluice::server
