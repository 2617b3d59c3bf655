#include "proxy/client_admission.h"

#include "base/log.h"

namespace sluice::proxy {

bool admitClient(ProxyContext& ctx, const WorkerSnapshot& snap, size_t listener,
                 const net::TcpConnection& client, edge::ConnectionLimiter::Lease& lease) {
    edge::ConnectionLimiter* limiter = snap.limits->connections[listener].get();
    if (!limiter) return true;
    const auto address = edge::ClientAddress::of(client.peerSockaddr());
    if (!address) return true;  // no IP address to count (cannot happen on a TCP listener)
    const config::ListenerConfig& config = snap.snapshot->config->listeners[listener];
    const uint32_t limit = static_cast<uint32_t>(std::min<uint64_t>(
        config.max_connections_per_ip, edge::ConnectionLimiter::kMaxLimit));
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
