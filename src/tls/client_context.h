#pragma once
// Client-side TLS settings of one pool (TLS to upstream servers): TLS 1.2+, certificate
// verification against `tls_ca` (or the system store) when `tls_verify`. Shared by workers.

#include <memory>
#include <string>
#include <variant>

typedef struct ssl_ctx_st SSL_CTX;

namespace sluice::tls {

class ClientContext {
  public:
    // `where` prefixes error messages ("FILE:LINE:COL" of tls_ca).
    static std::variant<std::shared_ptr<const ClientContext>, std::string> create(
        bool verify, const std::string& ca_file, const std::string& where);
    ~ClientContext();
    ClientContext(const ClientContext&) = delete;
    ClientContext& operator=(const ClientContext&) = delete;

    SSL_CTX* context() const { return ctx_; }
    bool verify() const { return verify_; }

  private:
    ClientContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
    SSL_CTX* ctx_;
    bool verify_;
};

}  // namespace sluice::tls
