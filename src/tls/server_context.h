#pragma once
// Server-side TLS settings of one listener: one OpenSSL context per certificate, the SNI name
// a client sends choosing among them (exact SAN/CN names first, then "*.suffix" wildcards
// matching one label), the first certificate as default. min_version, ALPN selection from the
// listener's list (server preference) restricted to kServedAlpnProtocols, forward-secret AEAD
// ciphers chosen by server preference (AES-128-GCM first; ChaCha20 for a client that lists it
// first), no renegotiation, no compression, one stateless session ticket per full handshake
// encrypted with the process-wide TicketKeys (so resumption survives reloads).
// Immutable after create(); shared by every worker (OpenSSL contexts are thread safe).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace sluice::tls {

class TicketKeys;

// The protocols sluice speaks behind TLS, the only ones ALPN ever selects whatever a listener's
// `alpn` list says. A client offering none of them gets no ALPN and HTTP/1.1.
inline constexpr std::array<std::string_view, 2> kServedAlpnProtocols = {"h2", "http/1.1"};
bool isServedAlpnProtocol(std::string_view protocol);

class ServerContext {
  public:
    // Loads every certificate chain and key of `tls` (checking that each key matches its
    // certificate). On failure: one message per problem, each prefixed with `where(i)` for
    // certificate i (the loader's "FILE:LINE:COL"), e.g. "...: certificate /etc/x.pem: cannot
    // load: No such file or directory", "...: key /etc/x.key does not match certificate
    // /etc/x.pem".
    static std::variant<std::shared_ptr<const ServerContext>, std::vector<std::string>> create(
        const config::ListenerTlsConfig& tls, std::shared_ptr<TicketKeys> keys,
        const std::vector<std::string>& where);
    ~ServerContext();
    ServerContext(const ServerContext&) = delete;
    ServerContext& operator=(const ServerContext&) = delete;

    // The context new connections start with (the default certificate; SNI may switch).
    SSL_CTX* defaultContext() const;
    // Index of the certificate serving `server_name` (0 = default when nothing matches).
    size_t certificateFor(const std::string& server_name) const;
    // The names each certificate answers for (SAN DNS names, else CN), lower-cased.
    const std::vector<std::string>& namesOf(size_t certificate) const;
    // How many certificates; certificate i's notAfter in Unix seconds (0 = unreadable).
    size_t certificateCount() const;
    int64_t notAfterOf(size_t certificate) const;

  private:
    struct Entry;
    ServerContext();
    std::vector<std::unique_ptr<Entry>> entries_;
    std::shared_ptr<TicketKeys> keys_;
    // The listener's ALPN list without what sluice does not serve, in wire format.
    std::vector<unsigned char> alpn_wire_;
    // The owning shared_ptr (set by create()): a TlsStream keeps the context alive, since its
    // SSL* may still call back into it (SNI, ALPN, tickets) after the last other owner is gone.
    std::weak_ptr<const ServerContext> self_;
    friend struct ServerContextAccess;
};

}  // namespace sluice::tls
