#include "tls/tls_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <string>
#include <utility>

#include "tls/client_context.h"
#include "tls/openssl_errors.h"
#include "tls/server_context.h"
#include "tls/server_context_access.h"

namespace sluice::tls {

namespace {

// A memory BIO never gives memory back: once drained, one whose capacity grew past this after
// a burst (a large write, a full socket read) is replaced, so idle connections stay small (and
// BIO_reset, which zeroes the whole capacity, stays cheap).
constexpr size_t kMaxRetainedBuffer = 32 * 1024;

// Parts of one write() totalling at most this much (the TLS maximum record payload) are copied
// into one buffer and encrypted as a single record: every record costs a header, an AEAD tag and
// a cipher re-initialisation (by far the largest per-record cost in OpenSSL 3), so a response
// head and its small body belong in one record rather than two.
constexpr size_t kMaxCoalesced = 16 * 1024;
thread_local char t_coalesce_buffer[kMaxCoalesced];

// Clears this thread's OpenSSL error queue so that SSL_get_error() and error messages see only
// what the next operation adds. ERR_clear_error() walks every slot of the queue (hundreds of
// instructions) even when it is empty, which it nearly always is here; ERR_peek_error() ignores
// exactly the entries SSL_get_error() ignores, so skipping the clear when it returns 0 is
// equivalent.
void clearErrors() {
    if (ERR_peek_error() != 0) ERR_clear_error();
}

// A fresh memory BIO for SSL_set0_rbio/SSL_set0_wbio, or null.
BIO* newMemoryBio(bool input) {
    BIO* bio = BIO_new(BIO_s_mem());
    // An empty input BIO means "more to come" (SSL_ERROR_WANT_READ), not end of stream.
    if (bio != nullptr && input) BIO_set_mem_eof_return(bio, -1);
    return bio;
}

// The capacity of a memory BIO when it holds no data, else 0.
size_t idleCapacity(BIO* bio) {
    BUF_MEM* memory = nullptr;
    BIO_get_mem_ptr(bio, &memory);
    return memory != nullptr && memory->length == 0 ? memory->max : 0;
}

bool isIpLiteral(const std::string& host) {
    unsigned char addr[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), addr) == 1 ||
           inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

// Encrypts all of `plaintext` into the output BIO (a memory BIO never asks to retry).
// Returns 1, or the failing SSL_write_ex result.
int writeAll(SSL* ssl, std::string_view plaintext) {
    while (!plaintext.empty()) {
        size_t written = 0;
        const int result = SSL_write_ex(ssl, plaintext.data(), plaintext.size(), &written);
        if (result != 1) return result;
        plaintext.remove_prefix(written);
    }
    return 1;
}

}  // namespace

TlsStream::TlsStream(SSL* ssl) : ssl_(ssl), in_(nullptr), out_(nullptr) {
    if (ssl_ == nullptr) {
        failed_ = true;
        error_ = "cannot create TLS session: " + internal::takeError("out of memory");
        return;
    }
    in_ = newMemoryBio(true);
    out_ = newMemoryBio(false);
    if (in_ == nullptr || out_ == nullptr) {
        BIO_free(in_);
        BIO_free(out_);
        in_ = out_ = nullptr;
        SSL_free(ssl_);
        ssl_ = nullptr;
        failed_ = true;
        error_ = "cannot create TLS session: " + internal::takeError("out of memory");
        return;
    }
    SSL_set_bio(ssl_, in_, out_);  // ssl_ owns both from here
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

std::unique_ptr<TlsStream> TlsStream::server(const ServerContext& ctx) {
    ERR_clear_error();
    std::unique_ptr<TlsStream> stream(new TlsStream(SSL_new(ctx.defaultContext())));
    if (!stream->failed_) {
        SSL_set_accept_state(stream->ssl_);
        stream->server_ctx_ = ServerContextAccess::self(ctx);
    }
    ERR_clear_error();
    return stream;
}

std::unique_ptr<TlsStream> TlsStream::client(const ClientContext& ctx, const std::string& host) {
    ERR_clear_error();
    std::unique_ptr<TlsStream> stream(new TlsStream(SSL_new(ctx.context())));
    if (stream->failed_) return stream;
    SSL* ssl = stream->ssl_;
    SSL_set_connect_state(ssl);
    const bool ip = isIpLiteral(host);
    bool ok = true;
    // SNI carries names only (RFC 6066: no IP literals).
    // (SSL_set_tlsext_host_name without its C cast.)
    if (!ip && !host.empty()) {
        ok = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                      const_cast<char*>(host.c_str())) == 1;
    }
    if (ok && ctx.verify()) {
        if (ip) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
        } else if (!host.empty()) {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(ssl, host.c_str()) == 1;
        }
    }
    if (!ok) {
        stream->failed_ = true;
        stream->error_ = "invalid TLS host name \"" + host + "\": " + internal::takeError();
    }
    ERR_clear_error();
    return stream;
}

void TlsStream::feed(std::string_view ciphertext) {
    if (failed_) return;
    clearErrors();
    while (!ciphertext.empty()) {
        size_t written = 0;
        if (BIO_write_ex(in_, ciphertext.data(), ciphertext.size(), &written) != 1 ||
            written == 0) {
            failed_ = true;
            error_ = "cannot buffer TLS input: " + internal::takeError("out of memory");
            pending_.clear();
            return;
        }
        ciphertext.remove_prefix(written);
    }
}

TlsStream::ReadResult TlsStream::read(char* buf, size_t cap) {
    if (failed_) return {Status::kError};
    if (handshake_done_ && !hasBufferedInput() &&
        (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) == 0) {
        // Nothing to decrypt: SSL_read would only say SSL_ERROR_WANT_READ (after the handshake,
        // reading never produces output by itself), so skip the call and its error-queue work.
        releaseInput();
        return {Status::kWantMore};
    }
    clearErrors();
    if (!handshake_done_) {
        const int result = SSL_do_handshake(ssl_);
        if (result != 1) {
            const int error = SSL_get_error(ssl_, result);
            if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
                ERR_clear_error();
                releaseInput();
                return {Status::kWantMore};
            }
            setError(result, "handshake failed");
            return {Status::kError};
        }
        if (!finishHandshake()) return {Status::kError};
    }
    if (cap == 0) return {Status::kWantMore};
    // Also consumes post-handshake messages (TLS 1.3 NewSessionTicket, KeyUpdate).
    size_t n = 0;
    const int result = SSL_read_ex(ssl_, buf, cap, &n);
    if (result == 1) return {Status::kData, n};
    switch (SSL_get_error(ssl_, result)) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            clearErrors();
            releaseInput();
            return {Status::kWantMore};
        case SSL_ERROR_ZERO_RETURN:
            clearErrors();
            return {Status::kClosed};
        default:
            setError(result, "read failed");
            return {Status::kError};
    }
}

void TlsStream::startHandshake() {
    if (failed_ || handshake_done_) return;
    ERR_clear_error();
    const int result = SSL_do_handshake(ssl_);
    if (result == 1) {
        finishHandshake();
        return;
    }
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return;
    }
    setError(result, "handshake failed");
}

bool TlsStream::write(std::string_view plaintext) {
    if (failed_ || shutdown_requested_) return false;
    if (plaintext.empty()) return true;
    if (!handshake_done_) {
        pending_.append(plaintext);
        return true;
    }
    if ((SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) return false;
    clearErrors();
    const int result = writeAll(ssl_, plaintext);
    if (result != 1) {
        setError(result, "write failed");
        return false;
    }
    return true;
}

bool TlsStream::write(const std::string_view* parts, size_t count) {
    size_t total = 0;
    size_t non_empty = 0;
    for (size_t i = 0; i < count; ++i) {
        total += parts[i].size();
        if (!parts[i].empty()) ++non_empty;
    }
    if (non_empty > 1 && total <= kMaxCoalesced) {
        // One record instead of one per part (SSL_write copies the bytes out before returning,
        // so the shared buffer is free again afterwards).
        size_t at = 0;
        for (size_t i = 0; i < count; ++i) {
            if (parts[i].empty()) continue;
            std::memcpy(t_coalesce_buffer + at, parts[i].data(), parts[i].size());
            at += parts[i].size();
        }
        return write(std::string_view(t_coalesce_buffer, total));
    }
    for (size_t i = 0; i < count; ++i) {
        if (!parts[i].empty() && !write(parts[i])) return false;
    }
    return true;
}

void TlsStream::shutdown() {
    if (failed_) return;
    if (!handshake_done_) {
        shutdown_requested_ = true;  // close_notify follows the handshake and pending_
        return;
    }
    if ((SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) return;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // 0 = sent, the peer's has not arrived: all we want here
    ERR_clear_error();
}

std::string_view TlsStream::output() const {
    if (out_ == nullptr) return {};
    char* data = nullptr;
    const long length = BIO_get_mem_data(out_, &data);
    if (length <= 0 || data == nullptr) return {};
    return {data, static_cast<size_t>(length)};
}

void TlsStream::consumeOutput() {
    if (out_ == nullptr) return;
    BUF_MEM* memory = nullptr;
    BIO_get_mem_ptr(out_, &memory);
    if (memory == nullptr) return;
    if (memory->max > kMaxRetainedBuffer) {
        if (BIO* fresh = newMemoryBio(false)) {
            SSL_set0_wbio(ssl_, fresh);  // frees the old one
            out_ = fresh;
            return;
        }
    }
    // On a read-write memory BIO, BIO_reset drops the data (it zeroes the capacity too).
    if (memory->length > 0) BIO_reset(out_);
}

bool TlsStream::hasBufferedInput() const {
    // Ciphertext not yet read by OpenSSL, or a record (or part of one) it already holds.
    return ssl_ != nullptr && (BIO_ctrl_pending(in_) > 0 || SSL_has_pending(ssl_) == 1);
}

void TlsStream::releaseInput() {
    if (in_ == nullptr || idleCapacity(in_) <= kMaxRetainedBuffer) return;
    if (BIO* fresh = newMemoryBio(true)) {
        SSL_set0_rbio(ssl_, fresh);  // frees the old one
        in_ = fresh;
    }
}

std::string_view TlsStream::version() const {
    if (ssl_ == nullptr || !handshake_done_) return {};
    const char* version = SSL_get_version(ssl_);
    return version != nullptr ? version : "";
}

std::string_view TlsStream::serverName() const {
    if (ssl_ == nullptr) return {};
    const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
    return name != nullptr ? name : "";
}

std::string_view TlsStream::alpn() const {
    if (ssl_ == nullptr) return {};
    const unsigned char* data = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_, &data, &length);
    if (data == nullptr || length == 0) return {};
    return {reinterpret_cast<const char*>(data), length};
}

bool TlsStream::resumed() const { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }

bool TlsStream::finishHandshake() {
    handshake_done_ = true;
    if (!flushPending()) return false;
    if (shutdown_requested_) {
        shutdown_requested_ = false;
        shutdown();
    }
    return true;
}

bool TlsStream::flushPending() {
    if (pending_.empty()) return true;
    std::string data;
    data.swap(pending_);  // frees the buffer once written
    ERR_clear_error();
    const int result = writeAll(ssl_, data);
    if (result != 1) {
        setError(result, "write failed");
        return false;
    }
    return true;
}

void TlsStream::setError(int ssl_result, const char* what) {
    const int error = SSL_get_error(ssl_, ssl_result);
    const unsigned long code = ERR_peek_error();
    std::string message;
    if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
        ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        message = "certificate verify failed";
        const long verify = SSL_get_verify_result(ssl_);
        if (verify != X509_V_OK) {
            message += ": ";
            message += X509_verify_cert_error_string(verify);
        }
    } else if (code != 0) {
        message = std::string(what) + ": " + internal::errorReason(code);
    } else if (error == SSL_ERROR_SYSCALL) {
        message = std::string(what) + ": unexpected end of stream";
    } else {
        message = std::string(what) + ": SSL error " + std::to_string(error);
    }
    ERR_clear_error();
    failed_ = true;
    error_ = std::move(message);
    std::string().swap(pending_);
}

}  // namespace sluice::tls
