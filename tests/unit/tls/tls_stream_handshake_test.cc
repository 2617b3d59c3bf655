#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>

#include "tls/tls_stream.h"
#include "unit/tls/tls_stream_fixture.h"

// TlsStream handshakes: versions, SNI, ALPN, certificate verification, failures.

namespace sluice::tls {
namespace {

using namespace stream_test;
using testing::startsWith;

TEST_F(TlsStreamTest, Tls13HandshakeAndDataBothWays) {
    Conversation c = connect(*verifying_, *server_, "default.test");
    ASSERT_TRUE(c.ok()) << c.client->error() << " / " << c.server->error();
    EXPECT_EQ(c.client->version(), "TLSv1.3");
    EXPECT_EQ(c.server->version(), "TLSv1.3");
    EXPECT_EQ(c.server->serverName(), "default.test");
    EXPECT_FALSE(c.client->resumed());
    EXPECT_FALSE(c.server->resumed());

    ASSERT_TRUE(c.client->write("GET / HTTP/1.1\r\n\r\n"));
    c.run();
    EXPECT_EQ(c.server_side.received, "GET / HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(c.server->write("HTTP/1.1 200 OK\r\n\r\n"));
    c.run();
    EXPECT_EQ(c.client_side.received, "HTTP/1.1 200 OK\r\n\r\n");
    EXPECT_EQ(c.client_side.last, Status::kWantMore);
    EXPECT_EQ(c.server_side.last, Status::kWantMore);
}

TEST_F(TlsStreamTest, Tls12Handshake) {
    auto tls12 = clientContext(true, pki_->caFile());
    ASSERT_TRUE(tls12);
    SSL_CTX_set_max_proto_version(tls12->context(), TLS1_2_VERSION);
    Conversation c = connect(*tls12, *server_, "default.test");
    ASSERT_TRUE(c.ok()) << c.client->error() << " / " << c.server->error();
    EXPECT_EQ(c.client->version(), "TLSv1.2");
    EXPECT_EQ(c.server->version(), "TLSv1.2");
    const std::string cipher = SSL_get_cipher_name(TlsStreamAccess::ssl(*c.server));
    EXPECT_TRUE(startsWith(cipher, "ECDHE-")) << cipher;
    ASSERT_TRUE(c.client->write("ping"));
    ASSERT_TRUE(c.server->write("pong"));
    c.run();
    EXPECT_EQ(c.server_side.received, "ping");
    EXPECT_EQ(c.client_side.received, "pong");
}

// Server preference: AES-128-GCM (SHA-256 key schedule) even for OpenSSL clients, which list
// AES-256-GCM-SHA384 first; ChaCha20 for a client listing it first; what a client insists on.
TEST_F(TlsStreamTest, CipherIsChosenByServerPreference) {
    struct Case {
        const char* client_suites;  // "" = OpenSSL's default order
        const char* chosen;
    };
    for (const Case& test :
         {Case{"", "TLS_AES_128_GCM_SHA256"},
          Case{"TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
          Case{"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
               "TLS_CHACHA20_POLY1305_SHA256"},
          Case{"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"}}) {
        auto client_ctx = clientContext(true, pki_->caFile());
        ASSERT_TRUE(client_ctx);
        if (*test.client_suites != '\0') {
            ASSERT_EQ(SSL_CTX_set_ciphersuites(client_ctx->context(), test.client_suites), 1);
        }
        Conversation c = connect(*client_ctx, *server_, "default.test");
        ASSERT_TRUE(c.ok()) << c.client->error() << " / " << c.server->error();
        EXPECT_EQ(c.client->version(), "TLSv1.3");
        EXPECT_STREQ(SSL_get_cipher_name(TlsStreamAccess::ssl(*c.server)), test.chosen)
            << test.client_suites;
        EXPECT_STREQ(SSL_get_cipher_name(TlsStreamAccess::ssl(*c.client)), test.chosen)
            << test.client_suites;
    }
    // TLS 1.2 the same way: OpenSSL clients list the AES-256 suites first.
    auto tls12 = clientContext(true, pki_->caFile());
    ASSERT_TRUE(tls12);
    SSL_CTX_set_max_proto_version(tls12->context(), TLS1_2_VERSION);
    Conversation c = connect(*tls12, *server_, "default.test");
    ASSERT_TRUE(c.ok()) << c.client->error() << " / " << c.server->error();
    EXPECT_STREQ(SSL_get_cipher_name(TlsStreamAccess::ssl(*c.server)),
                 "ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(TlsStreamTest, SniSelectsTheCertificate) {
    struct Case {
        const char* host;
        const char* cn;
    };
    for (const Case& test :
         {Case{"exact.example.com", "exact"}, Case{"a.example.com", "wildcard"},
          Case{"A.EXAMPLE.com", "wildcard"}, Case{"a.b.example.com", "default.test"},
          Case{"unknown.test", "default.test"}}) {
        auto no_verify = clientContext(false);
        Conversation c = connect(*no_verify, *server_, test.host);
        ASSERT_TRUE(c.ok()) << test.host << ": " << c.client->error() << " / " << c.server->error();
        EXPECT_EQ(peerCommonName(*c.client), test.cn) << test.host;
        EXPECT_EQ(c.server->serverName(), test.host);
        EXPECT_EQ(server_->namesOf(server_->certificateFor(test.host)).size(), 1u);
        // The switched context answers with the same listener settings.
        EXPECT_EQ(c.server->alpn(), "http/1.1");
    }
}

TEST_F(TlsStreamTest, NoSniGetsTheDefaultCertificate) {
    auto no_verify = clientContext(false);
    Conversation c = connect(*no_verify, *server_, "127.0.0.1");  // IP: no SNI
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.server->serverName(), "");
    EXPECT_EQ(peerCommonName(*c.client), "default.test");
}

TEST_F(TlsStreamTest, MinVersion13RefusesTls12Client) {
    config::ListenerTlsConfig tls13 = tls_;
    tls13.min_version = config::TlsVersion::kTls13;
    auto server = serverContext(tls13, keys_);
    ASSERT_TRUE(server);
    auto tls12 = clientContext(false);
    SSL_CTX_set_max_proto_version(tls12->context(), TLS1_2_VERSION);
    // Through SNI too: the switched-to context must not allow 1.2 either.
    for (const char* host : {"default.test", "exact.example.com"}) {
        Conversation c = connect(*tls12, *server, host);
        EXPECT_EQ(c.client_side.last, Status::kError) << host;
        EXPECT_EQ(c.server_side.last, Status::kError) << host;
        EXPECT_FALSE(c.client->error().empty());
        EXPECT_FALSE(c.server->error().empty());
        EXPECT_TRUE(c.client->failed() && c.server->failed());
        EXPECT_FALSE(c.client->handshakeDone());
        EXPECT_EQ(c.server->error(), "handshake failed: unsupported protocol");
        EXPECT_TRUE(startsWith(c.client->error(), "handshake failed: ")) << c.client->error();
        EXPECT_FALSE(c.client->write("x"));
    }
    // A TLS 1.3 client is fine.
    Conversation ok = connect(*verifying_, *server, "exact.example.com");
    EXPECT_TRUE(ok.ok());
}

TEST_F(TlsStreamTest, AlpnNegotiatesHttp11) {
    Conversation c = connect(*verifying_, *server_, "default.test");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.client->alpn(), "http/1.1");
    EXPECT_EQ(c.server->alpn(), "http/1.1");
}

TEST_F(TlsStreamTest, AlpnWithoutOverlapStillHandshakes) {
    auto h2_only = clientContext(true, pki_->caFile());
    static const unsigned char kH2[] = {2, 'h', '2'};
    ASSERT_EQ(SSL_CTX_set_alpn_protos(h2_only->context(), kH2, sizeof kH2), 0);
    Conversation c = connect(*h2_only, *server_, "default.test");
    ASSERT_TRUE(c.ok()) << c.client->error() << " / " << c.server->error();
    EXPECT_EQ(c.client->alpn(), "");
    EXPECT_EQ(c.server->alpn(), "");
}

TEST_F(TlsStreamTest, ListenerWithoutAlpnList) {
    config::ListenerTlsConfig no_alpn = tls_;
    no_alpn.alpn.clear();
    auto server = serverContext(no_alpn, keys_);
    Conversation c = connect(*verifying_, *server, "default.test");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.server->alpn(), "");
}

TEST_F(TlsStreamTest, AlpnSkipsAnUnservedProtocolListedFirst) {
    // Server preference would pick "spdy/3", which sluice does not speak: http/1.1 it is.
    config::ListenerTlsConfig two = tls_;
    two.alpn = {"spdy/3", "http/1.1"};
    auto server = serverContext(two, keys_);
    auto client_ctx = clientContext(true, pki_->caFile());
    static const unsigned char kBoth[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1', 2, 'h', '2'};
    ASSERT_EQ(SSL_CTX_set_alpn_protos(client_ctx->context(), kBoth, sizeof kBoth), 0);
    Conversation c = connect(*client_ctx, *server, "default.test");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.server->alpn(), "http/1.1");
    EXPECT_EQ(c.client->alpn(), "http/1.1");
}

TEST_F(TlsStreamTest, VerificationSucceedsWithTheRightCa) {
    for (const char* host : {"default.test", "exact.example.com", "a.example.com"}) {
        Conversation c = connect(*verifying_, *server_, host);
        EXPECT_TRUE(c.ok()) << host << ": " << c.client->error();
        EXPECT_EQ(SSL_get_verify_result(TlsStreamAccess::ssl(*c.client)), X509_V_OK);
    }
}

TEST_F(TlsStreamTest, VerificationFailsWithAnotherCa) {
    auto wrong_ca = clientContext(true, other_pki_->caFile());
    Conversation c = connect(*wrong_ca, *server_, "default.test");
    EXPECT_EQ(c.client_side.last, Status::kError);
    EXPECT_EQ(c.client->error(),
              "certificate verify failed: unable to get local issuer certificate");
    // The client's alert reaches the server, which fails too.
    EXPECT_EQ(c.server_side.last, Status::kError);
    EXPECT_FALSE(c.server->error().empty());
}

TEST_F(TlsStreamTest, VerificationFailsOnHostMismatch) {
    for (const char* host : {"other.test", "a.b.example.com", "example.com"}) {
        Conversation c = connect(*verifying_, *server_, host);
        EXPECT_EQ(c.client_side.last, Status::kError) << host;
        EXPECT_EQ(c.client->error(), "certificate verify failed: hostname mismatch") << host;
    }
}

TEST_F(TlsStreamTest, VerificationOfIpSan) {
    Conversation ok = connect(*verifying_, *server_, "127.0.0.1");
    EXPECT_TRUE(ok.ok()) << ok.client->error();
    Conversation wrong = connect(*verifying_, *server_, "127.0.0.2");
    EXPECT_EQ(wrong.client_side.last, Status::kError);
    EXPECT_EQ(wrong.client->error(), "certificate verify failed: IP address mismatch");
}

TEST_F(TlsStreamTest, NoVerificationAcceptsAnUnknownCa) {
    config::ListenerTlsConfig foreign;
    foreign.certificates = {{foreign_.cert, foreign_.key, {}}};
    auto server = serverContext(foreign, keys_);
    auto no_verify = clientContext(false);
    Conversation c = connect(*no_verify, *server, "whatever.test");
    EXPECT_TRUE(c.ok()) << c.client->error();
    // The same server fails verification against the test CA.
    Conversation v = connect(*verifying_, *server, "default.test");
    EXPECT_TRUE(startsWith(v.client->error(), "certificate verify failed: ")) << v.client->error();
}

TEST_F(TlsStreamTest, GarbageIsAHandshakeError) {
    auto server = TlsStream::server(*server_);
    server->feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    char buf[64];
    EXPECT_EQ(server->read(buf, sizeof buf).status, Status::kError);
    EXPECT_TRUE(startsWith(server->error(), "handshake failed: ")) << server->error();
    EXPECT_EQ(server->error().find('\n'), std::string::npos);
    EXPECT_EQ(server->read(buf, sizeof buf).status, Status::kError);  // stays failed
    EXPECT_FALSE(server->write("x"));
    EXPECT_EQ(ERR_peek_error(), 0u);  // nothing left in this thread's error queue
}

TEST_F(TlsStreamTest, StreamOutlivesItsServerContext) {
    auto server_ctx = serverContext(tls_, keys_);
    auto client = TlsStream::client(*clientContext(false), "exact.example.com");
    auto server = TlsStream::server(*server_ctx);
    server_ctx.reset();  // e.g. a reload dropped the listener's contexts mid-handshake
    client->startHandshake();
    Side client_side, server_side;
    pump(*client, *server, &client_side, &server_side);  // SNI and ticket callbacks still run
    EXPECT_TRUE(client->handshakeDone() && server->handshakeDone());
    EXPECT_EQ(peerCommonName(*client), "exact");
}

}  // namespace
}  // namespace sluice::tls
