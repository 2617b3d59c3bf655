#include "upstream/server_selector.h"

#include "base/log.h"
#include "upstream/balancer/slow_start.h"

namespace sluice::upstream {

void TriedSet::add(size_t index) {
    if (index < 64) {
        small_ |= uint64_t{1} << index;
        return;
    }
    index -= 64;
    if (bits_.size() <= index) bits_.resize(index + 1, false);
    bits_[index] = true;
}

bool TriedSet::contains(size_t index) const {
    if (index < 64) return (small_ >> index) & 1;
    index -= 64;
    return index < bits_.size() && bits_[index];
}

ServerSelector::ServerSelector(uv_loop_t* loop, std::shared_ptr<const Pool> pool, uint64_t seed)
    : loop_(loop), pool_(std::move(pool)), queue_timer_(loop, [this] { onQueueTick(); }) {
    std::vector<BalancerServer> servers;
    servers.reserve(pool_->servers.size());
    for (const auto& s : pool_->servers) servers.push_back({s.config.name, s.config.weight});
    balancer_ = makeBalancer(pool_->config.algorithm, std::move(servers), seed);
    loads_.resize(pool_->servers.size());
}

ServerSelector::~ServerSelector() {
    // Sessions dequeue themselves before they go; whatever is left just forgets the queue.
    for (SlotWaiter* w = queue_head_; w;) {
        SlotWaiter* next = w->next_;
        w->queued_ = false;
        w->prev_ = w->next_ = nullptr;
        w = next;
    }
}

uint32_t ServerSelector::capOf(size_t server) const {
    const auto& s = pool_->servers[server];
    return s.config.max_conns ? s.config.max_conns : pool_->config.max_conns_per_server;
}

Selection ServerSelector::acquire(const TriedSet& tried, std::string_view hash_key,
                                  uint64_t now_ms) {
    const auto& servers = pool_->servers;
    // Backups only while no primary is left for this request: none available, or every
    // available one already tried (caps do not count: a full primary tier queues rather than
    // spilling onto backups).
    bool primary_available = false;
    for (size_t i = 0; i < servers.size(); ++i) {
        if (!servers[i].config.backup && servers[i].state->available(now_ms) &&
            !tried.contains(i)) {
            primary_available = true;
            break;
        }
    }
    const bool want_backup = !primary_available;
    bool any_eligible = false;
    bool any_full = false;
    const auto slow_start_ms = static_cast<uint64_t>(pool_->config.slow_start.count());
    for (size_t i = 0; i < servers.size(); ++i) {
        const auto& s = servers[i];
        ServerLoad& load = loads_[i];
        const uint32_t active = s.state->active.load(std::memory_order_relaxed);
        const bool candidate =
            s.config.backup == want_backup && s.state->available(now_ms) && !tried.contains(i);
        const uint32_t cap = capOf(i);
        const bool full = cap != 0 && active >= cap;
        load.eligible = candidate && !full;
        load.weight = s.state->weight.load(std::memory_order_relaxed);
        load.active = active;
        load.share = load.eligible ? slowStartShare(now_ms, s.state->rampFromMs(), slow_start_ms)
                                   : kFullShare;
        any_eligible = any_eligible || load.eligible;
        any_full = any_full || (candidate && full);
    }
    // Take the slot; another worker may have taken the last one since we looked.
    while (any_eligible) {
        PickContext ctx;
        ctx.servers = loads_;
        ctx.hash_key = hash_key;
        ctx.now_ms = now_ms;
        int index = balancer_->pick(ctx);
        if (index < 0) break;
        auto& state = *servers[static_cast<size_t>(index)].state;
        const uint32_t cap = capOf(static_cast<size_t>(index));
        uint32_t active = state.active.load(std::memory_order_relaxed);
        bool got = false;
        while (cap == 0 || active < cap) {
            if (state.active.compare_exchange_weak(active, active + 1, std::memory_order_relaxed)) {
                got = true;
                break;
            }
        }
        if (got) {
            state.requests.fetch_add(1, std::memory_order_relaxed);
            return {Selection::kSelected, index};
        }
        loads_[static_cast<size_t>(index)].eligible = false;
        any_full = true;
        any_eligible = false;
        for (const auto& load : loads_) any_eligible = any_eligible || load.eligible;
    }
    return {any_full ? Selection::kFull : Selection::kNone, -1};
}

void ServerSelector::release(int server, uint64_t) {
    if (server < 0) return;
    pool_->servers[static_cast<size_t>(server)].state->active.fetch_sub(1,
                                                                        std::memory_order_relaxed);
    if (queue_head_) dispatchQueue();
}

void ServerSelector::enqueue(SlotWaiter& waiter, uint64_t now_ms) {
    if (waiter.queued_) return;
    waiter.queued_ = true;
    waiter.deadline_ms_ = now_ms + static_cast<uint64_t>(pool_->config.queue_timeout.count());
    waiter.prev_ = queue_tail_;
    waiter.next_ = nullptr;
    if (queue_tail_)
        queue_tail_->next_ = &waiter;
    else
        queue_head_ = &waiter;
    queue_tail_ = &waiter;
    ++queue_size_;
    pool_->queued.fetch_add(1, std::memory_order_relaxed);
    if (!queue_timer_.active()) queue_timer_.start(kQueuePollMs, kQueuePollMs);
}

void ServerSelector::dequeue(SlotWaiter& waiter) {
    if (!waiter.queued_) return;
    if (waiter.prev_)
        waiter.prev_->next_ = waiter.next_;
    else
        queue_head_ = waiter.next_;
    if (waiter.next_)
        waiter.next_->prev_ = waiter.prev_;
    else
        queue_tail_ = waiter.prev_;
    waiter.prev_ = waiter.next_ = nullptr;
    waiter.queued_ = false;
    --queue_size_;
    pool_->queued.fetch_sub(1, std::memory_order_relaxed);
    if (!queue_head_) queue_timer_.stop();
}

void ServerSelector::dispatchQueue() {
    if (dispatching_) return;  // a waiter's own release re-entered: the loop below goes on
    dispatching_ = true;
    // Strict FIFO: the head waits until it gets a slot; nobody overtakes it.
    while (SlotWaiter* head = queue_head_) {
        dequeue(*head);
        if (!head->onSlotMaybeFree()) {
            // Still no slot: back to the front.
            head->queued_ = true;
            head->prev_ = nullptr;
            head->next_ = queue_head_;
            if (queue_head_)
                queue_head_->prev_ = head;
            else
                queue_tail_ = head;
            queue_head_ = head;
            ++queue_size_;
            pool_->queued.fetch_add(1, std::memory_order_relaxed);
            if (!queue_timer_.active()) queue_timer_.start(kQueuePollMs, kQueuePollMs);
            break;
        }
    }
    dispatching_ = false;
}

void ServerSelector::onQueueTick() {
    const uint64_t now = loop::now(loop_);
    // Time out expired waiters (FIFO: deadlines are in order).
    while (queue_head_ && queue_head_->deadline_ms_ <= now) {
        SlotWaiter* w = queue_head_;
        dequeue(*w);
        w->onQueueTimeout();
    }
    if (queue_head_) dispatchQueue();  // slots freed by other workers
}

void ServerSelector::reportSuccess(int server) {
    if (server < 0) return;
    pool_->servers[static_cast<size_t>(server)].state->consecutive_failures.store(
        0, std::memory_order_relaxed);
}

void ServerSelector::reportFailure(int server, uint64_t now_ms, const char* what) {
    if (server < 0) return;
    const auto& s = pool_->servers[static_cast<size_t>(server)];
    s.state->failures.fetch_add(1, std::memory_order_relaxed);
    const uint32_t fails = s.state->consecutive_failures.fetch_add(1) + 1;
    const auto& passive = pool_->config.passive_health;
    if (!passive || fails < passive->max_fails) return;
    if (s.state->ejected_until_ms.load(std::memory_order_relaxed) > now_ms) return;
    // Never eject the last available server: its requests would have nowhere to go.
    bool another = false;
    for (const auto& other : pool_->servers) {
        if (&other != &s && other.state->available(now_ms)) {
            another = true;
            break;
        }
    }
    if (!another) return;
    const uint64_t ms = static_cast<uint64_t>(passive->fail_timeout.count());
    s.state->ejected_until_ms.store(now_ms + ms, std::memory_order_relaxed);
    s.state->ejections.fetch_add(1, std::memory_order_relaxed);
    LOG_WARN("pool %s server %s ejected for %llums: %u consecutive failures (last: %s)",
             pool_->name().c_str(), s.config.name.c_str(), static_cast<unsigned long long>(ms),
             fails, what);
}

}  // namespace sluice::upstream
