#include "health/health_checker.h"

#include <chrono>

#include "base/log.h"
#include "health/http_probe.h"
#include "health/tcp_probe.h"

namespace sluice::health {
namespace {

int64_t wallClockMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool inMaint(const upstream::ServerState& state) {
    return state.admin.load(std::memory_order_relaxed) == upstream::AdminState::kMaint;
}

}  // namespace

HealthChecker::HealthChecker(uv_loop_t* loop, uint64_t seed)
    : loop_(loop),
      scheduler_(seed),
      timer_(std::make_unique<loop::Timer>(loop, [this] { onTimer(); })) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::stop() {
    if (stopped_) return;
    stopped_ = true;
    // Probes close their connections and timers; the loop frees the handles on its next turn.
    targets_.clear();
    by_name_.clear();
    order_.clear();
    known_.clear();
    timer_.reset();
}

HealthChecker::ProbeSpec HealthChecker::specFor(const config::HealthCheckConfig& check,
                                                const config::ServerConfig& server,
                                                const upstream::Pool& pool) {
    ProbeSpec spec;
    spec.type = check.type;
    spec.timeout = check.timeout;
    spec.tls = pool.tls;
    spec.proxy = pool.config.send_proxy_protocol;
    if (pool.tls) spec.tls_host = server.address.host;
    if (check.type == config::HealthCheckType::kHttp) {
        spec.path = check.path;
        spec.host = check.host.empty() ? server.address.text : check.host;
        spec.expect_status = check.expect_status;
    }
    return spec;
}

std::unique_ptr<Probe> HealthChecker::makeProbe(const ProbeSpec& spec) {
    std::unique_ptr<Probe> probe;
    if (spec.type == config::HealthCheckType::kTcp) {
        probe = std::make_unique<TcpProbe>(loop_, spec.timeout);
    } else {
        probe = std::make_unique<HttpProbe>(loop_, spec.timeout, spec.path, spec.host,
                                            spec.expect_status);
    }
    probe->setTls(spec.tls, spec.tls_host);
    probe->setProxyProtocol(spec.proxy);
    return probe;
}

void HealthChecker::update(std::shared_ptr<const routing::Snapshot> snapshot, bool initial) {
    if (stopped_ || !snapshot) return;
    const uint64_t now = loop::now(loop_);
    std::map<std::pair<std::string, std::string>, TargetId> next_by_name;
    std::vector<TargetId> next_order;
    std::vector<CheckScheduler::NewTarget> added;
    std::set<std::shared_ptr<upstream::ServerState>> next_known;

    for (const auto& pool : snapshot->pools) {
        const auto& check = pool->config.health_check;
        for (const auto& server : pool->servers) {
            next_known.insert(server.state);
            const std::pair<std::string, std::string> key{pool->name(), server.config.name};
            auto old = by_name_.find(key);
            Target* existing = nullptr;
            if (old != by_name_.end()) {
                Target& candidate = *targets_.at(old->second);
                if (candidate.state == server.state) existing = &candidate;
            }
            if (!check) {
                // No active check: always up (also when the pool just lost its check). A server
                // added after start is available from now: its slow start begins.
                server.state->healthy.store(true, std::memory_order_relaxed);
                if (!initial && !known_.count(server.state)) {
                    server.state->ramp_from_ms.store(now, std::memory_order_relaxed);
                }
                continue;
            }
            const ProbeSpec spec = specFor(*check, server.config, *pool);
            const auto interval = static_cast<uint64_t>(check->interval.count());
            if (existing) {
                existing->address = server.config.address;
                if (!(existing->spec == spec)) {
                    existing->spec = spec;
                    existing->probe.reset();  // cancels a check run with the old settings
                }
                existing->health.setThresholds(check->rise, check->fall);
                existing->info.rise = check->rise;
                existing->info.fall = check->fall;
                if (existing->interval_ms != interval) {
                    existing->interval_ms = interval;
                    scheduler_.setInterval(existing->id, interval, now);
                }
                next_by_name[key] = existing->id;
                next_order.push_back(existing->id);
                continue;
            }
            // New to the checker. Present at start, or already serving in the previous
            // generation (its pool had no check): begins up. Added later: begins down.
            const auto seeded = initial ? initial_health_.find(key) : initial_health_.end();
            const bool up =
                seeded != initial_health_.end()
                    ? seeded->second
                    : initial || (known_.count(server.state) > 0 &&
                                  server.state->healthy.load(std::memory_order_relaxed));
            server.state->healthy.store(up, std::memory_order_relaxed);
            auto target = std::make_unique<Target>(
                Target{next_id_++, server.state, server.config.address, spec, interval,
                       HealthState(up, check->rise, check->fall), nullptr, ServerHealth{}});
            target->info.pool = pool->name();
            target->info.server = server.config.name;
            target->info.up = up;
            target->info.rise = check->rise;
            target->info.fall = check->fall;
            target->info.last_change_unix_ms = wallClockMs();
            added.push_back({target->id, interval});
            next_by_name[key] = target->id;
            next_order.push_back(target->id);
            targets_.emplace(target->id, std::move(target));
        }
    }

    // Drop targets that are gone (or were replaced by a new ServerState under the same name).
    std::set<TargetId> keep(next_order.begin(), next_order.end());
    for (auto it = targets_.begin(); it != targets_.end();) {
        if (keep.count(it->first)) {
            ++it;
            continue;
        }
        scheduler_.remove(it->first);
        it = targets_.erase(it);
    }
    by_name_ = std::move(next_by_name);
    order_ = std::move(next_order);
    known_ = std::move(next_known);
    if (!added.empty()) scheduler_.add(added, now);
    arm();
}

std::optional<ServerHealth> HealthChecker::health(const std::string& pool,
                                                  const std::string& server) const {
    auto it = by_name_.find({pool, server});
    if (it == by_name_.end()) return std::nullopt;
    const Target& target = *targets_.at(it->second);
    ServerHealth info = target.info;
    info.check_running = target.probe && target.probe->running();
    return info;
}

std::vector<ServerHealth> HealthChecker::all() const {
    std::vector<ServerHealth> out;
    out.reserve(order_.size());
    for (TargetId id : order_) {
        const Target& target = *targets_.at(id);
        out.push_back(target.info);
        out.back().check_running = target.probe && target.probe->running();
    }
    return out;
}

void HealthChecker::arm() {
    if (stopped_ || !timer_) return;
    const std::optional<uint64_t> due = scheduler_.nextDue();
    if (!due) {
        timer_->stop();
        return;
    }
    const uint64_t now = loop::now(loop_);
    timer_->start(*due > now ? *due - now : 0);
}

void HealthChecker::onTimer() {
    for (TargetId id : scheduler_.popDue(loop::now(loop_))) {
        auto it = targets_.find(id);
        if (it != targets_.end()) startCheck(*it->second);
    }
    arm();
}

void HealthChecker::startCheck(Target& target) {
    if (inMaint(*target.state)) return;                   // maint: no checks, state kept
    if (target.probe && target.probe->running()) return;  // previous check still running
    if (!target.probe) target.probe = makeProbe(target.spec);
    const TargetId id = target.id;
    target.probe->start(reinterpret_cast<const sockaddr*>(&target.address.sockaddr),
                        [this, id](ProbeResult result) { onResult(id, std::move(result)); });
}

void HealthChecker::onResult(TargetId id, ProbeResult result) {
    auto it = targets_.find(id);
    if (it == targets_.end()) return;
    Target& target = *it->second;
    if (inMaint(*target.state)) return;  // entered maint while the check ran: discard
    ServerHealth& info = target.info;
    const bool first = !target.health.checked();
    const HealthState::Transition transition = target.health.record(result.passed);
    ++info.checks;
    if (!result.passed) ++info.checks_failed;
    info.last_passed = result.passed;
    info.last_result = result.detail;
    info.last_check_unix_ms = wallClockMs();
    info.consecutive_passes = target.health.passes();
    info.consecutive_fails = target.health.fails();
    info.up = target.health.up();
    if (transition == HealthState::Transition::kNone) {
        if (first && !result.passed) {
            LOG_INFO("pool %s server %s stays DOWN: first check failed: %s", info.pool.c_str(),
                     info.server.c_str(), result.detail.c_str());
        }
        return;
    }
    target.state->healthy.store(info.up, std::memory_order_relaxed);
    if (info.up) target.state->ramp_from_ms.store(loop::now(loop_), std::memory_order_relaxed);
    info.last_change_unix_ms = info.last_check_unix_ms;
    std::string count;
    if (first) {
        count = "first check";
    } else if (info.up) {
        count = std::to_string(info.consecutive_passes) + "/" +
                std::to_string(target.health.rise()) + " passed";
    } else {
        count = std::to_string(info.consecutive_fails) + "/" +
                std::to_string(target.health.fall()) + " failed";
    }
    if (info.up) {
        ++info.went_up;
        LOG_WARN("pool %s server %s is UP: %s (%s)", info.pool.c_str(), info.server.c_str(),
                 result.detail.c_str(), count.c_str());
    } else {
        ++info.went_down;
        LOG_WARN("pool %s server %s is DOWN: %s (%s)", info.pool.c_str(), info.server.c_str(),
                 result.detail.c_str(), count.c_str());
    }
}

}  // namespace sluice::health
