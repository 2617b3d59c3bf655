#include "tls/server_context.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>

#include "tls/openssl_errors.h"
#include "tls/server_context_access.h"
#include "tls/ticket_keys.h"

namespace sluice::tls {

namespace {

// TLS 1.2 suites: forward secret AEAD only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3 suites: OpenSSL's three, AES-128-GCM first, chosen in this order (server preference)
// except that a client listing ChaCha20 first gets it (SSL_OP_PRIORITIZE_CHACHA: that is how
// clients without AES hardware say so). OpenSSL clients list AES-256-GCM-SHA384 first: with
// client preference every such handshake ran its key schedule and transcript hash on SHA-384,
// which, unlike SHA-256, has no CPU instructions of its own (SHA-NI). Measured through TlsStream
// on this 2-CPU machine: 8-10% less server CPU per full handshake; AES-128 is also the cheaper
// bulk cipher on keep-alive connections. RFC 8446 makes TLS_AES_128_GCM_SHA256 the mandatory one.
constexpr const char* kTls13Ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// Slot of the owning ServerContext in each SSL_CTX's ex_data (the ticket callback has no arg).
int contextIndex() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// An encrypted key must never make OpenSSL prompt on the terminal: no passphrase, so it fails.
int noPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string asnText(const ASN1_STRING* text) {
    const unsigned char* data = ASN1_STRING_get0_data(text);
    const int length = ASN1_STRING_length(text);
    if (data == nullptr || length <= 0) return {};
    return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
}

// SAN DNS names, else the subject CN; lower-cased, without names holding a NUL.
// The certificate's notAfter as Unix seconds (0 when it cannot be read).
int64_t notAfterUnix(X509* cert) {
    if (cert == nullptr) return 0;
    const ASN1_TIME* not_after = X509_get0_notAfter(cert);
    tm t{};
    if (not_after == nullptr || ASN1_TIME_to_tm(not_after, &t) != 1) return 0;
    return static_cast<int64_t>(timegm(&t));
}

std::vector<std::string> certificateNames(X509* cert) {
    std::vector<std::string> names;
    if (cert == nullptr) return names;
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (sans != nullptr) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
            if (name == nullptr || name->type != GEN_DNS) continue;
            names.push_back(asnText(name->d.dNSName));
        }
        GENERAL_NAMES_free(sans);
    }
    if (names.empty()) {
        X509_NAME* subject = X509_get_subject_name(cert);
        const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
        if (index >= 0) {
            const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
            unsigned char* utf8 = nullptr;
            const int length = ASN1_STRING_to_UTF8(&utf8, cn);
            if (length > 0 && utf8 != nullptr) {
                names.emplace_back(reinterpret_cast<const char*>(utf8),
                                   static_cast<size_t>(length));
            }
            OPENSSL_free(utf8);
        }
    }
    std::vector<std::string> out;
    for (const std::string& name : names) {
        if (name.empty() || name.find('\0') != std::string::npos) continue;
        out.push_back(lower(name));
    }
    return out;
}

bool setMacKey(EVP_MAC_CTX* mac, unsigned char* hmac_key, size_t length) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, hmac_key, length),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(mac, params) == 1;
}

// Applies every listener-wide setting to one per-certificate context. False on failure (the
// reason is in the OpenSSL error queue).
bool configure(SSL_CTX* ctx, const config::ListenerTlsConfig& tls, ServerContext* owner,
               bool tickets) {
    const int min_version =
        tls.min_version == config::TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) return false;
    if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return false;
    if (SSL_CTX_set_ciphersuites(ctx, kTls13Ciphersuites) != 1) return false;
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
                                 (tickets ? 0 : SSL_OP_NO_TICKET));
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_default_passwd_cb(ctx, noPassphrase);
    if (SSL_CTX_set_ex_data(ctx, contextIndex(), owner) != 1) return false;
    if (tickets) {
        if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ServerContextAccess::onTicketKey) != 1) {
            return false;
        }
        if (SSL_CTX_set_num_tickets(ctx, 1) != 1) return false;
    } else {
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    // (SSL_CTX_set_tlsext_servername_callback without its C cast.)
    SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                          reinterpret_cast<void (*)()>(ServerContextAccess::onServerName));
    SSL_CTX_set_tlsext_servername_arg(ctx, owner);
    SSL_CTX_set_alpn_select_cb(ctx, ServerContextAccess::onAlpn, owner);
    return true;
}

}  // namespace

bool isServedAlpnProtocol(std::string_view protocol) {
    for (std::string_view served : kServedAlpnProtocols) {
        if (protocol == served) return true;
    }
    return false;
}

struct ServerContext::Entry {
    explicit Entry(SSL_CTX* c) : ctx(c) {}
    ~Entry() { SSL_CTX_free(ctx); }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

    SSL_CTX* ctx;
    std::vector<std::string> names;  // lower-cased; "*.suffix" for wildcards
    int64_t not_after_unix = 0;
};

ServerContext::ServerContext() = default;
ServerContext::~ServerContext() = default;

std::variant<std::shared_ptr<const ServerContext>, std::vector<std::string>> ServerContext::create(
    const config::ListenerTlsConfig& tls, std::shared_ptr<TicketKeys> keys,
    const std::vector<std::string>& where) {
    std::vector<std::string> errors;
    std::shared_ptr<ServerContext> self(new ServerContext());
    self->keys_ = std::move(keys);
    self->self_ = self;
    for (const std::string& protocol : tls.alpn) {
        if (protocol.empty() || protocol.size() > 255) continue;  // the loader rejects these
        // The loader only lets "h2" through for http listeners with http2 = true; this layer
        // must not depend on it: onAlpn only ever chooses from this list.
        if (!isServedAlpnProtocol(protocol)) continue;
        self->alpn_wire_.push_back(static_cast<unsigned char>(protocol.size()));
        self->alpn_wire_.insert(self->alpn_wire_.end(), protocol.begin(), protocol.end());
    }
    if (tls.certificates.empty()) {
        errors.push_back((where.empty() || where[0].empty() ? "" : where[0] + ": ") +
                         "tls needs at least one certificate");
        return errors;
    }

    for (size_t i = 0; i < tls.certificates.size(); ++i) {
        const config::TlsCertificate& certificate = tls.certificates[i];
        const std::string prefix = i < where.size() && !where[i].empty() ? where[i] + ": " : "";
        ERR_clear_error();
        SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
        if (ctx == nullptr) {
            errors.push_back(prefix + "cannot create TLS context: " + internal::takeError());
            continue;
        }
        auto entry = std::make_unique<Entry>(ctx);
        if (!configure(ctx, tls, self.get(), self->keys_ != nullptr)) {
            errors.push_back(prefix + "cannot configure TLS context: " + internal::takeError());
            continue;
        }
        bool cert_ok = true;
        ERR_clear_error();
        if (SSL_CTX_use_certificate_chain_file(ctx, certificate.cert.c_str()) != 1) {
            errors.push_back(prefix + "certificate " + certificate.cert +
                             ": cannot load: " + internal::takeError());
            cert_ok = false;
        }
        ERR_clear_error();
        if (SSL_CTX_use_PrivateKey_file(ctx, certificate.key.c_str(), SSL_FILETYPE_PEM) != 1) {
            // With the certificate loaded, OpenSSL already compares the key to it.
            const unsigned long code = ERR_peek_error();
            const bool mismatch = cert_ok && ERR_GET_LIB(code) == ERR_LIB_X509 &&
                                  (ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH ||
                                   ERR_GET_REASON(code) == X509_R_KEY_TYPE_MISMATCH);
            if (mismatch) {
                ERR_clear_error();
                errors.push_back(prefix + "key " + certificate.key +
                                 " does not match certificate " + certificate.cert);
            } else {
                errors.push_back(prefix + "key " + certificate.key +
                                 ": cannot load: " + internal::takeError());
            }
            continue;
        }
        if (!cert_ok) continue;
        ERR_clear_error();
        if (SSL_CTX_check_private_key(ctx) != 1) {
            ERR_clear_error();
            errors.push_back(prefix + "key " + certificate.key + " does not match certificate " +
                             certificate.cert);
            continue;
        }
        entry->names = certificateNames(SSL_CTX_get0_certificate(ctx));
        entry->not_after_unix = notAfterUnix(SSL_CTX_get0_certificate(ctx));
        self->entries_.push_back(std::move(entry));
    }
    ERR_clear_error();
    if (!errors.empty()) return errors;
    return std::shared_ptr<const ServerContext>(std::move(self));
}

SSL_CTX* ServerContext::defaultContext() const {
    return entries_.empty() ? nullptr : entries_.front()->ctx;
}

size_t ServerContext::certificateCount() const { return entries_.size(); }

int64_t ServerContext::notAfterOf(size_t certificate) const {
    return certificate < entries_.size() ? entries_[certificate]->not_after_unix : 0;
}

size_t ServerContext::certificateFor(const std::string& server_name) const {
    std::string name = lower(server_name);
    if (!name.empty() && name.back() == '.') name.pop_back();  // absolute form "host."
    if (name.empty()) return 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
        for (const std::string& candidate : entries_[i]->names) {
            if (candidate == name) return i;
        }
    }
    // "*.example.com" covers exactly one label: "a.example.com", not "a.b.example.com".
    const size_t dot = name.find('.');
    if (dot == std::string::npos || dot == 0) return 0;
    const std::string_view suffix = std::string_view(name).substr(dot);  // ".example.com"
    for (size_t i = 0; i < entries_.size(); ++i) {
        for (const std::string& candidate : entries_[i]->names) {
            if (candidate.size() > 2 && candidate[0] == '*' && candidate[1] == '.' &&
                std::string_view(candidate).substr(1) == suffix) {
                return i;
            }
        }
    }
    return 0;
}

const std::vector<std::string>& ServerContext::namesOf(size_t certificate) const {
    static const std::vector<std::string> kNone;
    return certificate < entries_.size() ? entries_[certificate]->names : kNone;
}

int ServerContextAccess::onServerName(SSL* ssl, int* alert, void* arg) {
    const auto* self = static_cast<const ServerContext*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (self == nullptr || name == nullptr || self->entries_.empty()) return SSL_TLSEXT_ERR_OK;
    try {
        SSL_CTX* target = self->entries_[self->certificateFor(name)]->ctx;
        if (SSL_get_SSL_CTX(ssl) != target && SSL_set_SSL_CTX(ssl, target) == nullptr) {
            *alert = SSL_AD_INTERNAL_ERROR;
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
        return SSL_TLSEXT_ERR_OK;
    } catch (...) {  // bad_alloc: never across OpenSSL's C frames
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
}

int ServerContextAccess::onAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                                const unsigned char* in, unsigned int inlen, void* arg) {
    const auto* self = static_cast<const ServerContext*>(arg);
    if (self == nullptr || self->alpn_wire_.empty()) return SSL_TLSEXT_ERR_NOACK;
    unsigned char* selected = nullptr;
    // Server preference: the first protocol of the listener's list the client offers (served
    // ones only: see create()).
    if (SSL_select_next_proto(&selected, outlen, self->alpn_wire_.data(),
                              static_cast<unsigned int>(self->alpn_wire_.size()), in,
                              inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;  // no overlap: carry on without ALPN
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

// Ticket encryption as in SSL_CTX_set_tlsext_ticket_key_cb(3): AES-256-CBC + HMAC-SHA256 with
// the current key; decryption with any key still in the ring (2 = renew the ticket).
int ServerContextAccess::onTicketKey(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                                     EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
    const auto* self = static_cast<const ServerContext*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextIndex()));
    if (self == nullptr || self->keys_ == nullptr) return 0;
    try {
        TicketKeys::Key key{};
        int result = 0;
        const EVP_CIPHER* aes = EVP_aes_256_cbc();
        const int iv_length = EVP_CIPHER_get_iv_length(aes);
        if (enc) {
            key = self->keys_->current();
            if (iv_length > 0 && iv_length <= EVP_MAX_IV_LENGTH && RAND_bytes(iv, iv_length) == 1 &&
                EVP_EncryptInit_ex(cipher, aes, nullptr, key.aes_key, iv) == 1 &&
                setMacKey(mac, key.hmac_key, sizeof key.hmac_key)) {
                std::memcpy(key_name, key.name, sizeof key.name);
                result = 1;
            }
        } else {
            bool renew = false;
            if (self->keys_->find(key_name, &key, &renew) &&
                setMacKey(mac, key.hmac_key, sizeof key.hmac_key) &&
                EVP_DecryptInit_ex(cipher, aes, nullptr, key.aes_key, iv) == 1) {
                result = renew ? 2 : 1;
            }
        }
        OPENSSL_cleanse(&key, sizeof key);
        return result;  // 0: no ticket issued / ticket ignored (full handshake)
    } catch (...) {
        return 0;
    }
}

}  // namespace sluice::tls
