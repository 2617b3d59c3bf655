#include "proxy/http/http_session_parts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::proxy {
namespace {

// Records what a parser reported, as short strings.
class RecordingHandler final : public http::RequestHandler {
  public:
    http::Action onRequestHead(http::RequestHead& head) override {
        events.push_back("head " + head.target);
        return http::Action::kContinue;
    }
    http::Action onRequestBody(std::string_view) override { return http::Action::kContinue; }
    void onRequestComplete() override { events.push_back("complete"); }
    std::vector<std::string> events;
};

TEST(HttpSessionPartsPool, GivenBackPartsComeOutClearedForTheNextHandlerAndLimits) {
    HttpSessionPartsPool pool;
    RecordingHandler first, second;
    auto parts = pool.take(first, http::RequestLimits{});
    const auto r1 = parts->parser.feed("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /tw");
    EXPECT_EQ(r1.kind, http::FeedResult::kPaused);
    parts->client_in = "GET /tw";
    parts->response_head = "HTTP/1.1 200 OK\r\n\r\n";
    parts->scratch = "scratch";
    const HttpSessionParts* address = parts.get();
    pool.give(std::move(parts));
    EXPECT_EQ(pool.spare(), 1u);

    // The same parts (reused, not reallocated), with nothing of the first connection left: a
    // fresh parser that reports to the new handler under the new limits.
    http::RequestLimits tight;
    tight.max_header_bytes = 40;
    auto again = pool.take(second, tight);
    EXPECT_EQ(again.get(), address);
    EXPECT_EQ(pool.spare(), 0u);
    EXPECT_TRUE(again->client_in.empty());
    EXPECT_TRUE(again->response_head.empty());
    EXPECT_TRUE(again->scratch.empty());
    EXPECT_TRUE(again->parser.idle());
    const auto r2 = again->parser.feed("GET /two HTTP/1.1\r\nHost: b\r\n\r\n");
    EXPECT_EQ(r2.kind, http::FeedResult::kPaused);
    EXPECT_EQ(first.events, (std::vector<std::string>{"head /one", "complete"}));
    EXPECT_EQ(second.events, (std::vector<std::string>{"head /two", "complete"}));
    pool.give(std::move(again));

    RecordingHandler third;
    auto limited = pool.take(third, tight);
    const auto r3 =
        limited->parser.feed("GET /three HTTP/1.1\r\nHost: c\r\nX-Long: 0123456789\r\n\r\n");
    EXPECT_EQ(r3.kind, http::FeedResult::kError);
    EXPECT_EQ(r3.status, 431);
    EXPECT_TRUE(third.events.empty());
}

TEST(HttpSessionPartsPool, KeepsAtMostMaxSpare) {
    HttpSessionPartsPool pool;
    RecordingHandler handler;
    std::vector<std::unique_ptr<HttpSessionParts>> taken;
    for (size_t i = 0; i < HttpSessionPartsPool::kMaxSpare + 5; ++i) {
        taken.push_back(pool.take(handler, http::RequestLimits{}));
    }
    for (auto& parts : taken) pool.give(std::move(parts));
    EXPECT_EQ(pool.spare(), HttpSessionPartsPool::kMaxSpare);
}

}  // namespace
}  // namespace sluice::proxy
