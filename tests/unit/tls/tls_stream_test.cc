#include "tls/tls_stream.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "tls/client_context.h"
#include "tls/server_context.h"
#include "tls/ticket_keys.h"
#include "unit/tls/test_certs.h"

namespace sluice::tls {

// Test-only access to the SSL* (sessions for resumption, the peer certificate).
struct TlsStreamAccess {
    static SSL* ssl(TlsStream& stream) { return stream.ssl_; }
};

namespace {

using testing::CertFiles;
using testing::contains;
using testing::startsWith;
using testing::TestPki;
using Status = TlsStream::Status;

// One side's view of a conversation: plaintext received and how reading last ended.
struct Side {
    std::string received;
    Status last = Status::kWantMore;
};

void readAll(TlsStream& stream, Side* side) {
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
void pump(TlsStream& client, TlsStream& server, Side* client_side, Side* server_side) {
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

Conversation connect(const ClientContext& client_ctx, const ServerContext& server_ctx,
                     const std::string& host, SSL_SESSION* session = nullptr) {
    Conversation c;
    c.client = TlsStream::client(client_ctx, host);
    c.server = TlsStream::server(server_ctx);
    if (session != nullptr) SSL_set_session(TlsStreamAccess::ssl(*c.client), session);
    c.client->startHandshake();
    c.run();
    return c;
}

size_t bufferCapacity(BIO* bio) {
    BUF_MEM* memory = nullptr;
    BIO_ctrl(bio, BIO_C_GET_BUF_MEM_PTR, 0, &memory);
    return memory == nullptr ? 0 : memory->max;
}

std::string peerCommonName(TlsStream& stream) {
    X509* peer = SSL_get0_peer_certificate(TlsStreamAccess::ssl(stream));
    if (peer == nullptr) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    return cn;
}

std::shared_ptr<const ClientContext> clientContext(bool verify, const std::string& ca = "") {
    auto result = ClientContext::create(verify, ca, "test");
    if (auto* error = std::get_if<std::string>(&result)) {
        ADD_FAILURE() << *error;
        return nullptr;
    }
    return std::get<std::shared_ptr<const ClientContext>>(result);
}

std::shared_ptr<const ServerContext> serverContext(const config::ListenerTlsConfig& tls,
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

    static TestPki* pki_;
    static TestPki* other_pki_;
    static CertFiles default_, wildcard_, exact_, foreign_;

    std::chrono::steady_clock::time_point now_{std::chrono::hours(100)};
    std::shared_ptr<TicketKeys> keys_;
    config::ListenerTlsConfig tls_;
    std::shared_ptr<const ServerContext> server_;
    std::shared_ptr<const ClientContext> verifying_;
};
TestPki* TlsStreamTest::pki_ = nullptr;
TestPki* TlsStreamTest::other_pki_ = nullptr;
CertFiles TlsStreamTest::default_, TlsStreamTest::wildcard_, TlsStreamTest::exact_,
    TlsStreamTest::foreign_;

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

TEST_F(TlsStreamTest, LargeTransfersBothWays) {
    Conversation c = connect(*verifying_, *server_, "default.test");
    ASSERT_TRUE(c.ok());
    std::string big(1 << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    ASSERT_TRUE(c.client->write(big));
    ASSERT_TRUE(c.server->write(big));
    // The whole megabyte of ciphertext sits in output() until the owner takes it.
    EXPECT_GT(c.client->output().size(), big.size());
    c.run();
    EXPECT_EQ(c.server_side.received, big);
    EXPECT_EQ(c.client_side.received, big);
    // After a burst the drained memory BIOs were replaced by small ones, and still work.
    for (TlsStream* stream : {c.client.get(), c.server.get()}) {
        EXPECT_LE(bufferCapacity(SSL_get_rbio(TlsStreamAccess::ssl(*stream))), 32u * 1024);
        EXPECT_LE(bufferCapacity(SSL_get_wbio(TlsStreamAccess::ssl(*stream))), 32u * 1024);
    }
    ASSERT_TRUE(c.client->write("after"));
    c.run();
    EXPECT_EQ(c.server_side.received.substr(big.size()), "after");
}

// The number of TLS records in `ciphertext` (whole records only).
size_t recordCount(std::string_view ciphertext) {
    size_t count = 0;
    while (ciphertext.size() >= 5) {
        const size_t length = (static_cast<unsigned char>(ciphertext[3]) << 8) |
                              static_cast<unsigned char>(ciphertext[4]);
        if (ciphertext.size() < 5 + length) break;
        ciphertext.remove_prefix(5 + length);
        ++count;
    }
    return count;
}

TEST_F(TlsStreamTest, SmallPartsOfOneWriteShareOneRecord) {
    Conversation c = connect(*verifying_, *server_, "default.test");
    ASSERT_TRUE(c.ok());
    const std::string_view parts[4] = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "", "o",
                                       "k"};
    ASSERT_TRUE(c.server->write(parts, 4));
    EXPECT_EQ(recordCount(c.server->output()), 1u);
    c.run();
    EXPECT_EQ(c.client_side.received, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

    // Too much for one record: each part is written in order, as before.
    const std::string big(20000, 'x');
    const std::string_view large[3] = {"head;", big, ";tail"};
    ASSERT_TRUE(c.server->write(large, 3));
    c.run();
    EXPECT_EQ(c.client_side.received.substr(c.client_side.received.find("okhead;")),
              "okhead;" + big + ";tail");
    EXPECT_FALSE(c.server->failed() || c.client->failed());
}

TEST_F(TlsStreamTest, BufferedInputIsReportedUntilDelivered) {
    Conversation c = connect(*verifying_, *server_, "default.test");
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c.server->hasBufferedInput());
    char buf[64];
    EXPECT_EQ(c.server->read(buf, sizeof buf).status, Status::kWantMore);
    ASSERT_TRUE(c.client->write("hello"));
    c.server->feed(c.client->output());
    c.client->consumeOutput();
    EXPECT_TRUE(c.server->hasBufferedInput());  // ciphertext not read yet
    TlsStream::ReadResult r = c.server->read(buf, 2);
    ASSERT_EQ(r.status, Status::kData);
    EXPECT_EQ(std::string_view(buf, r.n), "he");
    EXPECT_TRUE(c.server->hasBufferedInput());  // the rest of the decrypted record
    r = c.server->read(buf, sizeof buf);
    ASSERT_EQ(r.status, Status::kData);
    EXPECT_EQ(std::string_view(buf, r.n), "llo");
    EXPECT_FALSE(c.server->hasBufferedInput());
    EXPECT_EQ(c.server->read(buf, sizeof buf).status, Status::kWantMore);

    // A close_notify already seen keeps being reported, with or without buffered input.
    c.client->shutdown();
    c.server->feed(c.client->output());
    c.client->consumeOutput();
    EXPECT_EQ(c.server->read(buf, sizeof buf).status, Status::kClosed);
    EXPECT_FALSE(c.server->hasBufferedInput());
    EXPECT_EQ(c.server->read(buf, sizeof buf).status, Status::kClosed);
}

TEST_F(TlsStreamTest, StaleErrorsInTheQueueDoNotFailOperations) {
    Conversation c = connect(*verifying_, *server_, "default.test");
    ASSERT_TRUE(c.ok());
    // Another OpenSSL user on this thread left an error behind.
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    ASSERT_TRUE(c.client->write("ping"));
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    c.server->feed(c.client->output());
    c.client->consumeOutput();
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    char buf[64];
    TlsStream::ReadResult r = c.server->read(buf, sizeof buf);
    ASSERT_EQ(r.status, Status::kData);
    EXPECT_EQ(std::string_view(buf, r.n), "ping");
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    EXPECT_EQ(c.server->read(buf, sizeof buf).status, Status::kWantMore);
    ERR_clear_error();
    EXPECT_FALSE(c.server->failed() || c.client->failed());
}

TEST_F(TlsStreamTest, WritesBeforeTheHandshakeAreSentAfterIt) {
    auto client = TlsStream::client(*verifying_, "default.test");
    auto server = TlsStream::server(*server_);
    EXPECT_TRUE(client->write("early "));
    EXPECT_TRUE(client->write("request"));
    EXPECT_TRUE(server->write("early response"));
    EXPECT_TRUE(client->output().empty());  // nothing before startHandshake()
    EXPECT_TRUE(server->output().empty());
    client->startHandshake();
    EXPECT_FALSE(client->output().empty());  // the ClientHello
    Side client_side, server_side;
    pump(*client, *server, &client_side, &server_side);
    ASSERT_TRUE(client->handshakeDone() && server->handshakeDone());
    EXPECT_EQ(server_side.received, "early request");
    EXPECT_EQ(client_side.received, "early response");
}

TEST_F(TlsStreamTest, ShutdownSendsCloseNotify) {
    Conversation c = connect(*verifying_, *server_, "default.test");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.client->write("last words"));
    c.client->shutdown();
    EXPECT_FALSE(c.client->write("too late"));
    c.run();
    EXPECT_EQ(c.server_side.received, "last words");
    EXPECT_EQ(c.server_side.last, Status::kClosed);
    EXPECT_FALSE(c.server->failed());
    // Half-close: the server can still answer, then close too.
    ASSERT_TRUE(c.server->write("bye"));
    c.server->shutdown();
    c.run();
    EXPECT_EQ(c.client_side.received, "bye");
    EXPECT_EQ(c.client_side.last, Status::kClosed);
}

TEST_F(TlsStreamTest, ShutdownBeforeTheHandshakeFollowsPendingData) {
    auto client = TlsStream::client(*verifying_, "default.test");
    auto server = TlsStream::server(*server_);
    EXPECT_TRUE(client->write("only this"));
    client->shutdown();
    client->startHandshake();
    Side client_side, server_side;
    pump(*client, *server, &client_side, &server_side);
    EXPECT_EQ(server_side.received, "only this");
    EXPECT_EQ(server_side.last, Status::kClosed);
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

TEST_F(TlsStreamTest, CorruptRecordAfterTheHandshakeIsAnError) {
    Conversation c = connect(*verifying_, *server_, "default.test");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.client->write("hello"));
    std::string record(c.client->output());
    c.client->consumeOutput();
    record.back() = static_cast<char>(record.back() ^ 1);
    c.server->feed(record);
    char buf[64];
    EXPECT_EQ(c.server->read(buf, sizeof buf).status, Status::kError);
    EXPECT_TRUE(startsWith(c.server->error(), "read failed: ")) << c.server->error();
}

TEST_F(TlsStreamTest, ByteAtATimeDelivery) {
    auto client = TlsStream::client(*verifying_, "default.test");
    auto server = TlsStream::server(*server_);
    client->write("tiny pieces");
    client->startHandshake();
    Side client_side, server_side;
    for (int round = 0; round < 50 && !(server_side.received == "tiny pieces"); ++round) {
        std::string out(client->output());
        client->consumeOutput();
        for (char byte : out) {
            server->feed(std::string_view(&byte, 1));
            readAll(*server, &server_side);
        }
        out = server->output();
        server->consumeOutput();
        for (char byte : out) {
            client->feed(std::string_view(&byte, 1));
            readAll(*client, &client_side);
        }
    }
    EXPECT_EQ(server_side.received, "tiny pieces");
    EXPECT_FALSE(client->failed() || server->failed());
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

std::string ticketOf(const SSL_SESSION* session) {
    const unsigned char* data = nullptr;
    size_t length = 0;
    SSL_SESSION_get0_ticket(session, &data, &length);
    return data == nullptr ? "" : std::string(reinterpret_cast<const char*>(data), length);
}

// Resumption with stateless tickets, TLS 1.3 and 1.2.
class TicketTest : public TlsStreamTest, public ::testing::WithParamInterface<int> {
  protected:
    std::shared_ptr<const ClientContext> client() {
        auto ctx = clientContext(true, pki_->caFile());
        SSL_CTX_set_max_proto_version(ctx->context(), GetParam());
        return ctx;
    }
    // A full handshake; returns the client's session (with its ticket).
    SSL_SESSION* firstSession(const ClientContext& ctx, const std::string& host) {
        Conversation c = connect(ctx, *server_, host);
        EXPECT_TRUE(c.ok());
        EXPECT_FALSE(c.server->resumed());
        SSL_SESSION* session = SSL_get1_session(TlsStreamAccess::ssl(*c.client));
        EXPECT_NE(session, nullptr);
        // Closed cleanly: OpenSSL marks the session of a connection freed without
        // close_notify as not resumable.
        c.client->shutdown();
        EXPECT_TRUE(session != nullptr && SSL_SESSION_is_resumable(session));
        EXPECT_TRUE(SSL_SESSION_has_ticket(session));
        return session;
    }
};

TEST_P(TicketTest, ResumesWithinKeyLifetime) {
    auto ctx = client();
    SSL_SESSION* session = firstSession(*ctx, "default.test");
    ASSERT_NE(session, nullptr);

    Conversation again = connect(*ctx, *server_, "default.test", session);
    ASSERT_TRUE(again.ok()) << again.client->error() << " / " << again.server->error();
    EXPECT_TRUE(again.server->resumed());
    EXPECT_TRUE(again.client->resumed());

    // Two rotations later the ticket's key is no longer current but still in the ring.
    now_ += std::chrono::hours(2);
    Conversation rotated = connect(*ctx, *server_, "default.test", session);
    ASSERT_TRUE(rotated.ok());
    EXPECT_TRUE(rotated.server->resumed());
    EXPECT_GE(keys_->size(), 2u);
    // ... and the client got a ticket under the current key (renewal).
    SSL_SESSION* renewed = SSL_get1_session(TlsStreamAccess::ssl(*rotated.client));
    ASSERT_NE(renewed, nullptr);
    rotated.client->shutdown();
    EXPECT_TRUE(SSL_SESSION_has_ticket(renewed));
    EXPECT_NE(ticketOf(renewed), ticketOf(session));

    // Past the key's lifetime: the old ticket only gets a full handshake; the renewed one
    // (made 2 h later) still resumes.
    now_ += std::chrono::hours(10);
    Conversation expired = connect(*ctx, *server_, "default.test", session);
    ASSERT_TRUE(expired.ok()) << expired.client->error() << " / " << expired.server->error();
    EXPECT_FALSE(expired.server->resumed());
    EXPECT_FALSE(expired.client->resumed());
    Conversation fresh = connect(*ctx, *server_, "default.test", renewed);
    ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(fresh.server->resumed());

    SSL_SESSION_free(renewed);
    SSL_SESSION_free(session);
}

TEST_P(TicketTest, ResumesAfterSniSwitch) {
    auto ctx = client();
    SSL_SESSION* session = firstSession(*ctx, "exact.example.com");
    ASSERT_NE(session, nullptr);
    Conversation again = connect(*ctx, *server_, "exact.example.com", session);
    ASSERT_TRUE(again.ok()) << again.client->error() << " / " << again.server->error();
    EXPECT_TRUE(again.server->resumed());
    SSL_SESSION_free(session);
}

TEST_P(TicketTest, TicketsSurviveANewServerContext) {
    // A reload builds new contexts with the same (process-wide) keys.
    auto ctx = client();
    SSL_SESSION* session = firstSession(*ctx, "default.test");
    ASSERT_NE(session, nullptr);
    auto reloaded = serverContext(tls_, keys_);
    Conversation again = connect(*ctx, *reloaded, "default.test", session);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again.server->resumed());
    // Other keys (another process) cannot decrypt it.
    auto stranger = serverContext(tls_, std::make_shared<TicketKeys>());
    Conversation other = connect(*ctx, *stranger, "default.test", session);
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other.server->resumed());
    SSL_SESSION_free(session);
}

INSTANTIATE_TEST_SUITE_P(Versions, TicketTest, ::testing::Values(TLS1_3_VERSION, TLS1_2_VERSION),
                         [](const ::testing::TestParamInfo<int>& param) {
                             return param.param == TLS1_3_VERSION ? "Tls13" : "Tls12";
                         });

}  // namespace
}  // namespace sluice::tls
