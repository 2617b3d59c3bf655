#pragma once
// All TLS contexts one configuration generation needs: per listener (server side) and per pool
// (client side), built on the main thread by `sluice -t`, at start and at every reload, so a
// broken certificate, key or CA file rejects the configuration and changes nothing.

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "config/config.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace sluice::tls {

class TicketKeys;

struct Contexts {
    std::vector<std::shared_ptr<const ServerContext>> listeners;  // by listener index; null = plain
    std::vector<std::shared_ptr<const ClientContext>> pools;      // by pool index; null = plain
};

// Errors are "FILE:LINE:COL: message" (positions recorded by the loader).
std::variant<Contexts, std::vector<std::string>> buildContexts(const config::Config& config,
                                                               std::shared_ptr<TicketKeys> keys);

}  // namespace sluice::tls
