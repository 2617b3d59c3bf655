#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>
#include <string_view>

#include "tls/tls_stream.h"
#include "unit/tls/tls_stream_fixture.h"

// TlsStream data after the handshake: records, buffering, errors, shutdown, delivery in pieces.

namespace sluice::tls {
namespace {

using namespace stream_test;
using testing::startsWith;

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

}  // namespace
}  // namespace sluice::tls
