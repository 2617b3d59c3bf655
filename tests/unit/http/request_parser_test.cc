#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

// Counts heap allocations while g_count_allocations is set (steady-state test below).
namespace {
bool g_count_allocations = false;
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
    if (g_count_allocations) ++g_allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace sluice::http {
namespace {

// Records every handler call as text so whole exchanges compare with one EXPECT_EQ.
class RequestRecorder : public RequestHandler {
  public:
    Action onRequestHead(RequestHead& head) override {
        ++heads;
        log += "H[" + head.method + " " + head.target + " 1." + std::to_string(head.version_minor) +
               "]";
        last = head;
        return pause_head ? Action::kPause : Action::kContinue;
    }
    Action onRequestBody(std::string_view decoded) override {
        log += "B[" + std::string(decoded) + "]";
        body += decoded;
        return pause_body ? Action::kPause : Action::kContinue;
    }
    void onRequestComplete() override {
        ++completes;
        log += "C";
    }

    std::string log;
    std::string body;
    int heads = 0;
    int completes = 0;
    bool pause_head = false;
    bool pause_body = false;
    RequestHead last;
};

// Feeds `input` cut at `cuts`, keeping unconsumed bytes after a pause and re-feeding them after
// resume(), like the proxy session does. Returns the last result.
FeedResult drive(RequestParser& parser, std::string_view input, std::vector<size_t> cuts = {}) {
    cuts.push_back(input.size());
    std::string pending;
    size_t from = 0;
    FeedResult r;
    for (size_t cut : cuts) {
        pending.append(input.substr(from, cut - from));
        from = cut;
        while (true) {
            r = parser.feed(pending);
            if (r.kind == FeedResult::kPaused) {
                pending.erase(0, r.consumed);
                parser.resume();
                continue;
            }
            if (r.kind == FeedResult::kOk) pending.clear();
            break;
        }
        if (r.kind == FeedResult::kError || r.kind == FeedResult::kUpgraded) return r;
    }
    return r;
}

RequestLimits testLimits() {
    RequestLimits limits;
    limits.max_header_bytes = 1024;
    limits.max_headers = 20;
    limits.max_body_bytes = 1000;
    return limits;
}

TEST(RequestParser, ParsesSimpleGet) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    const std::string in =
        "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
    FeedResult r = parser.feed(in);
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, in.size());
    EXPECT_EQ(rec.log, "H[GET /index.html?q=1 1.1]C");
    EXPECT_EQ(rec.last.host(), "example.com");
    EXPECT_EQ(rec.last.framing, BodyFraming::kNone);
    EXPECT_TRUE(rec.last.keep_alive);
    EXPECT_FALSE(rec.last.upgrade);
    ASSERT_EQ(rec.last.headers.size(), 2u);
    EXPECT_EQ(rec.last.headers.name(1), "Accept");
    EXPECT_EQ(rec.last.headers.value(1), "*/*");
    EXPECT_TRUE(parser.idle());
}

TEST(RequestParser, TrimsWhitespaceAroundValues) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    ASSERT_EQ(drive(parser, "GET / HTTP/1.1\r\nHost:  a.example \t\r\nX-A:\tb c \r\n\r\n").kind,
              FeedResult::kOk);
    EXPECT_EQ(rec.last.host(), "a.example");
    EXPECT_EQ(rec.last.headers.value(1), "b c");
}

TEST(RequestParser, ParsesPostWithContentLength) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    ASSERT_EQ(
        drive(parser, "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world").kind,
        FeedResult::kOk);
    EXPECT_EQ(rec.log, "H[POST /f 1.1]B[hello world]C");
    EXPECT_EQ(rec.last.framing, BodyFraming::kContentLength);
    EXPECT_EQ(rec.last.content_length, 11u);
}

TEST(RequestParser, DecodesChunkedBodyAndKeepsTrailersApart) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    ASSERT_EQ(drive(parser,
                    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
                  .kind,
              FeedResult::kOk);
    EXPECT_EQ(rec.log, "H[POST / 1.1]B[hello]B[ world]C");
    EXPECT_EQ(rec.last.framing, BodyFraming::kChunked);
    EXPECT_EQ(rec.last.headers.count("x-trailer"), 0u);
    ASSERT_EQ(parser.trailers().size(), 1u);
    EXPECT_EQ(parser.trailers().line(0), "X-Trailer: t\r\n");
}

// Every split point of a chunked request (head, chunk lines, data, trailers) yields the same
// decoded body and calls; this is what proves the parser is incremental.
TEST(RequestParser, SameResultAtEverySplitPoint) {
    const std::string in =
        "POST /upload HTTP/1.1\r\nHost: a.example:8080\r\nTransfer-Encoding: chunked\r\n"
        "X-Long: 0123456789\r\n\r\n"
        "a\r\n0123456789\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n"
        "GET /next HTTP/1.1\r\nHost: a.example:8080\r\nContent-Length: 4\r\n\r\nwxyz";
    RequestRecorder whole;
    {
        RequestParser parser(whole, testLimits());
        ASSERT_EQ(drive(parser, in).kind, FeedResult::kOk);
    }
    EXPECT_EQ(whole.heads, 2);
    EXPECT_EQ(whole.completes, 2);
    EXPECT_EQ(whole.body, "0123456789abcwxyz");
    for (size_t cut = 1; cut < in.size(); ++cut) {
        RequestRecorder rec;
        RequestParser parser(rec, testLimits());
        ASSERT_EQ(drive(parser, in, {cut}).kind, FeedResult::kOk) << "cut at " << cut;
        EXPECT_EQ(rec.body, whole.body) << "cut at " << cut;
        EXPECT_EQ(rec.heads, 2) << "cut at " << cut;
        EXPECT_EQ(rec.completes, 2) << "cut at " << cut;
    }
    // And one byte at a time.
    std::vector<size_t> cuts;
    for (size_t i = 1; i < in.size(); ++i) cuts.push_back(i);
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    ASSERT_EQ(drive(parser, in, cuts).kind, FeedResult::kOk);
    EXPECT_EQ(rec.body, whole.body);
    EXPECT_EQ(rec.completes, 2);
}

TEST(RequestParser, PausesAfterEachPipelinedRequest) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    const std::string first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string second = "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok";
    const std::string in = first + second;
    FeedResult r = parser.feed(in);
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, first.size());
    EXPECT_EQ(rec.log, "H[GET /1 1.1]C");
    // Paused: nothing more is parsed until resume().
    r = parser.feed(std::string_view(in).substr(r.consumed));
    EXPECT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, 0u);
    parser.resume();
    r = parser.feed(std::string_view(in).substr(first.size()));
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, second.size());
    EXPECT_EQ(rec.log, "H[GET /1 1.1]CH[POST /2 1.1]B[ok]C");
    EXPECT_EQ(parser.head().target, "/2");
}

TEST(RequestParser, IgnoresEmptyLinesBetweenRequests) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    ASSERT_EQ(drive(parser,
                    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx\r\n"
                    "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
                  .kind,
              FeedResult::kOk);
    EXPECT_EQ(rec.log, "H[POST / 1.1]B[x]CH[GET /2 1.1]C");
}

TEST(RequestParser, Http10ClosesUnlessKeepAliveAsked) {
    {
        RequestRecorder rec;
        RequestParser parser(rec, testLimits());
        ASSERT_EQ(parser.feed("GET / HTTP/1.0\r\n\r\n").kind, FeedResult::kPaused);
        EXPECT_EQ(rec.last.version_minor, 0);
        EXPECT_FALSE(rec.last.keep_alive);
    }
    {
        RequestRecorder rec;
        RequestParser parser(rec, testLimits());
        ASSERT_EQ(drive(parser,
                        "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                        "GET /b HTTP/1.0\r\nHost: x\r\nConnection: Keep-Alive\r\n\r\n")
                      .kind,
                  FeedResult::kOk);
        EXPECT_EQ(rec.log, "H[GET /a 1.0]CH[GET /b 1.0]C");
        EXPECT_TRUE(rec.last.keep_alive);
    }
    {
        RequestRecorder rec;
        RequestParser parser(rec, testLimits());
        ASSERT_EQ(parser.feed("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").kind,
                  FeedResult::kPaused);
        EXPECT_FALSE(rec.last.keep_alive);
    }
}

TEST(RequestParser, BytesAfterConnectionCloseAreRejected) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    FeedResult r = drive(parser,
                         "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                         "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(r.kind, FeedResult::kError);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(rec.heads, 1);
}

TEST(RequestParser, ExpectContinueIsReported) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    FeedResult r = parser.feed(
        "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    EXPECT_EQ(r.kind, FeedResult::kOk);
    EXPECT_TRUE(rec.last.expect_continue);
    EXPECT_TRUE(parser.feed("abc").kind == FeedResult::kPaused);
    EXPECT_EQ(rec.log, "H[PUT /x 1.1]B[abc]C");
}

TEST(RequestParser, WebsocketUpgradeStopsAfterRequest) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    const std::string head =
        "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    FeedResult r = parser.feed(head + "\x81\x05hello");
    ASSERT_EQ(r.kind, FeedResult::kUpgraded);
    EXPECT_EQ(r.consumed, head.size());
    EXPECT_TRUE(rec.last.upgrade);
    EXPECT_EQ(rec.log, "H[GET /chat 1.1]C");
    EXPECT_EQ(parser.feed("more").kind, FeedResult::kUpgraded);
}

TEST(RequestParser, H2cUpgradeIsIgnored) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    FeedResult r = drive(parser,
                         "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                         "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 2\r\n"
                         "\r\nab"
                         "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(r.kind, FeedResult::kOk);
    EXPECT_EQ(rec.log, "H[GET / 1.1]B[ab]CH[GET /2 1.1]C");
}

TEST(RequestParser, HandlerPauseOnHeadAndBody) {
    RequestRecorder rec;
    rec.pause_head = true;
    rec.pause_body = true;
    RequestParser parser(rec, testLimits());
    const std::string in = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabcdef";
    FeedResult r = parser.feed(in);
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, in.size() - 6);  // paused right after the head
    EXPECT_EQ(rec.log, "H[POST / 1.1]");
    parser.resume();
    r = parser.feed("abc");
    ASSERT_EQ(r.kind, FeedResult::kPaused);  // body slice counts as consumed
    EXPECT_EQ(r.consumed, 3u);
    parser.resume();
    // The last bytes complete the request: the pause is moot, completion pauses instead.
    r = parser.feed("def");
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, 3u);
    EXPECT_EQ(rec.log, "H[POST / 1.1]B[abc]B[def]C");
}

TEST(RequestParser, PauseOnBodylessHeadStillCompletes) {
    RequestRecorder rec;
    rec.pause_head = true;
    RequestParser parser(rec, testLimits());
    FeedResult r = parser.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(rec.log, "H[GET / 1.1]C");
}

TEST(RequestParser, ReportsHeadProgress) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    EXPECT_TRUE(parser.idle());
    EXPECT_FALSE(parser.inHead());
    ASSERT_EQ(parser.feed("GET / HT").kind, FeedResult::kOk);
    EXPECT_FALSE(parser.idle());
    EXPECT_TRUE(parser.inHead());
    ASSERT_EQ(parser.feed("TP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n").kind, FeedResult::kOk);
    EXPECT_FALSE(parser.inHead());
    EXPECT_FALSE(parser.idle());
    ASSERT_EQ(parser.feed("xy").kind, FeedResult::kPaused);
    EXPECT_TRUE(parser.idle());
}

TEST(RequestParser, AcceptsAbsoluteFormAndAsterisk) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    ASSERT_EQ(drive(parser,
                    "GET http://A.example:80/p?q HTTP/1.1\r\nHost: a.example\r\n\r\n"
                    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
                    "GET https://[::1]/ HTTP/1.1\r\nHost: [::1]:443\r\n\r\n")
                  .kind,
              FeedResult::kOk);
    EXPECT_EQ(rec.completes, 3);
}

TEST(RequestParser, ErrorsAreSticky) {
    RequestRecorder rec;
    RequestParser parser(rec, testLimits());
    FeedResult r = parser.feed("GET / HTTP/1.1\nHost: a\r\n\r\n");
    ASSERT_EQ(r.kind, FeedResult::kError);
    EXPECT_EQ(r.status, 400);
    r = parser.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(r.kind, FeedResult::kError);
    EXPECT_EQ(rec.heads, 0);
}

// The steady state of a keep-alive connection reuses the parser's buffers; this pins the
// clear()-keeps-capacity contract the no-allocation rule relies on.
TEST(RequestParser, HeadBuffersKeepCapacityAcrossRequests) {
    RequestHead head;
    head.method = "GET";
    head.target.assign(200, 'x');
    head.headers.add("Host", "a");
    const size_t capacity = head.target.capacity();
    head.clear();
    EXPECT_TRUE(head.target.empty());
    EXPECT_EQ(head.target.capacity(), capacity);
    EXPECT_TRUE(head.headers.empty());
}

class CountingHandler : public RequestHandler {
  public:
    Action onRequestHead(RequestHead& head) override {
        heads += head.headers.size() > 0 ? 1 : 0;
        return Action::kContinue;
    }
    Action onRequestBody(std::string_view decoded) override {
        body += decoded.size();
        return Action::kContinue;
    }
    void onRequestComplete() override { ++completes; }
    size_t heads = 0, body = 0, completes = 0;
};

// The performance rule: a keep-alive connection parses request after request without touching
// the heap once its buffers have grown (head strings, header list, held-back partial lines).
TEST(RequestParser, SteadyStateDoesNotAllocate) {
    const std::string round =
        "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n"
        "Accept: text/html,application/xhtml+xml\r\nCookie: a=b; c=d\r\n\r\n"
        "POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"
        "PUT /up HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;e=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
    CountingHandler handler;
    RequestParser parser(handler, testLimits());
    auto play = [&] {
        // Split in small reads so partial lines are held back too.
        for (size_t at = 0; at < round.size();) {
            std::string_view piece = std::string_view(round).substr(at, 7);
            FeedResult r = parser.feed(piece);
            while (r.kind == FeedResult::kPaused) {
                parser.resume();
                piece.remove_prefix(r.consumed);
                at += r.consumed;
                r = parser.feed(piece);
            }
            ASSERT_EQ(r.kind, FeedResult::kOk);
            at += piece.size();
        }
    };
    g_allocations = 0;
    g_count_allocations = true;
    play();  // warm-up grows the buffers (and proves the counter works)
    EXPECT_GT(g_allocations, 0u);
    g_allocations = 0;
    play();
    play();
    g_count_allocations = false;
    EXPECT_EQ(g_allocations, 0u);
    EXPECT_EQ(handler.completes, 9u);
    EXPECT_EQ(handler.body, 24u);
}

}  // namespace
}  // namespace sluice::http
