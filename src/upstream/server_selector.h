#pragma once
// Per worker, per pool (not thread-safe): the availability rules, the balancer, per-server
// connection caps with a FIFO queue, passive ejection and the retry budget.
//
// - Eligible = available (admin ready, healthy, not ejected), not yet tried for this request,
//   and below its connection cap; backups are considered only while no primary is available
//   (or every available primary has already been tried for this request).
// - acquire() takes a slot on the chosen server (ServerState::active, shared by all workers,
//   so a cap holds process-wide); release() gives it back and lets queued requests in.
// - When servers are available but all at their cap, the caller queues (enqueue()); queued
//   waiters are offered slots in FIFO order as slots free up, and time out after
//   queue_timeout. Slots freed by other workers are noticed within kQueuePollMs.
// - reportFailure()/reportSuccess() feed passive ejection: max_fails consecutive failures eject
//   a server for fail_timeout, unless it is the last available server of the pool.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "loop/timer.h"
#include "loop/uv_types.h"
#include "upstream/balancer/balancer.h"
#include "upstream/pool.h"
#include "upstream/retry_budget.h"

namespace sluice::upstream {

// Servers already tried for one request (retries never pick the same server twice while another
// is available).
class TriedSet {
  public:
    void clear() {
        small_ = 0;
        bits_.clear();
    }
    void add(size_t index);
    bool contains(size_t index) const;
    bool empty() const { return small_ == 0 && bits_.empty(); }

  private:
    uint64_t small_ = 0;      // indexes below 64 (no allocation for most pools)
    std::vector<bool> bits_;  // index - 64 for the rest
};

struct Selection {
    enum Kind { kSelected, kFull, kNone };
    Kind kind = kNone;
    int index = -1;  // kSelected: the server, its slot held
};

// A request waiting in a pool's queue.
class SlotWaiter {
  public:
    virtual ~SlotWaiter() = default;
    // A slot may have freed: try acquire(); return true when the waiter is done waiting (it got
    // a server, or gave up and answered). Called with the waiter already out of the queue.
    virtual bool onSlotMaybeFree() = 0;
    virtual void onQueueTimeout() = 0;
    bool queued() const { return queued_; }

  private:
    friend class ServerSelector;
    SlotWaiter* prev_ = nullptr;
    SlotWaiter* next_ = nullptr;
    uint64_t deadline_ms_ = 0;
    bool queued_ = false;
};

class ServerSelector {
  public:
    static constexpr uint64_t kQueuePollMs = 10;

    ServerSelector(uv_loop_t* loop, std::shared_ptr<const Pool> pool, uint64_t seed);
    ~ServerSelector();
    ServerSelector(const ServerSelector&) = delete;
    ServerSelector& operator=(const ServerSelector&) = delete;

    Selection acquire(const TriedSet& tried, std::string_view hash_key, uint64_t now_ms);
    void release(int server, uint64_t now_ms);

    void enqueue(SlotWaiter& waiter, uint64_t now_ms);
    void dequeue(SlotWaiter& waiter);
    size_t queued() const { return queue_size_; }

    void reportSuccess(int server);
    void reportFailure(int server, uint64_t now_ms, const char* what);
    void observeLatency(int server, double ms, uint64_t now_ms) {
        balancer_->observeLatency(server, ms, now_ms);
    }
    RetryBudget& retryBudget() { return retry_budget_; }

    const Pool& pool() const { return *pool_; }
    uint32_t capOf(size_t server) const;

  private:
    void dispatchQueue();
    void onQueueTick();

    uv_loop_t* loop_;
    std::shared_ptr<const Pool> pool_;
    std::unique_ptr<Balancer> balancer_;
    std::vector<ServerLoad> loads_;  // scratch, reused for every pick
    RetryBudget retry_budget_;
    SlotWaiter* queue_head_ = nullptr;
    SlotWaiter* queue_tail_ = nullptr;
    size_t queue_size_ = 0;
    bool dispatching_ = false;
    loop::Timer queue_timer_;
};

}  // namespace sluice::upstream
