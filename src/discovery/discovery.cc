#include "discovery/discovery.h"

#include <algorithm>

#include "base/log.h"
#include "config/address_resolver.h"

namespace sluice::discovery {
namespace {

constexpr uint64_t kMinRefreshMs = 1000;
constexpr uint64_t kDrainCheckMs = 100;

bool sameResolver(const config::ResolverConfig& a, const config::ResolverConfig& b) {
    if (a.timeout != b.timeout || a.attempts != b.attempts ||
        a.nameservers.size() != b.nameservers.size())
        return false;
    for (size_t i = 0; i < a.nameservers.size(); ++i) {
        if (a.nameservers[i].host != b.nameservers[i].host ||
            a.nameservers[i].port != b.nameservers[i].port)
            return false;
    }
    return true;
}

}  // namespace

struct Discovery::PoolEntry {
    std::string pool;
    config::DiscoveryConfig config;
    config::ResolverConfig resolver_config;
    DiscoveredSet set;
    std::unique_ptr<Resolver> resolver;
    std::unique_ptr<loop::Timer> refresh;
    bool querying = false;
};

config::Address addressOf(const Record& record) {
    config::Address address;
    address.host = record.ip;
    address.port = record.port;
    const bool v6 = record.ip.find(':') != std::string::npos;
    address.text = (v6 ? "[" + record.ip + "]" : record.ip) + ":" + std::to_string(record.port);
    // An IP literal from c-ares: the config's own literal path fills the sockaddr, no lookup.
    std::string ignored;
    config::AddressResolver(/*lookups=*/false).resolve(&address, &ignored);
    return address;
}

Discovery::Discovery(uv_loop_t* loop, std::function<void()> on_change)
    : loop_(loop),
      on_change_(std::move(on_change)),
      notify_(loop, [this] { on_change_(); }),
      drain_check_(loop, [this] { checkDrained(); }) {}

Discovery::~Discovery() = default;

void Discovery::configure(const config::Config& running) {
    std::map<std::string, std::unique_ptr<PoolEntry>> next;
    for (const auto& pool : running.pools) {
        if (!pool.discovery) continue;
        auto old = pools_.find(pool.name);
        if (old != pools_.end() && old->second->config == *pool.discovery &&
            sameResolver(old->second->resolver_config, running.resolver)) {
            next[pool.name] = std::move(old->second);  // unchanged: keeps servers and schedule
            continue;
        }
        auto entry = std::make_unique<PoolEntry>();
        entry->pool = pool.name;
        entry->config = *pool.discovery;
        entry->resolver_config = running.resolver;
        if (old != pools_.end() && old->second->config.name == pool.discovery->name &&
            old->second->config.srv == pool.discovery->srv &&
            old->second->config.port == pool.discovery->port) {
            entry->set = std::move(old->second->set);  // same records: the next answer decides
        }
        entry->resolver = std::make_unique<Resolver>(loop_, running.resolver);
        if (!entry->resolver->ok()) {
            LOG_ERROR("pool %s discovery: %s", pool.name.c_str(), entry->resolver->error().c_str());
        }
        PoolEntry* raw = entry.get();
        entry->refresh = std::make_unique<loop::Timer>(loop_, [this, raw] { lookup(*raw); });
        entry->refresh->start(0);  // the first lookup at once
        LOG_INFO(
            "pool %s discovery: following %s %s", pool.name.c_str(),
            pool.discovery->srv.empty() ? "A/AAAA" : "SRV",
            (pool.discovery->srv.empty() ? pool.discovery->name : pool.discovery->srv).c_str());
        next[pool.name] = std::move(entry);
    }
    for (auto& [name, entry] : pools_) {
        if (entry && !next.count(name)) LOG_INFO("pool %s discovery: stopped", name.c_str());
    }
    pools_ = std::move(next);  // stopped ones: their resolver cancels its queries
}

void Discovery::lookup(PoolEntry& entry) {
    if (entry.querying) return;
    entry.querying = true;
    PoolEntry* raw = &entry;
    auto done = [this, raw](Answer answer) { onAnswer(*raw, answer); };
    if (entry.config.srv.empty()) {
        entry.resolver->lookupAddresses(entry.config.name, entry.config.port, entry.config.weight,
                                        done);
    } else {
        entry.resolver->lookupSrv(entry.config.srv, done);
    }
}

void Discovery::onAnswer(PoolEntry& entry, const Answer& answer) {
    entry.querying = false;
    const auto refresh = static_cast<uint64_t>(entry.config.refresh.count());
    const auto hold = static_cast<uint64_t>(entry.config.hold.count());
    const Change change = entry.set.onAnswer(answer, loop::now(loop_), hold);
    for (const auto& line : change.log) {
        if (answer.status == Answer::kOk && !answer.records.empty()) {
            LOG_INFO("pool %s discovery: %s", entry.pool.c_str(), line.c_str());
        } else {
            LOG_WARN("pool %s discovery: %s", entry.pool.c_str(), line.c_str());
        }
    }
    // Honour the records' TTL when it is shorter than `refresh` (never below a second).
    uint64_t next = refresh;
    if (answer.status == Answer::kOk && answer.min_ttl_s > 0) {
        next = std::min<uint64_t>(next, uint64_t{answer.min_ttl_s} * 1000);
    }
    next = std::max(next, kMinRefreshMs);
    // Failing: look again when hold ends, so the servers go on time (not a refresh later).
    const uint64_t now = loop::now(loop_);
    if (entry.set.failing() && !entry.set.held()) {
        const uint64_t end = entry.set.failingSinceMs() + hold;
        next = std::min(next, end > now ? end - now : 0);
    }
    entry.refresh->start(next);
    if (change.changed) changed();
}

void Discovery::changed() {
    if (!notify_.active()) notify_.start(0);
}

std::shared_ptr<const config::Config> Discovery::withServers(
    std::shared_ptr<const config::Config> running, const Deleted& deleted) const {
    if (pools_.empty()) return running;
    auto copy = std::make_shared<config::Config>(*running);
    for (auto& pool : copy->pools) {
        auto it = pools_.find(pool.name);
        if (it == pools_.end()) continue;
        const size_t configured = pool.servers.size();
        for (const Member& m : it->second->set.members()) {
            const auto end = pool.servers.begin() + static_cast<ptrdiff_t>(configured);
            if (std::any_of(pool.servers.begin(), end,
                            [&](const config::ServerConfig& s) { return s.name == m.name; }))
                continue;  // a configured server has the name: it wins
            if (deleted.count({pool.name, m.name})) continue;  // `del server` until a reload
            config::ServerConfig server;
            server.name = m.name;
            server.address = addressOf(m.record);
            server.weight = m.record.weight;
            server.backup = m.record.backup;
            server.discovered = true;
            server.leaving = m.draining;
            pool.servers.push_back(std::move(server));
        }
    }
    return copy;
}

void Discovery::adopt(std::shared_ptr<const routing::Snapshot> snapshot) {
    snapshot_ = std::move(snapshot);
    bool draining = false;
    for (const auto& [name, entry] : pools_) {
        for (const Member& m : entry->set.members()) draining = draining || m.draining;
    }
    if (draining && !drain_check_.active()) drain_check_.start(kDrainCheckMs, kDrainCheckMs);
    if (!draining) drain_check_.stop();
}

std::vector<std::pair<std::string, std::string>> Discovery::takeForgotten() {
    return std::exchange(forgotten_, {});
}

void Discovery::checkDrained() {
    if (!snapshot_) return;
    bool forgot = false;
    for (auto& [name, entry] : pools_) {
        const int index = snapshot_->poolIndex(name);
        std::vector<std::string> idle;
        for (const Member& m : entry->set.members()) {
            if (!m.draining) continue;
            bool busy = false;
            if (index >= 0) {
                for (const auto& s : snapshot_->pools[static_cast<size_t>(index)]->servers) {
                    if (s.config.discovered && s.config.name == m.name &&
                        s.state->active.load(std::memory_order_relaxed) > 0)
                        busy = true;
                }
            }
            if (!busy) idle.push_back(m.name);
        }
        for (const auto& member : idle) {
            if (entry->set.forget(member)) {
                LOG_INFO("pool %s discovery: server %s drained: removed", name.c_str(),
                         member.c_str());
                forgotten_.emplace_back(name, member);
                forgot = true;
            }
        }
    }
    if (forgot) changed();
}

}  // namespace sluice::discovery
