#include "proxy/client_admission.h"

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "metrics/generation_stats.h"

namespace sluice::proxy {

namespace {

// The path of a request target: origin-form as is, absolute-form after its authority.
std::string_view pathOf(std::string_view target) {
    if (target.empty() || target[0] == '/') return target;
    const size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return target;
    const size_t path = target.find('/', scheme + 3);
    return path == std::string_view::npos ? std::string_view("/") : target.substr(path);
}

}  // namespace

uint32_t checkRateLimits(ProxyContext& ctx, const WorkerSnapshot& snap, size_t listener,
                         const net::TcpConnection& client, const http::RequestHead& head) {
    const auto& rates = snap.limits->rates[listener];
    if (rates.empty()) return 0;
    const std::string_view path = pathOf(head.target);
    const auto address = edge::ClientAddress::of(client.peerSockaddr());
    uint32_t retry_after = 0;
    const auto now_us =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count());
    for (const edge::EdgeLimits::Rate& rate : rates) {
        if (!path.starts_with(rate.path_prefix)) continue;
        std::string_view key;
        if (rate.key == config::RateLimitKeyKind::kClientIp) {
            if (!address) continue;
            key = address->view();
        } else {
            const size_t at = head.headers.find(rate.header);
            if (at == http::HeaderList::npos) continue;  // requests without the header: not limited
            key = head.headers.value(at);
        }
        const auto decision = rate.table->checkUs(key, rate.limit, now_us);
        if (!decision.allowed) retry_after = std::max(retry_after, decision.retry_after_s);
    }
    if (retry_after) {
        ctx.counters().rate_limited.fetch_add(1, std::memory_order_relaxed);
        metrics::requestRateLimited(snap.snapshot->stats.get(), listener);
    }
    return retry_after;
}

bool admitClient(ProxyContext& ctx, const WorkerSnapshot& snap, size_t listener,
                 const net::TcpConnection& client, edge::ConnectionLimiter::Lease& lease) {
    edge::ConnectionLimiter* limiter = snap.limits->connections[listener].get();
    if (!limiter) return true;
    const auto address = edge::ClientAddress::of(client.peerSockaddr());
    if (!address) return true;  // no IP address to count (cannot happen on a TCP listener)
    const config::ListenerConfig& config = snap.snapshot->config->listeners[listener];
    const uint32_t limit = static_cast<uint32_t>(
        std::min<uint64_t>(config.max_connections_per_ip, edge::ConnectionLimiter::kMaxLimit));
    auto admission = limiter->tryAcquire(*address, limit, ctx.now());
    if (admission.admitted) {
        lease = std::move(admission.lease);
        return true;
    }
    ctx.counters().refused_per_ip.fetch_add(1, std::memory_order_relaxed);
    if (admission.log_refusal) {
        LOG_WARN("listener %s: %s is over max_connections_per_ip (%u): connection closed",
                 config.name.c_str(), client.peerAddress().c_str(), limit);
    }
    return false;
}

}  // namespace sluice::proxy
