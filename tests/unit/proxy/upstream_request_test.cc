#include "proxy/http/upstream_request.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <uv.h>

#include <memory>
#include <string>

#include "unit/support/loopback.h"

namespace sluice::proxy {
namespace {

class Quiet : public net::ConnectionHandler {
  public:
    void onData(net::TcpConnection&, std::string_view) override {}
    void onEof(net::TcpConnection&) override {}
    void onError(net::TcpConnection&, int) override {}
};

// The server side of a loopback connection (`theirs`, blocking) and our side adopted as a
// TcpConnection, as the connector hands it over.
class UpstreamRequestTest : public ::testing::Test {
  protected:
    void SetUp() override {
        uv_loop_init(&loop_);
        pool_ = std::make_unique<upstream::ConnectionPool>(&loop_);
        conn_ = net::TcpConnection::adopt(&loop_, pair_.takeOurs());
        ASSERT_NE(conn_, nullptr);
    }
    void TearDown() override {
        pool_.reset();
        for (int i = 0; i < 100; ++i) uv_run(&loop_, UV_RUN_NOWAIT);  // bounded: a leak fails
        EXPECT_EQ(uv_loop_close(&loop_), 0);                          // every handle closed
    }
    // What the server side reads now: the bytes, or "EOF".
    std::string serverReads() {
        for (int i = 0; i < 50; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
        char buf[256];
        ssize_t n = ::recv(pair_.theirs, buf, sizeof buf, 0);
        if (n == 0) return "EOF";
        return n < 0 ? "nothing" : std::string(buf, static_cast<size_t>(n));
    }

    uv_loop_t loop_;
    std::unique_ptr<upstream::ConnectionPool> pool_;
    upstream::ServerState server_;
    config::PoolConfig config_;
    Quiet handler_;
    net::TcpConnection* conn_ = nullptr;
    test::LoopbackPair pair_;
};

TEST_F(UpstreamRequestTest, SendsTheHeadAndTheLastChunkOfAnEmptyBody) {
    UpstreamRequest attempt(conn_, /*reused=*/false, handler_);
    EXPECT_FALSE(attempt.reused());
    ASSERT_TRUE(attempt.sendHead("POST / HTTP/1.1\r\n\r\n", "0\r\n\r\n"));
    EXPECT_EQ(serverReads(), "POST / HTTP/1.1\r\n\r\n0\r\n\r\n");
}

TEST_F(UpstreamRequestTest, AReusableFinishGivesTheConnectionToThePool) {
    {
        UpstreamRequest attempt(conn_, /*reused=*/true, handler_);
        EXPECT_TRUE(attempt.reused());
        attempt.finish(/*reusable=*/true, *pool_, &server_, config_);
    }
    EXPECT_EQ(pool_->take(&server_), conn_);  // open and idle, not closed by the destructor
    conn_->destroy();
    EXPECT_EQ(serverReads(), "EOF");
}

TEST_F(UpstreamRequestTest, AnyOtherEndClosesTheConnection) {
    {
        UpstreamRequest attempt(conn_, false, handler_);
        attempt.finish(/*reusable=*/false, *pool_, &server_, config_);
    }
    EXPECT_EQ(pool_->take(&server_), nullptr);
    EXPECT_EQ(serverReads(), "EOF");
}

TEST_F(UpstreamRequestTest, DestroyingAnUnfinishedAttemptClosesTheConnection) {
    { UpstreamRequest attempt(conn_, false, handler_); }
    EXPECT_EQ(pool_->take(&server_), nullptr);
    EXPECT_EQ(serverReads(), "EOF");
}

}  // namespace
}  // namespace sluice::proxy
