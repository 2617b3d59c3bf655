#pragma once
// Internal to src/tls: what the OpenSSL callbacks and TlsStream need of a ServerContext.

#include <memory>

#include "tls/server_context.h"

typedef struct ssl_st SSL;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace sluice::tls {

struct ServerContextAccess {
    static std::shared_ptr<const ServerContext> self(const ServerContext& ctx) {
        return ctx.self_.lock();
    }
    // OpenSSL callbacks (installed on every per-certificate SSL_CTX). They never throw.
    static int onServerName(SSL* ssl, int* alert, void* arg);
    static int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                      const unsigned char* in, unsigned int inlen, void* arg);
    static int onTicketKey(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                           EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc);
};

}  // namespace sluice::tls
