#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>

#include "tls/tls_stream.h"
#include "unit/tls/tls_stream_fixture.h"

// TlsStream session resumption: stateless tickets, TLS 1.3 and 1.2, under rotating TicketKeys.

namespace sluice::tls {
namespace {

using namespace stream_test;

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
