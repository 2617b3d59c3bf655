#include "net/tcp_connection.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <string>

#include "unit/support/loopback.h"

namespace sluice::net {
namespace {

class Recorder : public ConnectionHandler {
  public:
    void onData(TcpConnection&, std::string_view bytes) override { data.append(bytes); }
    void onEof(TcpConnection&) override { ++eofs; }
    void onError(TcpConnection&, int uv_error) override { error = uv_error; }
    void onDrain(TcpConnection&) override { ++drains; }
    std::string data;
    int eofs = 0;
    int drains = 0;
    int error = 0;
};

class TcpConnectionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ::signal(SIGPIPE, SIG_IGN);  // as sluice does: a broken socket is an error, not a kill
        uv_loop_init(&loop_);
        conn_ = TcpConnection::adopt(&loop_, pair_.takeOurs());
        ASSERT_NE(conn_, nullptr);
        conn_->setHandler(&handler_);
    }
    void TearDown() override {
        if (conn_) conn_->destroy();
        uv_run(&loop_, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&loop_), 0);
    }
    template <class Done>
    void runUntil(Done done) {
        for (int i = 0; i < 400 && !done(); ++i) uv_run(&loop_, UV_RUN_NOWAIT), uv_sleep(5);
    }

    uv_loop_t loop_;
    test::LoopbackPair pair_;
    Recorder handler_;
    TcpConnection* conn_ = nullptr;
};

TEST_F(TcpConnectionTest, ASmallWriteGoesOutAtOnceWithoutQueueing) {
    EXPECT_TRUE(conn_->write("hello ", "world"));
    EXPECT_EQ(conn_->pendingBytes(), 0u);
    EXPECT_EQ(pair_.readTheirs(11), "hello world");
    EXPECT_EQ(conn_->peerAddress(), "127.0.0.1");
}

TEST_F(TcpConnectionTest, WhatTheKernelDoesNotTakeIsQueuedAndDrainIsReported) {
    const std::string big(8 * 1024 * 1024, 'x');
    EXPECT_TRUE(conn_->write(big));
    EXPECT_GT(conn_->pendingBytes(), 0u);  // more than any loopback socket buffer
    EXPECT_EQ(handler_.drains, 0);
    size_t got = 0;
    char buf[65536];
    runUntil([&] {
        ssize_t n;
        while ((n = ::recv(pair_.theirs, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
            got += static_cast<size_t>(n);
        }
        return got == big.size() && handler_.drains > 0;
    });
    EXPECT_EQ(got, big.size());
    EXPECT_EQ(conn_->pendingBytes(), 0u);
    EXPECT_EQ(handler_.drains, 1);
}

TEST_F(TcpConnectionTest, WriteFailsAfterShutdownWriteAndThePeerSeesEof) {
    conn_->shutdownWrite();
    EXPECT_FALSE(conn_->write("late"));
    ssize_t n = -1;
    char c;
    runUntil([&] {
        n = ::recv(pair_.theirs, &c, 1, MSG_DONTWAIT);
        return n >= 0;
    });
    EXPECT_EQ(n, 0);  // FIN, nothing of "late"
}

TEST_F(TcpConnectionTest, AWriteToAResetPeerReturnsFalseAndKeepsFailing) {
    linger lg{1, 0};  // close with RST
    ::setsockopt(pair_.theirs, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(pair_.theirs);
    pair_.theirs = -1;
    bool failed = false;
    runUntil([&] {
        failed = !conn_->write("x");
        return failed;
    });
    EXPECT_TRUE(failed);
    EXPECT_FALSE(conn_->write("y"));  // broken for good
    EXPECT_EQ(handler_.error, 0);     // a failed write is reported by its return value only
}

TEST_F(TcpConnectionTest, ReadsDeliverBytesThenEof) {
    conn_->startReading();
    ASSERT_EQ(::send(pair_.theirs, "abc", 3, 0), 3);
    ::shutdown(pair_.theirs, SHUT_WR);
    runUntil([&] { return handler_.eofs > 0; });
    EXPECT_EQ(handler_.data, "abc");
    EXPECT_EQ(handler_.eofs, 1);
}

TEST_F(TcpConnectionTest, DestroyFromInsideACallbackEndsAllCallbacks) {
    class DestroyOnData : public ConnectionHandler {
      public:
        void onData(TcpConnection& conn, std::string_view) override {
            ++calls;
            conn.destroy();
        }
        void onEof(TcpConnection&) override { ++calls; }
        void onError(TcpConnection&, int) override { ++calls; }
        int calls = 0;
    } handler;
    conn_->setHandler(&handler);
    conn_->startReading();
    ASSERT_EQ(::send(pair_.theirs, "abc", 3, 0), 3);
    ::shutdown(pair_.theirs, SHUT_WR);
    runUntil([&] { return handler.calls > 0; });
    conn_ = nullptr;  // destroyed by the handler
    uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(handler.calls, 1);  // no onEof after destroy()
}

}  // namespace
}  // namespace sluice::net
