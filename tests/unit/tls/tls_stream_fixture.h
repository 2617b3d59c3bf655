#pragma once
// What the TlsStream tests share (tls_stream_*_test.cc): a client and a server stream joined in
// memory (pump() moves ciphertext between them as sockets would), and a fixture with a test PKI
// (default, wildcard and exact certificates, and a foreign CA), ticket keys on a test clock, the
// listener's server context and a verifying client context.

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tls/client_context.h"
#include "tls/server_context.h"
#include "tls/ticket_keys.h"
#include "tls/tls_stream.h"
#include "unit/tls/test_certs.h"

namespace sluice::tls {

// Test-only access to the SSL* (sessions for resumption, the peer certificate).
struct TlsStreamAccess {
    static SSL* ssl(TlsStream& stream) { return stream.ssl_; }
};

namespace stream_test {

using testing::CertFiles;
using testing::TestPki;
using Status = TlsStream::Status;

// One side's view of a conversation: plaintext received and how reading last ended.
struct Side {
    std::string received;
    Status last = Status::kWantMore;
};

inline void readAll(TlsStream& stream, Side* side) {
    for (;;) {
        char buf[4096];
        const TlsStream::ReadResult result = stream.read(buf, sizeof buf);
        if (result.status != Status::kData) {
            side->last = result.status;
            return;
        }
        side->received.append(buf, result.n);
    }
}

// Shuttles ciphertext between the two streams (as the sockets would) until both are quiet.
inline void pump(TlsStream& client, TlsStream& server, Side* client_side, Side* server_side) {
    for (int round = 0; round < 100; ++round) {
        bool moved = false;
        if (std::string_view out = client.output(); !out.empty()) {
            server.feed(out);
            client.consumeOutput();
            moved = true;
        }
        readAll(server, server_side);
        if (std::string_view out = server.output(); !out.empty()) {
            client.feed(out);
            server.consumeOutput();
            moved = true;
        }
        readAll(client, client_side);
        if (!moved && client.output().empty() && server.output().empty()) return;
    }
    ADD_FAILURE() << "streams never went quiet";
}

struct Conversation {
    std::unique_ptr<TlsStream> client;
    std::unique_ptr<TlsStream> server;
    Side client_side;
    Side server_side;

    void run() { pump(*client, *server, &client_side, &server_side); }
    bool ok() const {
        return client->handshakeDone() && server->handshakeDone() && !client->failed() &&
               !server->failed();
    }
};

inline Conversation connect(const ClientContext& client_ctx, const ServerContext& server_ctx,
                            const std::string& host, SSL_SESSION* session = nullptr) {
    Conversation c;
    c.client = TlsStream::client(client_ctx, host);
    c.server = TlsStream::server(server_ctx);
    if (session != nullptr) SSL_set_session(TlsStreamAccess::ssl(*c.client), session);
    c.client->startHandshake();
    c.run();
    return c;
}

inline size_t bufferCapacity(BIO* bio) {
    BUF_MEM* memory = nullptr;
    BIO_ctrl(bio, BIO_C_GET_BUF_MEM_PTR, 0, &memory);
    return memory == nullptr ? 0 : memory->max;
}

inline std::string peerCommonName(TlsStream& stream) {
    X509* peer = SSL_get0_peer_certificate(TlsStreamAccess::ssl(stream));
    if (peer == nullptr) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    return cn;
}

inline std::shared_ptr<const ClientContext> clientContext(bool verify, const std::string& ca = "") {
    auto result = ClientContext::create(verify, ca, "test");
    if (auto* error = std::get_if<std::string>(&result)) {
        ADD_FAILURE() << *error;
        return nullptr;
    }
    return std::get<std::shared_ptr<const ClientContext>>(result);
}

inline std::shared_ptr<const ServerContext> serverContext(const config::ListenerTlsConfig& tls,
                                                          std::shared_ptr<TicketKeys> keys) {
    std::vector<std::string> where(tls.certificates.size(), "test");
    auto result = ServerContext::create(tls, std::move(keys), where);
    if (auto* errors = std::get_if<std::vector<std::string>>(&result)) {
        ADD_FAILURE() << (*errors)[0];
        return nullptr;
    }
    return std::get<std::shared_ptr<const ServerContext>>(result);
}

class TlsStreamTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        pki_ = new TestPki();
        other_pki_ = new TestPki("Some Other CA");
        default_ = pki_->leaf("default", "default.test", "DNS:default.test,IP:127.0.0.1");
        wildcard_ = pki_->leaf("wildcard", "wildcard", "DNS:*.example.com");
        exact_ = pki_->leaf("exact", "exact", "DNS:exact.example.com");
        foreign_ = other_pki_->leaf("foreign", "foreign", "DNS:default.test");
    }
    static void TearDownTestSuite() {
        delete pki_;
        delete other_pki_;
        pki_ = other_pki_ = nullptr;
    }

    void SetUp() override {
        keys_ = std::make_shared<TicketKeys>(std::chrono::hours(1), std::chrono::hours(12),
                                             [this] { return now_; });
        tls_.certificates = {{default_.cert, default_.key, {}},
                             {wildcard_.cert, wildcard_.key, {}},
                             {exact_.cert, exact_.key, {}}};
        server_ = serverContext(tls_, keys_);
        ASSERT_TRUE(server_);
        verifying_ = clientContext(true, pki_->caFile());
        ASSERT_TRUE(verifying_);
    }

    inline static TestPki* pki_ = nullptr;
    inline static TestPki* other_pki_ = nullptr;
    inline static CertFiles default_, wildcard_, exact_, foreign_;

    std::chrono::steady_clock::time_point now_{std::chrono::hours(100)};
    std::shared_ptr<TicketKeys> keys_;
    config::ListenerTlsConfig tls_;
    std::shared_ptr<const ServerContext> server_;
    std::shared_ptr<const ClientContext> verifying_;
};

}  // namespace stream_test
}  // namespace sluice::tls
