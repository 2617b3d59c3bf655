#include "tls/contexts.h"

#include <utility>

namespace sluice::tls {

std::variant<Contexts, std::vector<std::string>> buildContexts(const config::Config& config,
                                                               std::shared_ptr<TicketKeys> keys) {
    Contexts contexts;
    contexts.listeners.resize(config.listeners.size());
    contexts.pools.resize(config.pools.size());
    std::vector<std::string> errors;

    for (size_t i = 0; i < config.listeners.size(); ++i) {
        const config::ListenerConfig& listener = config.listeners[i];
        if (!listener.tls) continue;
        std::vector<std::string> where;
        where.reserve(listener.tls->certificates.size());
        for (const config::TlsCertificate& certificate : listener.tls->certificates) {
            where.push_back(config.where(certificate.pos));
        }
        auto result = ServerContext::create(*listener.tls, keys, where);
        if (auto* context = std::get_if<std::shared_ptr<const ServerContext>>(&result)) {
            contexts.listeners[i] = std::move(*context);
        } else {
            for (std::string& error : std::get<std::vector<std::string>>(result)) {
                errors.push_back(std::move(error));
            }
        }
    }

    for (size_t i = 0; i < config.pools.size(); ++i) {
        const config::PoolConfig& pool = config.pools[i];
        if (!pool.tls) continue;
        auto result =
            ClientContext::create(pool.tls_verify, pool.tls_ca, config.where(pool.tls_pos));
        if (auto* context = std::get_if<std::shared_ptr<const ClientContext>>(&result)) {
            contexts.pools[i] = std::move(*context);
        } else {
            errors.push_back(std::move(std::get<std::string>(result)));
        }
    }

    if (!errors.empty()) return errors;
    return contexts;
}

}  // namespace sluice::tls
