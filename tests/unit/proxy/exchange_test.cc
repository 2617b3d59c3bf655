// Exchange over a real loop and selector, with a fake downstream (no client protocol) and
// upstream servers played by blocking loopback sockets the test reads and writes itself.

#include "proxy/exchange/exchange.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "config/config_loader.h"
#include "routing/snapshot.h"
#include "unit/support/loopback.h"

namespace sluice::proxy {
namespace {

// What the exchange told its client side, in order, as short strings.
class FakeDownstream final : public Downstream {
  public:
    explicit FakeDownstream(net::TcpConnection& client) : client_(client) {}

    const net::TcpConnection& client() const override { return client_; }
    void resumeRequestBody() override { events.push_back("resume"); }
    SendResult sendInterim(const http::ResponseHead& head) override {
        events.push_back("interim " + std::to_string(head.status));
        return SendResult::kOk;
    }
    SendResult sendResponseHead(const http::ResponseHead& head, std::string_view extra,
                                bool) override {
        events.push_back("head " + std::to_string(head.status));
        extra_ = std::string(extra);
        return head_result;
    }
    SendResult sendResponseBody(std::string_view data) override {
        body.append(data);
        return body_result;
    }
    SendResult endResponse(const http::HeaderList* t) override {
        events.push_back("end");
        if (t != nullptr) {
            for (size_t i = 0; i < t->size(); ++i) trailers.append(t->line(i));
        }
        return SendResult::kOk;
    }
    SendResult flushResponse() override { return SendResult::kOk; }
    uint64_t sendLocalResponse(int status, std::string_view extra) override {
        events.push_back("local " + std::to_string(status));
        extra_ = std::string(extra);
        return 10;
    }
    void onExchangeEnd(ExchangeEnd end) override {
        ends.push_back(end);
        events.push_back("ended");
    }

    std::vector<std::string> events;
    std::vector<ExchangeEnd> ends;
    std::string body;
    std::string trailers;  // the trailer lines endResponse() got
    std::string extra_;
    SendResult head_result = SendResult::kOk;
    SendResult body_result = SendResult::kOk;

  private:
    net::TcpConnection& client_;
};

// A listening loopback socket standing for one upstream server (blocking, driven by the test).
class FakeServer {
  public:
    ~FakeServer() {
        for (int c : conns_) ::close(c);
    }
    int port() const { return listener_.port(); }
    bool pendingConnection() const {
        pollfd p{listener_.fd(), POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
    }
    int accept() {
        const int c = listener_.accept();
        test::setReceiveTimeout(c, 200);
        conns_.push_back(c);
        return c;
    }

  private:
    test::LoopbackListener listener_;
    std::vector<int> conns_;
};

class ExchangeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        uv_loop_init(&loop_);
        ctx_ = std::make_unique<ProxyContext>(&loop_, counters_);
        // A client connection for client(): its peer is the test.
        client_ = net::TcpConnection::adopt(&loop_, client_pair_.takeOurs());
        ASSERT_NE(client_, nullptr);
        down_ = std::make_unique<FakeDownstream>(*client_);

        head_.method = "GET";
        head_.target = "/x";
        head_.headers.add("Host", "example.test");
    }
    void TearDown() override {
        exchange_.reset();
        down_.reset();
        client_->destroy();
        ctx_.reset();
        for (int i = 0; i < 100; ++i) uv_run(&loop_, UV_RUN_NOWAIT);  // bounded: a leak fails
        EXPECT_EQ(uv_loop_close(&loop_), 0);                          // every handle closed
    }

    // One pool "app" with a server per FakeServer, `pool_extra` lines added to the pool table.
    void configure(const std::vector<const FakeServer*>& servers, const std::string& pool_extra) {
        std::string toml = R"([[listener]]
name = "web"
bind = "127.0.0.1:1"
pool = "app"
request_id_header = "X-Request-Id"
[[pool]]
name = "app"
)" + pool_extra;
        for (size_t i = 0; i < servers.size(); ++i) {
            toml += "  [[pool.server]]\n  name = \"s" + std::to_string(i) +
                    "\"\n  address = \"127.0.0.1:" + std::to_string(servers[i]->port()) + "\"\n";
        }
        auto loaded = config::loadConfigFromString(toml, "exchange_test.toml");
        ASSERT_TRUE(std::holds_alternative<config::Config>(loaded));
        auto file = std::make_shared<config::Config>(std::get<config::Config>(std::move(loaded)));
        ctx_->adopt(std::make_shared<WorkerSnapshot>(
            &loop_, routing::buildSnapshot(file, 1, registry_), 7));
    }
    Exchange& newExchange() {
        exchange_ =
            std::make_unique<Exchange>(*ctx_, ctx_->current(), 0, *down_, head_, uv_now(&loop_));
        return *exchange_;
    }
    void spin(int rounds = 20) {
        for (int i = 0; i < rounds; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    }
    // The usual start: one server, a bodiless request started on it, the connection accepted
    // and the request read. Returns the server side of that connection.
    int startOnOneServer(FakeServer& server, const std::string& pool_extra = "") {
        configure({&server}, pool_extra);
        newExchange().start(/*end_of_request=*/true);
        const int fd = acceptFrom(server);
        serverReads(fd);
        return fd;
    }
    // Runs the loop until `server` has a connection to accept, then accepts it.
    int acceptFrom(FakeServer& server) {
        for (int i = 0; i < 200 && !server.pendingConnection(); ++i) uv_run(&loop_, UV_RUN_NOWAIT);
        EXPECT_TRUE(server.pendingConnection());
        return server.accept();
    }
    // What the server side of `fd` reads now (after running the loop): bytes, "EOF" or "".
    std::string serverReads(int fd) {
        spin();
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) return "EOF";
        return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
    }
    void serverWrites(int fd, std::string_view bytes) {
        ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
        spin();
    }

    uv_loop_t loop_;
    ProcessCounters counters_;
    routing::ServerStateRegistry registry_;
    std::unique_ptr<ProxyContext> ctx_;
    net::TcpConnection* client_ = nullptr;
    test::LoopbackPair client_pair_;
    std::unique_ptr<FakeDownstream> down_;
    http::RequestHead head_;
    std::unique_ptr<Exchange> exchange_;
};

TEST_F(ExchangeTest, RelaysAResponseAndPoolsTheConnection) {
    FakeServer server;
    configure({&server}, "");
    Exchange& ex = newExchange();
    EXPECT_FALSE(ex.start(/*end_of_request=*/true));  // no body to take: not attached yet
    const int fd = acceptFrom(server);
    const std::string request = serverReads(fd);
    EXPECT_EQ(request.rfind("GET /x HTTP/1.1\r\n", 0), 0u) << request;
    EXPECT_NE(request.find("X-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << request;
    EXPECT_NE(request.find("X-Request-Id: " + ex.requestId() + "\r\n"), std::string::npos);
    EXPECT_EQ(ex.requestId().size(), 16u);

    serverWrites(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    EXPECT_EQ(down_->events, (std::vector<std::string>{"head 200", "end", "ended"}));
    EXPECT_EQ(down_->body, "hi");
    EXPECT_EQ(down_->extra_, "X-Request-Id: " + ex.requestId() + "\r\n");
    ASSERT_EQ(down_->ends, std::vector<ExchangeEnd>{ExchangeEnd::kComplete});
    EXPECT_EQ(ex.status(), 200);
    EXPECT_EQ(ctx_->connectionPool().idleCount(), 1u);  // reusable: back in the worker's pool
    EXPECT_EQ(serverReads(fd), "");                     // and still open
}

TEST_F(ExchangeTest, AnUnroutableRequestIsAnsweredHereAndReachesNoServer) {
    FakeServer server;
    configure({&server}, "");
    // The listener's only route is its default pool, so route failure needs no pool: use a
    // listener without one.
    auto config = std::make_shared<config::Config>(*ctx_->current()->snapshot->config);
    config->listeners[0].pool.clear();
    ctx_->adopt(
        std::make_shared<WorkerSnapshot>(&loop_, routing::buildSnapshot(config, 2, registry_), 7));
    Exchange& ex = newExchange();
    EXPECT_FALSE(ex.start(true));
    EXPECT_EQ(down_->events, (std::vector<std::string>{"local 404", "ended"}));
    EXPECT_EQ(down_->ends, std::vector<ExchangeEnd>{ExchangeEnd::kLocal});
    spin();
    EXPECT_FALSE(server.pendingConnection());
}

TEST_F(ExchangeTest, Retry5xxMovesToTheOtherServerAndRelaysOnlyItsAnswer) {
    FakeServer first, second;
    configure({&first, &second}, "retry_5xx = true\nretries = 1\nalgorithm = \"round_robin\"\n");
    Exchange& ex = newExchange();
    ex.start(true);
    for (int i = 0; i < 200 && !first.pendingConnection() && !second.pendingConnection(); ++i)
        uv_run(&loop_, UV_RUN_NOWAIT);
    FakeServer& picked = first.pendingConnection() ? first : second;
    FakeServer& other = &picked == &first ? second : first;
    const int fd1 = picked.accept();
    EXPECT_NE(serverReads(fd1), "");
    serverWrites(fd1, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
    const int fd2 = acceptFrom(other);
    EXPECT_EQ(serverReads(fd2).rfind("GET /x HTTP/1.1\r\n", 0), 0u);
    serverWrites(fd2, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(down_->events, (std::vector<std::string>{"head 200", "end", "ended"}));
    EXPECT_EQ(serverReads(fd1), "EOF");  // a retried attempt's connection is never reused
}

TEST_F(ExchangeTest, AFullDownstreamHoldsTheUpstreamUntilItIsWritable) {
    FakeServer server;
    const int fd = startOnOneServer(server);
    Exchange& ex = *exchange_;
    down_->body_result = SendResult::kFull;
    serverWrites(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    serverWrites(fd, "3\r\ndef\r\n0\r\n\r\n");
    EXPECT_EQ(down_->body, "abc");  // held: the rest waits for the downstream
    EXPECT_TRUE(down_->ends.empty());
    down_->body_result = SendResult::kOk;
    ex.downstreamWritable();
    spin();
    EXPECT_EQ(down_->body, "abcdef");
    EXPECT_EQ(down_->ends, std::vector<ExchangeEnd>{ExchangeEnd::kComplete});
}

TEST_F(ExchangeTest, AClientGoneMidResponseAbortsAndClosesTheUpstream) {
    FakeServer server;
    const int fd = startOnOneServer(server);
    Exchange& ex = *exchange_;
    down_->head_result = SendResult::kGone;
    serverWrites(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(down_->ends, std::vector<ExchangeEnd>{ExchangeEnd::kClientGone});
    EXPECT_EQ(down_->body, "");
    EXPECT_EQ(counters_.client_aborts.load(), 1u);
    EXPECT_EQ(serverReads(fd), "EOF");
    EXPECT_EQ(ctx_->connectionPool().idleCount(), 0u);
    EXPECT_TRUE(ex.ended());
}

TEST_F(ExchangeTest, AnUpstreamThatDiesAfterTheHeadCutsTheClient) {
    FakeServer server;
    const int fd = startOnOneServer(server);
    Exchange& ex = *exchange_;
    serverWrites(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
    ::shutdown(fd, SHUT_WR);
    spin();
    EXPECT_EQ(down_->events, (std::vector<std::string>{"head 200", "ended"}));
    EXPECT_EQ(down_->ends, std::vector<ExchangeEnd>{ExchangeEnd::kCut});
    EXPECT_EQ(ex.status(), 200);
}

TEST_F(ExchangeTest, ABrokenUpstreamBeforeTheHeadAnswers502WithoutRetriesLeft) {
    FakeServer server;
    const int fd = startOnOneServer(server, "retries = 0\n");
    Exchange& ex = *exchange_;
    serverWrites(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    EXPECT_EQ(down_->events, (std::vector<std::string>{"local 502", "ended"}));
    EXPECT_EQ(ex.status(), 502);
}

TEST_F(ExchangeTest, A101ForADownstreamThatCannotTunnelIsABrokenAttempt) {
    FakeServer server;
    const int fd = startOnOneServer(server, "retries = 0\n");
    serverWrites(fd,
                 "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
                 "Upgrade: websocket\r\n\r\n");
    EXPECT_EQ(down_->events, (std::vector<std::string>{"local 502", "ended"}));
}

TEST_F(ExchangeTest, ARequestBodyStreamsOnceAttachedAndCancelIsSilent) {
    FakeServer server;
    configure({&server}, "");
    head_.method = "POST";
    head_.framing = http::BodyFraming::kChunked;
    Exchange& ex = newExchange();
    EXPECT_FALSE(ex.start(false));
    EXPECT_FALSE(ex.acceptsBody());
    const int fd = acceptFrom(server);
    spin();
    EXPECT_EQ(down_->events, (std::vector<std::string>{"resume"}));  // attached: body may come
    ASSERT_TRUE(ex.acceptsBody());
    EXPECT_TRUE(ex.requestBody("abc"));
    const std::string sent = serverReads(fd);
    EXPECT_NE(sent.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << sent;
    EXPECT_EQ(sent.substr(sent.size() - 12), "\r\n\r\n3\r\nabc\r\n") << sent;
    ex.cancel();
    EXPECT_TRUE(ex.ended());
    EXPECT_EQ(serverReads(fd), "EOF");
    EXPECT_EQ(down_->events, (std::vector<std::string>{"resume"}));  // no word to the client side
}

TEST_F(ExchangeTest, ResponseTrailersReachTheDownstreamAsReceived) {
    FakeServer server;
    const int fd = startOnOneServer(server);
    serverWrites(fd,
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                 "2\r\nhi\r\n0\r\nX-Sum: 42\r\nGrpc-Status: 0\r\n\r\n");
    EXPECT_EQ(down_->events, (std::vector<std::string>{"head 200", "end", "ended"}));
    EXPECT_EQ(down_->body, "hi");
    EXPECT_EQ(down_->trailers, "X-Sum: 42\r\nGrpc-Status: 0\r\n");
    EXPECT_EQ(ctx_->connectionPool().idleCount(), 1u);  // trailers end a reusable response
}

TEST_F(ExchangeTest, RequestTrailersFollowAChunkedBodyWithoutFramingFields) {
    FakeServer server;
    configure({&server}, "");
    head_.method = "POST";
    head_.framing = http::BodyFraming::kChunked;
    Exchange& ex = newExchange();
    ex.start(false);
    const int fd = acceptFrom(server);
    spin();
    ASSERT_TRUE(ex.requestBody("abc"));
    http::HeaderList trailers;
    trailers.add("X-Checksum", "900150983cd2");
    trailers.add("Content-Length", "3");  // framing is settled: never sent on
    trailers.add("Host", "evil.test");    // nor routing
    ex.requestEnd(&trailers);
    const std::string sent = serverReads(fd);
    const std::string tail = "3\r\nabc\r\n0\r\nX-Checksum: 900150983cd2\r\n\r\n";
    ASSERT_GE(sent.size(), tail.size());
    EXPECT_EQ(sent.substr(sent.size() - tail.size()), tail) << sent;
}

TEST_F(ExchangeTest, TrailersOfAnEmptyChunkedBodyAreSentWhenTheUpstreamAttaches) {
    FakeServer server;
    configure({&server}, "");
    head_.method = "POST";
    head_.framing = http::BodyFraming::kChunked;
    Exchange& ex = newExchange();
    ex.start(false);
    http::HeaderList trailers;
    trailers.add("X-Late", "1");
    ex.requestEnd(&trailers);  // before the connection is up: sent with the head
    const int fd = acceptFrom(server);
    const std::string sent = serverReads(fd);
    const std::string tail = "\r\n\r\n0\r\nX-Late: 1\r\n\r\n";
    ASSERT_GE(sent.size(), tail.size());
    EXPECT_EQ(sent.substr(sent.size() - tail.size()), tail) << sent;
}

TEST_F(ExchangeTest, RecycledPartsTimeOutForTheirNewExchangeOnly) {
    FakeServer server;
    const int fd = startOnOneServer(server, "retries = 0\nresponse_timeout = \"20ms\"\n");
    serverWrites(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    ASSERT_EQ(down_->ends, std::vector<ExchangeEnd>{ExchangeEnd::kComplete});
    exchange_.reset();
    EXPECT_EQ(ctx_->exchangeParts().spare(), 1u);  // its parts went back to the pool

    // The next exchange takes them (timer and parser bound once, for whoever holds them): a
    // server that never answers is its timeout, reported to it alone.
    down_->events.clear();
    down_->ends.clear();
    newExchange().start(/*end_of_request=*/true);
    EXPECT_EQ(ctx_->exchangeParts().spare(), 0u);
    EXPECT_EQ(serverReads(fd).rfind("GET /x HTTP/1.1\r\n", 0), 0u);  // the pooled connection
    for (int i = 0; i < 100 && down_->ends.empty(); ++i) uv_run(&loop_, UV_RUN_ONCE);
    EXPECT_EQ(down_->events, (std::vector<std::string>{"local 504", "ended"}));
    EXPECT_EQ(exchange_->status(), 504);
}

TEST_F(ExchangeTest, AStoppingWorkerKeepsNoPartsInThePool) {
    FakeServer server;
    const int fd = startOnOneServer(server);
    serverWrites(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    exchange_.reset();
    ASSERT_EQ(ctx_->exchangeParts().spare(), 1u);
    ctx_->markDraining();  // a pooled timer may be armed: nothing pooled may keep the loop up
    EXPECT_EQ(ctx_->exchangeParts().spare(), 0u);
    newExchange().start(true);
    EXPECT_NE(serverReads(fd), "");  // on the pooled connection
    exchange_.reset();               // its parts are destroyed, not pooled
    EXPECT_EQ(ctx_->exchangeParts().spare(), 0u);
}

}  // namespace
}  // namespace sluice::proxy
