#include "proxy/upstream_connector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::proxy {
namespace {

// ---------------------------------------------------------------------------------------------
// decideNext: the retry-or-fail decision alone

AttemptEnd ended(AttemptFailure failure) {
    AttemptEnd end;
    end.failure = failure;
    end.attempts = 1;
    end.retries = 2;
    return end;
}

TEST(DecideNextTest, AConnectFailureMovesOnEvenForANonIdempotentRequest) {
    AttemptEnd end = ended(AttemptFailure::kConnect);
    end.idempotent = false;
    const NextStep step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kRetryOtherServer);
    EXPECT_TRUE(step.server_failed);
    EXPECT_EQ(step.status, 502);
}

TEST(DecideNextTest, TimeoutsAnswer504AndOtherFailures502) {
    AttemptEnd end = ended(AttemptFailure::kConnectTimeout);
    end.attempts = 3;  // retries used up
    NextStep step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kFail);
    EXPECT_EQ(step.status, 504);
    EXPECT_STREQ(step.termination, "upstream_timeout");

    end.failure = AttemptFailure::kResponseTimeout;
    step = decideNext(end);
    EXPECT_EQ(step.status, 504);
    EXPECT_STREQ(step.termination, "upstream_timeout");

    end.failure = AttemptFailure::kBroken;
    step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kFail);
    EXPECT_EQ(step.status, 502);
    EXPECT_STREQ(step.termination, "upstream_error");
}

TEST(DecideNextTest, RetriesStopAtThePoolsRetries) {
    AttemptEnd end = ended(AttemptFailure::kConnect);
    end.retries = 1;
    end.attempts = 1;
    EXPECT_EQ(decideNext(end).action, NextStep::kRetryOtherServer);
    end.attempts = 2;
    EXPECT_EQ(decideNext(end).action, NextStep::kFail);
    end.retries = 0;
    end.attempts = 1;
    EXPECT_EQ(decideNext(end).action, NextStep::kFail);
}

TEST(DecideNextTest, AStalePooledConnectionIsRetriedOnTheSameServerWithoutBlame) {
    AttemptEnd end = ended(AttemptFailure::kBroken);
    end.reused = true;
    NextStep step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kRetrySameServer);
    EXPECT_FALSE(step.server_failed);

    // Not replayable: answered, still without blaming the server.
    end.idempotent = false;
    step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kFail);
    EXPECT_FALSE(step.server_failed);

    // Silence on a reused connection is the server's.
    end.idempotent = true;
    end.failure = AttemptFailure::kResponseTimeout;
    step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kRetryOtherServer);
    EXPECT_TRUE(step.server_failed);
}

TEST(DecideNextTest, ABrokenExchangeIsReplayedOnlyWhenIdempotentAndNoBodyLeft) {
    AttemptEnd end = ended(AttemptFailure::kBroken);
    EXPECT_EQ(decideNext(end).action, NextStep::kRetryOtherServer);
    end.body_started = true;
    EXPECT_EQ(decideNext(end).action, NextStep::kFail);
    end.body_started = false;
    end.idempotent = false;
    EXPECT_EQ(decideNext(end).action, NextStep::kFail);
}

TEST(DecideNextTest, AFailureAfterTheResponseStartedCutsTheClient) {
    AttemptEnd end = ended(AttemptFailure::kBroken);
    end.response_started = true;
    end.reused = true;  // not stale once the response started
    NextStep step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kCutClient);
    EXPECT_TRUE(step.server_failed);
    EXPECT_STREQ(step.termination, "upstream_error_mid_response");
    end.failure = AttemptFailure::kResponseTimeout;
    step = decideNext(end);
    EXPECT_EQ(step.status, 504);
    EXPECT_STREQ(step.termination, "upstream_timeout_mid_response");
}

TEST(DecideNextTest, A5xxIsRetriedOnlyWithRetry5xx) {
    AttemptEnd end = ended(AttemptFailure::kRetriableStatus);
    end.status = 503;
    NextStep step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kRelay);
    EXPECT_TRUE(step.server_failed);
    end.retry_5xx = true;
    step = decideNext(end);
    EXPECT_EQ(step.action, NextStep::kRetryOtherServer);
    EXPECT_EQ(step.status, 503);
    end.idempotent = false;
    EXPECT_EQ(decideNext(end).action, NextStep::kRelay);
    end.idempotent = true;
    end.attempts = 3;
    EXPECT_EQ(decideNext(end).action, NextStep::kRelay);
}

// ---------------------------------------------------------------------------------------------
// UpstreamConnector over a real selector and loop (loopback sockets only where a connect is
// the point)

class Recorder : public UpstreamConnector::Owner {
  public:
    void onUpstreamReady(net::TcpConnection* conn, bool reused) override {
        events.push_back(reused ? "ready reused" : "ready");
        conn->destroy();
    }
    void onUpstreamUnavailable(int status, const char* termination) override {
        events.push_back(std::to_string(status) + " " + termination);
    }
    std::vector<std::string> events;
};

// A loopback port with nothing listening on it (bound, never listened: connects are refused).
class ClosedPort {
  public:
    ClosedPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~ClosedPort() { ::close(fd_); }
    void listenNow() { ::listen(fd_, 8); }
    int fd() const { return fd_; }
    uint16_t port = 0;

  private:
    int fd_;
};

int fdOf(const ClosedPort& p) { return p.fd(); }

class UpstreamConnectorTest : public ::testing::Test {
  protected:
    ~UpstreamConnectorTest() override {
        connector_.reset();
        selector_.reset();
        conn_pool_.reset();
        uv_run(loop_, UV_RUN_DEFAULT);  // close callbacks
    }

    void make(const std::vector<uint16_t>& ports, config::PoolConfig settings = {}) {
        auto pool = std::make_shared<upstream::Pool>();
        pool->config = std::move(settings);
        pool->config.name = "app";
        for (size_t i = 0; i < ports.size(); ++i) {
            config::ServerConfig server;
            server.name = "s" + std::to_string(i + 1);
            server.address.host = "127.0.0.1";
            server.address.port = ports[i];
            auto* sin = reinterpret_cast<sockaddr_in*>(&server.address.sockaddr);
            sin->sin_family = AF_INET;
            sin->sin_port = htons(ports[i]);
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            server.address.sockaddr_len = sizeof(sockaddr_in);
            pool->config.servers.push_back(server);
            pool->servers.push_back({server, std::make_shared<upstream::ServerState>()});
        }
        pool_ = pool;
        selector_ = std::make_unique<upstream::ServerSelector>(loop_, pool_, 1);
        conn_pool_ = std::make_unique<upstream::ConnectionPool>(loop_);
        connector_ = std::make_unique<UpstreamConnector>(loop_, *conn_pool_, owner_);
    }
    upstream::ServerState& state(size_t i) { return *pool_->servers[i].state; }
    void runUntilEvent() {
        for (int i = 0; i < 200 && owner_.events.empty(); ++i) uv_run(loop_, UV_RUN_ONCE);
    }

    uv_loop_t* loop_ = uv_default_loop();
    std::shared_ptr<const upstream::Pool> pool_;
    std::unique_ptr<upstream::ServerSelector> selector_;
    std::unique_ptr<upstream::ConnectionPool> conn_pool_;
    Recorder owner_;
    std::unique_ptr<UpstreamConnector> connector_;
};

TEST_F(UpstreamConnectorTest, NoServerAvailableAnswers503AtOnce) {
    make({1});
    state(0).healthy.store(false);
    connector_->begin(*selector_, "", true);
    EXPECT_EQ(owner_.events, std::vector<std::string>{"503 no_server"});
    EXPECT_EQ(connector_->attempts(), 0u);
    EXPECT_EQ(state(0).active.load(), 0u);
}

TEST_F(UpstreamConnectorTest, RefusedConnectsMoveOnThenAnswerTheLastFailure) {
    ClosedPort a, b, c;
    config::PoolConfig settings;
    settings.retries = 1;
    make({a.port, b.port, c.port}, settings);
    connector_->begin(*selector_, "", true);
    runUntilEvent();
    EXPECT_EQ(owner_.events, std::vector<std::string>{"502 upstream_error"});
    EXPECT_EQ(connector_->attempts(), 2u);  // one try and one retry, never the third server
    uint64_t failures = 0;
    for (size_t i = 0; i < 3; ++i) failures += state(i).failures.load();
    EXPECT_EQ(failures, 2u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(state(i).active.load(), 0u);  // slots given back
}

TEST_F(UpstreamConnectorTest, ARefusedServerIsSkippedForTheNextOne) {
    ClosedPort refused, open;
    open.listenNow();
    make({refused.port, open.port});
    connector_->begin(*selector_, "", true);
    runUntilEvent();
    EXPECT_EQ(owner_.events, std::vector<std::string>{"ready"});
    EXPECT_EQ(connector_->attempts(), 2u);
    ASSERT_NE(connector_->server(), nullptr);
    EXPECT_EQ(connector_->server()->config.name, "s2");
    EXPECT_GE(connector_->connectMs(), 0);
    EXPECT_EQ(state(1).active.load(), 1u);  // held until release()
    connector_->release();
    EXPECT_EQ(state(1).active.load(), 0u);
}

TEST_F(UpstreamConnectorTest, AConnectThatHangsTimesOutWith504) {
    // A listener whose accept queue is full: the kernel drops further SYNs, the connect hangs.
    ClosedPort full;
    ::listen(fdOf(full), 0);
    std::vector<int> fillers;
    for (int i = 0; i < 3; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(full.port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        fillers.push_back(fd);
    }
    uv_sleep(50);  // let the handshakes of the fillers land in the accept queue
    config::PoolConfig settings;
    settings.retries = 0;
    settings.connect_timeout = config::Duration{50};
    make({full.port}, settings);
    connector_->begin(*selector_, "", true);
    runUntilEvent();
    EXPECT_EQ(owner_.events, std::vector<std::string>{"504 upstream_timeout"});
    EXPECT_EQ(state(0).failures.load(), 1u);
    EXPECT_EQ(state(0).active.load(), 0u);
    for (int fd : fillers) ::close(fd);
}

TEST_F(UpstreamConnectorTest, EveryServerAtItsCapQueuesUntilQueueTimeout) {
    config::PoolConfig settings;
    settings.max_conns_per_server = 1;
    settings.queue_timeout = config::Duration{20};
    make({1}, settings);
    const upstream::Selection held = selector_->acquire({}, "", uv_now(loop_));
    ASSERT_EQ(held.kind, upstream::Selection::kSelected);
    connector_->begin(*selector_, "", true);
    EXPECT_TRUE(connector_->waiting());
    EXPECT_TRUE(owner_.events.empty());
    runUntilEvent();
    EXPECT_EQ(owner_.events, std::vector<std::string>{"503 queue_timeout"});
    EXPECT_FALSE(connector_->waiting());
    selector_->release(held.index, uv_now(loop_));
}

TEST_F(UpstreamConnectorTest, CancelLeavesTheQueueWithoutACallback) {
    config::PoolConfig settings;
    settings.max_conns_per_server = 1;
    make({1}, settings);
    const upstream::Selection held = selector_->acquire({}, "", uv_now(loop_));
    connector_->begin(*selector_, "", true);
    EXPECT_TRUE(connector_->waiting());
    connector_->cancel();
    EXPECT_FALSE(connector_->waiting());
    EXPECT_EQ(selector_->queued(), 0u);
    selector_->release(held.index, uv_now(loop_));
    uv_run(loop_, UV_RUN_NOWAIT);
    EXPECT_TRUE(owner_.events.empty());
}

TEST_F(UpstreamConnectorTest, The5xxRetryWaitsForRetryNowAndSkipsTheServer) {
    ClosedPort a, b;
    a.listenNow();
    b.listenNow();
    config::PoolConfig settings;
    settings.retry_5xx = true;
    make({a.port, b.port}, settings);
    connector_->begin(*selector_, "", true);
    runUntilEvent();
    ASSERT_EQ(owner_.events, std::vector<std::string>{"ready"});
    const std::string first = connector_->server()->config.name;
    AttemptEnd end;
    end.failure = AttemptFailure::kRetriableStatus;
    end.status = 503;
    end.retry_5xx = true;
    end.attempts = connector_->attempts();
    end.retries = 2;
    const NextStep step = connector_->decide(end, "HTTP 5xx");
    EXPECT_EQ(step.action, NextStep::kRetryOtherServer);
    EXPECT_EQ(owner_.events.size(), 1u);  // nothing happens before retryNow()
    owner_.events.clear();
    connector_->retryNow(step);
    runUntilEvent();
    EXPECT_EQ(owner_.events, std::vector<std::string>{"ready"});
    EXPECT_NE(connector_->server()->config.name, first);
    connector_->release();
}

}  // namespace
}  // namespace sluice::proxy
