#include "tls/client_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls/openssl_errors.h"

namespace sluice::tls {

namespace {

// ALPN offered to upstream servers (wire format): HTTP/1.1 only.
constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

}  // namespace

ClientContext::~ClientContext() { SSL_CTX_free(ctx_); }

std::variant<std::shared_ptr<const ClientContext>, std::string> ClientContext::create(
    bool verify, const std::string& ca_file, const std::string& where) {
    const std::string prefix = where.empty() ? "" : where + ": ";
    ERR_clear_error();
    SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
    if (raw == nullptr) return prefix + "cannot create TLS context: " + internal::takeError();
    std::shared_ptr<const ClientContext> context(new ClientContext(raw, verify));
    SSL_CTX* ctx = context->ctx_;

    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        return prefix + "cannot configure TLS context: " + internal::takeError();
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn) != 0) {  // 0 = success here
        return prefix + "cannot configure TLS context: " + internal::takeError();
    }
    // A CA file is loaded (and a broken one rejected) even without verification, so turning
    // verification on later cannot surface a bad file only then.
    if (!ca_file.empty()) {
        ERR_clear_error();
        if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
            return prefix + "CA file " + ca_file + ": cannot load: " + internal::takeError();
        }
    } else if (verify) {
        ERR_clear_error();
        if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            return prefix + "cannot load the system CA store: " + internal::takeError();
        }
    }
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    ERR_clear_error();
    return context;
}

}  // namespace sluice::tls
