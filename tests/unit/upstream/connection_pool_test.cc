// ConnectionPool over real net::TcpConnections whose sockets are one end of a socketpair (no
// TCP, no ports): the pool only needs a stream it can read and close, and the other end shows
// what it did (EOF once the pool closed a connection).

#include "upstream/connection_pool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <memory>
#include <set>
#include <vector>

namespace sluice::upstream {
namespace {

// What a session does with a connection it borrowed: nothing here.
class Idle : public net::ConnectionHandler {
  public:
    void onData(net::TcpConnection&, std::string_view) override {}
    void onEof(net::TcpConnection&) override {}
    void onError(net::TcpConnection&, int) override {}
};

class ConnectionPoolTest : public ::testing::Test {
  protected:
    ConnectionPoolTest() {
        uv_loop_init(&loop_);
        pool_ = std::make_unique<ConnectionPool>(&loop_);
    }
    ~ConnectionPoolTest() override {
        pool_.reset();
        for (auto* conn : borrowed_) conn->destroy();
        uv_run(&loop_, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&loop_), 0);
        for (int fd : peers_) ::close(fd);
    }

    // A connection to an upstream and the upstream's end of it.
    struct Link {
        net::TcpConnection* conn;
        int peer;
    };
    Link connect() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
        net::TcpConnection* conn = net::TcpConnection::adopt(&loop_, fds[0]);
        EXPECT_NE(conn, nullptr);
        peers_.push_back(fds[1]);
        return {conn, fds[1]};
    }
    // Turns the loop until `peer` reads EOF (the pool closed its connection), for up to 5 s.
    bool closedByPool(int peer, std::chrono::milliseconds bound = std::chrono::seconds(5)) {
        const auto deadline = std::chrono::steady_clock::now() + bound;
        while (std::chrono::steady_clock::now() < deadline) {
            uv_run(&loop_, UV_RUN_NOWAIT);
            char byte;
            const ssize_t n = ::recv(peer, &byte, 1, 0);
            if (n == 0) return true;
            ::usleep(1000);
        }
        return false;
    }
    // Still open after the loop turned a few times.
    bool stillOpen(int peer) { return !closedByPool(peer, std::chrono::milliseconds(30)); }
    net::TcpConnection* take(const ServerState* server) {
        net::TcpConnection* conn = pool_->take(server);
        if (conn) borrowed_.push_back(conn);
        return conn;
    }

    uv_loop_t loop_{};
    std::unique_ptr<ConnectionPool> pool_;
    ServerState a_, b_;
    std::vector<int> peers_;
    std::vector<net::TcpConnection*> borrowed_;
};

TEST_F(ConnectionPoolTest, LendsBackWhatItWasGivenMostRecentFirst) {
    const Link first = connect(), second = connect();
    EXPECT_EQ(pool_->take(&a_), nullptr);
    pool_->put(&a_, first.conn, 60'000, 8);
    pool_->put(&a_, second.conn, 60'000, 8);
    EXPECT_EQ(pool_->take(&b_), nullptr);  // per server
    net::TcpConnection* got = take(&a_);
    EXPECT_EQ(got, second.conn);
    EXPECT_EQ(got->handler(), nullptr);  // the taker sets its own
    EXPECT_EQ(take(&a_), first.conn);
    EXPECT_EQ(take(&a_), nullptr);
    EXPECT_TRUE(stillOpen(first.peer));
    EXPECT_TRUE(stillOpen(second.peer));
}

TEST_F(ConnectionPoolTest, KeepsAtMostKeepaliveIdleConnectionsPerServer) {
    const Link one = connect(), two = connect(), three = connect();
    pool_->put(&a_, one.conn, 60'000, 2);
    pool_->put(&a_, two.conn, 60'000, 2);
    pool_->put(&a_, three.conn, 60'000, 2);  // over the cap: closed instead
    EXPECT_TRUE(closedByPool(three.peer));
    EXPECT_TRUE(stillOpen(one.peer));
    const Link other = connect();
    pool_->put(&b_, other.conn, 60'000, 2);  // another server has its own cap
    EXPECT_TRUE(stillOpen(other.peer));
    const Link none = connect();
    pool_->put(&a_, none.conn, 60'000, 0);  // keepalive = 0: never kept
    EXPECT_TRUE(closedByPool(none.peer));
    const Link no_timeout = connect();
    pool_->put(&b_, no_timeout.conn, 0, 2);  // idle_timeout 0: never kept either
    EXPECT_TRUE(closedByPool(no_timeout.peer));
}

TEST_F(ConnectionPoolTest, AnIdleConnectionThatSpeaksOrClosesIsDiscarded) {
    const Link talker = connect(), quitter = connect(), quiet = connect();
    pool_->put(&a_, quiet.conn, 60'000, 8);
    pool_->put(&a_, talker.conn, 60'000, 8);
    pool_->put(&a_, quitter.conn, 60'000, 8);
    ASSERT_EQ(::send(talker.peer, "HTTP/1.1 200 OK\r\n", 17, 0), 17);  // unsolicited: untrusted
    ::shutdown(quitter.peer, SHUT_WR);
    EXPECT_TRUE(closedByPool(talker.peer));
    EXPECT_TRUE(closedByPool(quitter.peer));
    EXPECT_EQ(take(&a_), quiet.conn);  // the only one left
    EXPECT_EQ(take(&a_), nullptr);
}

TEST_F(ConnectionPoolTest, IdleConnectionsExpire) {
    const Link link = connect();
    const auto before = std::chrono::steady_clock::now();
    uv_update_time(&loop_);
    pool_->put(&a_, link.conn, 50, 8);
    // Swept once a second: it goes within a few seconds, not at once.
    EXPECT_TRUE(closedByPool(link.peer, std::chrono::seconds(10)));
    EXPECT_GE(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(50));
    EXPECT_EQ(pool_->take(&a_), nullptr);
}

TEST_F(ConnectionPoolTest, RetainOnlyClosesConnectionsToServersThatLeft) {
    const Link kept = connect(), dropped = connect();
    pool_->put(&a_, kept.conn, 60'000, 8);
    pool_->put(&b_, dropped.conn, 60'000, 8);
    pool_->retainOnly({&a_});
    EXPECT_TRUE(closedByPool(dropped.peer));
    EXPECT_EQ(pool_->take(&b_), nullptr);
    EXPECT_EQ(take(&a_), kept.conn);
}

TEST_F(ConnectionPoolTest, CloseAllClosesEveryIdleConnection) {
    const Link one = connect(), two = connect();
    pool_->put(&a_, one.conn, 60'000, 8);
    pool_->put(&b_, two.conn, 60'000, 8);
    pool_->closeAll();
    EXPECT_TRUE(closedByPool(one.peer));
    EXPECT_TRUE(closedByPool(two.peer));
    EXPECT_EQ(pool_->take(&a_), nullptr);
    // The pool is still usable.
    const Link three = connect();
    pool_->put(&a_, three.conn, 60'000, 8);
    EXPECT_EQ(take(&a_), three.conn);
}

}  // namespace
}  // namespace sluice::upstream
