#include "net/tcp_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <string>

namespace sluice::net {
namespace {

// A connected loopback pair: `ours` for a TcpConnection (non-blocking), `theirs` a plain
// blocking socket the test drives.
struct SocketPair {
    SocketPair() {
        int listener = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(listener, 1);
        socklen_t len = sizeof a;
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
        theirs = ::socket(AF_INET, SOCK_STREAM, 0);
        ::connect(theirs, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ours = ::accept(listener, nullptr, nullptr);
        ::close(listener);
        ::fcntl(ours, F_SETFL, ::fcntl(ours, F_GETFL) | O_NONBLOCK);
        timeval tv{2, 0};  // the test's reads never hang
        ::setsockopt(theirs, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~SocketPair() {
        if (theirs >= 0) ::close(theirs);
    }
    std::string readTheirs(size_t n) {
        std::string out;
        char buf[65536];
        while (out.size() < n) {
            ssize_t got = ::recv(theirs, buf, sizeof buf, 0);
            if (got <= 0) break;
            out.append(buf, static_cast<size_t>(got));
        }
        return out;
    }
    int ours = -1;
    int theirs = -1;
};

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
        conn_ = TcpConnection::adopt(&loop_, pair_.ours);
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
    SocketPair pair_;
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
