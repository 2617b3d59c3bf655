#include "http/response_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::http {
namespace {

class ResponseRecorder : public ResponseHandler {
  public:
    void onInterimResponse(const ResponseHead& head) override {
        log += "I[" + std::to_string(head.status) + "]";
    }
    Action onResponseHead(ResponseHead& head) override {
        log += "H[" + std::to_string(head.status) + "]";
        last = head;
        return pause_head ? Action::kPause : Action::kContinue;
    }
    Action onResponseBody(std::string_view decoded) override {
        log += "B[" + std::string(decoded) + "]";
        body += decoded;
        return Action::kContinue;
    }
    void onResponseComplete() override {
        log += "C";
        if (parser == nullptr) return;
        for (size_t i = 0; i < parser->trailers().size(); ++i)
            trailers += parser->trailers().line(i);
    }

    std::string log;
    std::string body;
    bool pause_head = false;
    ResponseHead last;
    std::string trailers;  // trailer lines seen at onResponseComplete
    const ResponseParser* parser = nullptr;
};

TEST(ResponseParser, ParsesContentLengthResponse) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("GET");
    EXPECT_FALSE(parser.started());
    const std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
    FeedResult r = parser.feed(in + "HTTP/1.1");
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, in.size());
    EXPECT_EQ(rec.log, "H[200]B[hello]C");
    EXPECT_EQ(rec.last.reason, "OK");
    EXPECT_EQ(rec.last.framing, BodyFraming::kContentLength);
    EXPECT_EQ(rec.last.content_length, 5u);
    EXPECT_TRUE(rec.last.keep_alive);
    EXPECT_FALSE(parser.started());
}

TEST(ResponseParser, KeepsTheTrailersOfAChunkedResponseUntilTheNextOne) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    rec.parser = &parser;
    parser.setRequestMethod("GET");
    const std::string first =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n"
        "X-Sum:  42 \r\nGrpc-Message: ok\r\n\r\n";
    // Byte by byte too: the trailer lines wait in the scanner as head lines do.
    for (size_t step : {first.size(), size_t{1}}) {
        rec.log.clear();
        rec.trailers.clear();
        parser.reset();
        parser.setRequestMethod("GET");
        for (size_t at = 0; at < first.size(); at += step) {
            ASSERT_NE(parser.feed(first.substr(at, step)).kind, FeedResult::kError);
        }
        EXPECT_EQ(rec.log, step == 1 ? "H[200]B[h]B[i]C" : "H[200]B[hi]C");
        EXPECT_EQ(rec.trailers, "X-Sum: 42\r\nGrpc-Message: ok\r\n");
    }
    EXPECT_EQ(parser.head().headers.find("X-Sum"), HeaderList::npos);  // not in the head
    parser.resume();
    parser.setRequestMethod("GET");
    ASSERT_EQ(parser.feed("HTTP/1.1 204 No Content\r\n\r\n").kind, FeedResult::kPaused);
    EXPECT_TRUE(parser.trailers().empty());  // the next message starts without them
}

TEST(ResponseParser, HeadResponseHasNoBody) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("HEAD");
    FeedResult r = parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(rec.log, "H[200]C");
    EXPECT_EQ(rec.last.framing, BodyFraming::kNone);
    EXPECT_EQ(rec.last.content_length, 1234u);  // describes the GET representation
    EXPECT_TRUE(rec.last.keep_alive);
    // Same for chunked.
    parser.resume();
    parser.setRequestMethod("HEAD");
    r = parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(rec.log, "H[200]CH[200]C");
}

TEST(ResponseParser, NoContentAndNotModifiedHaveNoBody) {
    for (const char* status : {"204 No Content", "304 Not Modified"}) {
        ResponseRecorder rec;
        ResponseParser parser(rec);
        parser.setRequestMethod("GET");
        const std::string head =
            std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n";
        FeedResult r = parser.feed(head + "HTTP/1.1 200 OK\r\n");
        ASSERT_EQ(r.kind, FeedResult::kPaused) << status;
        EXPECT_EQ(r.consumed, head.size()) << status;
        EXPECT_EQ(rec.last.framing, BodyFraming::kNone);
        EXPECT_EQ(rec.log.back(), 'C');
    }
}

TEST(ResponseParser, InterimContinueThenFinalResponse) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("POST");
    const std::string in =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    for (size_t cut = 1; cut < in.size(); ++cut) {
        ResponseRecorder split;
        ResponseParser p(split);
        p.setRequestMethod("POST");
        ASSERT_EQ(p.feed(in.substr(0, cut)).kind, FeedResult::kOk) << cut;
        FeedResult r = p.feed(in.substr(cut));
        ASSERT_EQ(r.kind, FeedResult::kPaused) << cut;
        EXPECT_EQ(split.log.substr(0, 18), "I[100]I[103]H[201]") << cut;
        EXPECT_EQ(split.log.back(), 'C') << cut;
        EXPECT_EQ(split.body, "ok") << cut;
    }
    FeedResult r = parser.feed(in);
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, in.size());
    EXPECT_EQ(rec.log, "I[100]I[103]H[201]B[ok]C");
}

TEST(ResponseParser, TooManyInterimResponsesAreAnError) {
    const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
    const std::string final_response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    std::string at_limit;
    for (unsigned i = 0; i < kMaxInterimResponses; ++i) at_limit += interim;

    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("GET");
    ASSERT_EQ(parser.feed(at_limit + final_response).kind, FeedResult::kPaused);
    EXPECT_EQ(rec.body, "ok");
    // The count is per response: the next one may have as many.
    parser.resume();
    parser.setRequestMethod("GET");
    ASSERT_EQ(parser.feed(at_limit + final_response).kind, FeedResult::kPaused);
    EXPECT_EQ(rec.body, "okok");

    ResponseRecorder flooded;
    ResponseParser p(flooded);
    p.setRequestMethod("GET");
    const FeedResult r = p.feed(at_limit + interim + final_response);
    ASSERT_EQ(r.kind, FeedResult::kError);
    EXPECT_EQ(r.status, 502);
    EXPECT_STREQ(r.reason, "upstream sent too many interim responses");
    EXPECT_EQ(flooded.log.find('H'), std::string::npos);
    // Split over many feeds, too.
    ResponseRecorder trickled;
    ResponseParser q(trickled);
    q.setRequestMethod("GET");
    FeedResult last;
    for (unsigned i = 0; i <= kMaxInterimResponses && last.kind != FeedResult::kError; ++i) {
        last = q.feed(interim);
    }
    EXPECT_EQ(last.kind, FeedResult::kError);
}

TEST(ResponseParser, SwitchingProtocolsUpgrades) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("GET");
    const std::string head =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    FeedResult r = parser.feed(head + "\x81\x02hi");
    ASSERT_EQ(r.kind, FeedResult::kUpgraded);
    EXPECT_EQ(r.consumed, head.size());
    EXPECT_EQ(rec.log, "H[101]");
    EXPECT_EQ(parser.feed("x").kind, FeedResult::kUpgraded);
}

TEST(ResponseParser, DecodesChunkedResponse) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("GET");
    const std::string in =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4\r\nWiki\r\n5;x=y\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n";
    for (size_t cut = 1; cut < in.size(); ++cut) {
        ResponseRecorder split;
        ResponseParser p(split);
        p.setRequestMethod("GET");
        ASSERT_EQ(p.feed(in.substr(0, cut)).kind, FeedResult::kOk) << cut;
        ASSERT_EQ(p.feed(in.substr(cut)).kind, FeedResult::kPaused) << cut;
        EXPECT_EQ(split.body, "Wikipedia in\r\n\r\nchunks.") << cut;
    }
    ASSERT_EQ(parser.feed(in).kind, FeedResult::kPaused);
    EXPECT_EQ(rec.last.framing, BodyFraming::kChunked);
    EXPECT_EQ(rec.body, "Wikipedia in\r\n\r\nchunks.");
}

TEST(ResponseParser, UntilCloseBodyEndsAtFinish) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("GET");
    ASSERT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome ").kind,
              FeedResult::kOk);
    EXPECT_EQ(rec.last.framing, BodyFraming::kUntilClose);
    EXPECT_FALSE(rec.last.keep_alive);
    ASSERT_EQ(parser.feed("bytes").kind, FeedResult::kOk);
    EXPECT_EQ(rec.log, "H[200]B[some ]B[bytes]");
    FeedResult r = parser.finish();
    EXPECT_EQ(r.kind, FeedResult::kOk);
    EXPECT_EQ(rec.log, "H[200]B[some ]B[bytes]C");
}

TEST(ResponseParser, Http10ResponseWithoutKeepAliveIsNotReusable) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("GET");
    ASSERT_EQ(parser.feed("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok").kind,
              FeedResult::kPaused);
    EXPECT_FALSE(rec.last.keep_alive);
    ResponseRecorder rec2;
    ResponseParser parser2(rec2);
    parser2.setRequestMethod("GET");
    ASSERT_EQ(
        parser2.feed("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")
            .kind,
        FeedResult::kPaused);
    EXPECT_TRUE(rec2.last.keep_alive);
    ResponseRecorder rec3;
    ResponseParser parser3(rec3);
    parser3.setRequestMethod("GET");
    ASSERT_EQ(
        parser3.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").kind,
        FeedResult::kPaused);
    EXPECT_FALSE(rec3.last.keep_alive);
}

TEST(ResponseParser, TruncatedResponseFailsAtFinish) {
    const std::vector<std::string> truncated = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        "HTTP/1.1 200 OK\r\nContent-Le",
        "HTTP/1.1 100 Continue\r\n\r\n",
    };
    for (const std::string& in : truncated) {
        ResponseRecorder rec;
        ResponseParser parser(rec);
        parser.setRequestMethod("GET");
        ASSERT_EQ(parser.feed(in).kind, FeedResult::kOk) << in;
        EXPECT_TRUE(parser.started());
        FeedResult r = parser.finish();
        EXPECT_EQ(r.kind, FeedResult::kError) << in;
        EXPECT_EQ(r.status, 502) << in;
        EXPECT_EQ(rec.log.find('C'), std::string::npos) << in;
    }
}

TEST(ResponseParser, EofBeforeResponse) {
    ResponseRecorder rec;
    ResponseParser idle(rec);
    EXPECT_EQ(idle.finish().kind, FeedResult::kOk);  // pooled connection closed while idle
    ResponseParser waiting(rec);
    waiting.setRequestMethod("GET");
    FeedResult r = waiting.finish();
    EXPECT_EQ(r.kind, FeedResult::kError);
    EXPECT_EQ(r.status, 502);
    EXPECT_FALSE(waiting.started());  // the caller may retry an idempotent request
}

TEST(ResponseParser, RejectsAmbiguousFraming) {
    const std::vector<std::string> bad = {
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding:\tchunked\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n",
        "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
        "RTSP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 99 Odd\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: " + std::string(70000, 'a') + "\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n",
    };
    for (const std::string& in : bad) {
        ResponseRecorder rec;
        ResponseParser parser(rec);
        parser.setRequestMethod("GET");
        FeedResult r = parser.feed(in);
        ASSERT_EQ(r.kind, FeedResult::kError) << in.substr(0, 80);
        EXPECT_EQ(r.status, 502) << in.substr(0, 80);
        EXPECT_NE(std::string(r.reason), "");
        EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\n\r\n").kind, FeedResult::kError);
    }
}

TEST(ResponseParser, PipelinedResponsesNeedResume) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.setRequestMethod("GET");
    const std::string a = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
    const std::string b = "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb";
    const std::string in = a + b;
    FeedResult r = parser.feed(in);
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, a.size());
    parser.resume();
    parser.setRequestMethod("GET");
    r = parser.feed(std::string_view(in).substr(a.size()));
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(rec.log, "H[200]B[a]CH[404]B[b]C");
    EXPECT_EQ(parser.head().reason, "Not Found");
}

TEST(ResponseParser, PauseOnHeadWaitsForResume) {
    ResponseRecorder rec;
    rec.pause_head = true;
    ResponseParser parser(rec);
    parser.setRequestMethod("GET");
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
    FeedResult r = parser.feed(head + "abc");
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(r.consumed, head.size());
    parser.resume();
    r = parser.feed("abc");
    ASSERT_EQ(r.kind, FeedResult::kPaused);
    EXPECT_EQ(rec.log, "H[200]B[abc]C");
}

}  // namespace
}  // namespace sluice::http
