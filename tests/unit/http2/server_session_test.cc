#include "http2/server_session.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/http2/h2_peer.h"

namespace sluice::http2 {
namespace {

using testing::dumpSeed;
using testing::Fields;
using testing::FrameLog;
using testing::getFields;
using testing::H2Client;
using testing::pump;
using testing::RawClient;
using testing::RecordedStream;
using testing::RecordingServer;

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

Fields postFields(size_t content_length) {
    Fields f = getFields("/upload");
    f[0].second = "POST";
    f.emplace_back("content-length", std::to_string(content_length));
    return f;
}

uint32_t setting(const FrameLog& log, uint16_t id) {
    for (const auto& [k, v] : log.server_settings) {
        if (k == id) return v;
    }
    return 0xffffffff;
}

size_t windowUpdates(const FrameLog& log, int32_t stream_id) {
    size_t n = 0;
    for (const FrameLog::Frame& f : log.frames) {
        n += f.type == NGHTTP2_WINDOW_UPDATE && f.stream_id == stream_id ? 1 : 0;
    }
    return n;
}

TEST(ServerSession, AnswersAGetAndAdvertisesItsSettings) {
    RecordingServer server;
    server.answerWith("hello\n");
    H2Client client;
    FrameLog log;
    Fields fields = getFields("/index.html?q=1");
    fields.emplace_back("user-agent", "test");
    fields.emplace_back("cookie", "a=1");
    fields.emplace_back("cookie", "b=2");
    const int32_t id = client.request(fields);
    ASSERT_TRUE(pump(client, server.session, log).server_ok);

    RecordedStream* s = server.stream(id);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->head.method, "GET");
    EXPECT_EQ(s->head.target, "/index.html?q=1");
    EXPECT_EQ(s->scheme, "https");
    EXPECT_TRUE(s->end_stream);
    EXPECT_EQ(s->head.framing, http::BodyFraming::kNone);
    EXPECT_EQ(s->head.version_major, 2);
    ASSERT_EQ(s->head.headers.size(), 3u);  // host first, pseudo-headers gone, cookies joined
    EXPECT_EQ(s->head.headers.name(0), "host");
    EXPECT_EQ(s->head.headers.value(0), "example.com");
    EXPECT_EQ(s->head.host(), "example.com");
    EXPECT_EQ(s->head.headers.value(1), "test");
    EXPECT_EQ(s->head.headers.name(2), "cookie");
    EXPECT_EQ(s->head.headers.value(2), "a=1; b=2");
    EXPECT_TRUE(s->ended);
    EXPECT_TRUE(s->closed);
    EXPECT_EQ(s->close_calls, 1);
    EXPECT_EQ(s->end.reason, CloseReason::kCompleted);

    const FrameLog::StreamView& v = log.streams[id];
    EXPECT_EQ(v.status, 200);
    EXPECT_EQ(v.body, "hello\n");
    EXPECT_TRUE(v.end_stream);
    EXPECT_FALSE(v.reset);
    EXPECT_EQ(setting(log, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 100u);
    EXPECT_EQ(setting(log, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 65536u);
    EXPECT_EQ(setting(log, NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE), 32768u);
    EXPECT_EQ(setting(log, NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES), 1u);
    EXPECT_EQ(server.session.openStreams(), 0u);
    EXPECT_EQ(server.session.glitches(), 0u);
    EXPECT_FALSE(server.session.done());  // an idle connection stays open
    dumpSeed("get", client);
}

TEST(ServerSession, PostBodyWindowOpensOnlyAsTheOwnerConsumes) {
    SessionSettings settings;
    settings.initial_window = 16384;
    RecordingServer server(settings);
    server.auto_consume = false;
    server.answerWith("done");
    H2Client client;
    FrameLog log;
    const std::string body = pattern(300000);
    const int32_t id = client.request(postFields(body.size()), body);
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    RecordedStream* s = server.stream(id);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->head.framing, http::BodyFraming::kContentLength);
    EXPECT_EQ(s->head.content_length, body.size());
    // Before our SETTINGS arrived the client could use the default window: 65535 at most.
    const size_t first = s->body.size();
    EXPECT_GT(first, 0u);
    EXPECT_LE(first, 65535u);
    EXPECT_EQ(windowUpdates(log, id), 0u);
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(s->body.size(), first) << "no more without consumption";

    size_t steps = 0;
    while (!s->ended && steps < 1000) {
        const size_t before = s->body.size();
        s->consumeAll();
        ASSERT_TRUE(pump(client, server.session, log).server_ok);
        ASSERT_GT(s->body.size(), before) << "consuming reopened the window";
        EXPECT_LE(s->body.size() - before, 65535u);
        ++steps;
    }
    EXPECT_GT(steps, 5u);
    EXPECT_EQ(s->body, body);
    EXPECT_GT(windowUpdates(log, id), 0u);
    EXPECT_EQ(log.streams[id].status, 200);
    EXPECT_EQ(s->end.reason, CloseReason::kCompleted);
}

TEST(ServerSession, AStalledStreamDoesNotStallTheOthers) {
    RecordingServer server;
    server.auto_consume = false;
    server.answerWith("ok");
    H2Client client;
    FrameLog log;
    const std::string body = pattern(400000);
    const int32_t slow = client.request(postFields(body.size()), body);
    const int32_t fast = client.request(postFields(body.size()), body);
    for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(pump(client, server.session, log).server_ok);
        if (RecordedStream* f = server.stream(fast)) f->consumeAll();  // its upstream keeps up
    }
    ASSERT_NE(server.stream(fast), nullptr);
    ASSERT_NE(server.stream(slow), nullptr);
    EXPECT_TRUE(server.stream(fast)->ended);
    EXPECT_EQ(server.stream(fast)->body, body);
    EXPECT_EQ(log.streams[fast].status, 200);
    EXPECT_FALSE(server.stream(slow)->ended);
    EXPECT_LE(server.stream(slow)->body.size(), 65536u);
}

TEST(ServerSession, ServesManyConcurrentStreams) {
    RecordingServer server;
    server.on_end = [](RecordedStream& s) {
        http::ResponseHead head;
        head.status = 200;
        s.session->submitResponse(s.id, head, false);
        s.session->writeBody(s.id, s.head.target);
        s.session->endResponse(s.id);
    };
    H2Client client;
    FrameLog log;
    std::vector<int32_t> ids;
    for (int i = 0; i < 100; ++i)
        ids.push_back(client.request(getFields("/r" + std::to_string(i))));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    ASSERT_EQ(server.streams.size(), 100u);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(log.streams[ids[i]].status, 200);
        EXPECT_EQ(log.streams[ids[i]].body, "/r" + std::to_string(i));
    }
    EXPECT_EQ(server.session.openStreams(), 0u);
    dumpSeed("concurrent_streams", client);
}

TEST(ServerSession, RefusesStreamsPastTheConcurrencyLimit) {
    SessionSettings settings;
    settings.max_concurrent_streams = 2;
    RecordingServer server(settings);  // answers nothing: streams stay open
    RawClient client;
    FrameLog log;
    client.headers(1, getFields(), true);
    client.headers(3, getFields(), true);
    client.headers(5, getFields(), true);
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_NE(server.stream(1), nullptr);
    EXPECT_NE(server.stream(3), nullptr);
    EXPECT_EQ(server.stream(5), nullptr);
    EXPECT_EQ(log.streams[5].reset_code, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
    // Once the limit is acknowledged, exceeding it is a connection error.
    client.headers(7, getFields(), true);
    pump(client, server.session, log);
    EXPECT_EQ(server.stream(7), nullptr);
    ASSERT_FALSE(log.goaways.empty());
    EXPECT_EQ(log.goaways.back().code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
    EXPECT_TRUE(server.stream(1)->closed);
    EXPECT_EQ(server.stream(1)->end.reason, CloseReason::kConnectionClosed);
    dumpSeed("concurrency_limit", client);
}

// Writes `total` bytes in 16 KiB pieces while the stream takes them.
void writeUntilFull(RecordedStream& s, size_t total, size_t* written) {
    const std::string chunk = pattern(16384);
    while (*written < total) {
        const size_t n = std::min(chunk.size(), total - *written);
        const WriteStatus st = s.session->writeBody(s.id, std::string_view(chunk).substr(0, n));
        *written += n;
        if (*written == total) {
            s.session->endResponse(s.id);
            return;
        }
        if (st != WriteStatus::kWritable) return;
    }
}

TEST(ServerSession, AReaderThatNeverOpensItsWindowHoldsBoundedMemory) {
    RecordingServer server;
    const size_t total = 1 << 20;
    size_t written = 0;
    server.on_end = [&](RecordedStream& s) {
        http::ResponseHead head;
        head.status = 200;
        head.headers.add("content-length", std::to_string(total));
        s.session->submitResponse(s.id, head, false);
        writeUntilFull(s, total, &written);
    };
    server.on_request = [&](RecordedStream& s) {
        s.on_writable = [&](RecordedStream& st) { writeUntilFull(st, total, &written); };
    };
    H2Client::Options opts;
    opts.auto_window_update = false;
    H2Client client(opts);
    FrameLog log;
    const int32_t id = client.request(getFields("/big"));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    RecordedStream* s = server.stream(id);
    ASSERT_NE(s, nullptr);
    // The client's default windows (65535) let that much through; the rest waits in the stream,
    // and the owner was told to stop.
    EXPECT_EQ(log.streams[id].body.size(), 65535u);
    EXPECT_LE(server.session.bufferedResponseBytes(), 64u * 1024 + 16384);
    EXPECT_LT(written, total);
    const size_t stalled_at = written;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(written, stalled_at);
    EXPECT_EQ(log.streams[id].body.size(), 65535u);
    EXPECT_TRUE(server.session.pendingOutput().empty());

    // Now it reads: the window opens, the owner is told to resume, the whole body arrives.
    const int writable_before = s->writable;
    size_t consumed = 0;
    for (int i = 0; i < 1000 && !log.streams[id].end_stream; ++i) {
        const size_t got = client.received(id);
        client.consume(id, got - consumed);
        consumed = got;
        ASSERT_TRUE(pump(client, server.session, log).server_ok);
        EXPECT_LE(server.session.bufferedResponseBytes(), 64u * 1024 + 16384);
    }
    EXPECT_TRUE(log.streams[id].end_stream);
    EXPECT_EQ(log.streams[id].body.size(), total);
    EXPECT_EQ(written, total);
    EXPECT_GT(s->writable, writable_before + 10);
    EXPECT_EQ(s->end.reason, CloseReason::kCompleted);
}

TEST(ServerSession, PullsOutputInBoundedPieces) {
    RecordingServer server;
    const size_t total = 4 << 20;
    size_t written = 0;
    server.on_end = [&](RecordedStream& s) {
        http::ResponseHead head;
        head.status = 200;
        s.session->submitResponse(s.id, head, false);
        writeUntilFull(s, total, &written);
    };
    H2Client::Options opts;
    opts.settings = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 30}};
    H2Client client(opts);
    nghttp2_session_set_local_window_size(client.session(), NGHTTP2_FLAG_NONE, 0, 1 << 30);
    FrameLog log;
    const int32_t id = client.request(getFields("/big"));
    RecordedStream* s = nullptr;
    size_t largest = 0;
    for (int i = 0; i < 10000 && !log.streams[id].end_stream; ++i) {
        const std::string out = client.output();
        if (!out.empty()) {
            ASSERT_TRUE(server.session.feed(out));
        }
        if (s == nullptr && (s = server.stream(id)) != nullptr) {
            s->on_writable = [&](RecordedStream& st) { writeUntilFull(st, total, &written); };
        }
        const std::string in(server.session.pendingOutput());
        largest = std::max(largest, in.size());
        server.session.consumeOutput(in.size());
        log.feed(in);
        client.feed(in);
    }
    EXPECT_TRUE(log.streams[id].end_stream);
    EXPECT_EQ(log.streams[id].body.size(), total);
    EXPECT_GE(largest, ServerSession::kOutputHighWater);
    EXPECT_LE(largest, ServerSession::kOutputHighWater + 16384 + 9);
}

TEST(ServerSession, CarriesTrailersBothWays) {
    RecordingServer server;
    server.on_end = [](RecordedStream& s) {
        http::ResponseHead head;
        head.status = 200;
        s.session->submitResponse(s.id, head, false);
        s.session->writeBody(s.id, "payload");
        http::HeaderList trailers;
        trailers.add("Grpc-Status", "0");
        trailers.add("Connection", "close");
        trailers.add("content-length", "7");
        s.session->endResponse(s.id, &trailers);
    };
    H2Client client;
    FrameLog log;
    Fields f = getFields("/t");
    f[0].second = "POST";
    f.emplace_back("te", "trailers");
    const int32_t id = client.request(f, std::string("abc"),
                                      {{"x-checksum", "900150983cd24fb0"}, {"host", "other"}});
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    RecordedStream* s = server.stream(id);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->head.framing, http::BodyFraming::kChunked);        // no content-length
    EXPECT_EQ(s->head.headers.find("te"), http::HeaderList::npos);  // hop-by-hop
    EXPECT_EQ(s->body, "abc");
    ASSERT_TRUE(s->got_trailers);
    ASSERT_EQ(s->trailers.size(), 1u);  // host is not a trailer field
    EXPECT_EQ(s->trailers.name(0), "x-checksum");
    EXPECT_TRUE(s->ended);
    const FrameLog::StreamView& v = log.streams[id];
    EXPECT_EQ(v.body, "payload");
    ASSERT_EQ(v.trailers.size(), 1u);
    EXPECT_EQ(v.trailers[0], std::make_pair(std::string("grpc-status"), std::string("0")));
    EXPECT_TRUE(v.end_stream);
    dumpSeed("trailers", client);
}

TEST(ServerSession, ResponseLosesHttp11ConnectionFieldsAndUpperCase) {
    RecordingServer server;
    server.on_end = [](RecordedStream& s) {
        http::ResponseHead head;
        head.status = 404;
        head.headers.add("Content-Type", "text/html");
        head.headers.add("Connection", "close, X-Private");
        head.headers.add("X-Private", "secret");
        head.headers.add("Keep-Alive", "timeout=5");
        head.headers.add("Transfer-Encoding", "chunked");
        head.headers.add("Upgrade", "h2c");
        head.headers.add("Proxy-Connection", "keep-alive");
        head.headers.add("TE", "trailers");
        head.headers.add("Set-Cookie", "a=1");
        head.headers.add("Set-Cookie", "b=2");
        s.session->submitResponse(s.id, head, true);
    };
    H2Client client;
    FrameLog log;
    const int32_t id = client.request(getFields());
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    const FrameLog::StreamView& v = log.streams[id];
    EXPECT_EQ(v.status, 404);
    const Fields expected = {
        {"content-type", "text/html"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}};
    EXPECT_EQ(v.headers, expected);
    EXPECT_TRUE(v.end_stream);
    EXPECT_TRUE(v.body.empty());
}

TEST(ServerSession, SendsInterimResponsesBeforeTheFinalOne) {
    RecordingServer server;
    server.on_request = [](RecordedStream& s) {
        http::ResponseHead interim;
        interim.status = 100;
        EXPECT_TRUE(s.session->submitInformational(s.id, interim));
        interim.status = 101;
        EXPECT_FALSE(s.session->submitInformational(s.id, interim));
    };
    server.answerWith("x");
    H2Client client;
    FrameLog log;
    Fields f = postFields(1);
    f.emplace_back("expect", "100-continue");
    const int32_t id = client.request(f, std::string("y"));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    ASSERT_NE(server.stream(id), nullptr);
    EXPECT_TRUE(server.stream(id)->head.expect_continue);
    EXPECT_EQ(log.streams[id].interim, std::vector<int>{100});
    EXPECT_EQ(log.streams[id].status, 200);
}

TEST(ServerSession, AnswerBeforeTheBodyEndsResetsWithNoError) {
    RecordingServer server;
    server.on_request = [](RecordedStream& s) { s.session->sendErrorResponse(s.id, 413); };
    H2Client client;
    FrameLog log;
    const int32_t id = client.request(postFields(200000), pattern(200000));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    const FrameLog::StreamView& v = log.streams[id];
    EXPECT_EQ(v.status, 413);
    EXPECT_EQ(v.body, "413 Content Too Large\n");
    EXPECT_TRUE(v.reset);
    EXPECT_EQ(v.reset_code, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
    EXPECT_FALSE(server.stream(id)->ended);
    EXPECT_EQ(server.stream(id)->end.reason, CloseReason::kCompleted);
}

TEST(ServerSession, NoHandlerMeansRefusedUnlessAnswered) {
    RecordingServer server;
    server.answer_null = true;
    server.on_request = [](RecordedStream& s) {
        if (s.head.target == "/answered") s.session->sendErrorResponse(s.id, 429);
    };
    H2Client client;
    FrameLog log;
    const int32_t refused = client.request(getFields("/refused"));
    const int32_t answered = client.request(getFields("/answered"));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(log.streams[refused].reset_code, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
    EXPECT_EQ(log.streams[answered].status, 429);
    EXPECT_FALSE(server.stream(refused)->closed);  // detached: never called again
    EXPECT_EQ(server.session.openStreams(), 0u);
}

TEST(ServerSession, OwnerResetDetachesTheHandler) {
    RecordingServer server;
    H2Client client;
    FrameLog log;
    const int32_t id = client.request(getFields());
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    ASSERT_NE(server.stream(id), nullptr);
    server.session.resetStream(id, ErrorCode::kCancel);
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(log.streams[id].reset_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
    EXPECT_FALSE(server.stream(id)->closed);
    EXPECT_EQ(server.session.writeBody(id, "late"), WriteStatus::kClosed);
    server.session.consumed(id, 10);  // harmless on a closed stream
    http::ResponseHead head;
    head.status = 200;
    EXPECT_FALSE(server.session.submitResponse(id, head, true));
}

TEST(ServerSession, PeerResetClosesTheStreamForTheOwner) {
    RecordingServer server;
    H2Client client;
    FrameLog log;
    const int32_t id = client.request(postFields(10), std::string("0123456789"));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    http::ResponseHead head;
    head.status = 200;
    ASSERT_TRUE(server.session.submitResponse(id, head, false));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    client.reset(id, NGHTTP2_CANCEL);
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    RecordedStream* s = server.stream(id);
    EXPECT_TRUE(s->closed);
    EXPECT_EQ(s->end.reason, CloseReason::kPeerReset);
    EXPECT_EQ(s->end.code, ErrorCode::kCancel);
    EXPECT_EQ(server.session.writeBody(id, "x"), WriteStatus::kClosed);
    EXPECT_EQ(server.session.glitches(), 0u);  // its response had started: not a rapid reset
    dumpSeed("post_then_reset", client);
}

TEST(ServerSession, CloseEndsEveryLiveStreamOnce) {
    auto server = std::make_unique<RecordingServer>();
    H2Client client;
    FrameLog log;
    const int32_t a = client.request(getFields("/a"));
    const int32_t b = client.request(getFields("/b"));
    ASSERT_TRUE(pump(client, server->session, log).server_ok);
    RecordedStream* sa = server->stream(a);
    RecordedStream* sb = server->stream(b);
    server->session.close();
    EXPECT_EQ(sa->close_calls, 1);
    EXPECT_EQ(sb->close_calls, 1);
    EXPECT_EQ(sa->end.reason, CloseReason::kConnectionClosed);
    EXPECT_TRUE(server->session.done());
    EXPECT_FALSE(server->session.feed("x"));
    server->session.close();
    EXPECT_EQ(sa->close_calls, 1);
}

TEST(ServerSession, CloseFromInsideAHandlerEndsTheConnection) {
    RecordingServer server;
    server.on_request = [&server](RecordedStream& s) {
        if (s.head.target == "/second") server.session.close();
    };
    H2Client client;
    FrameLog log;
    const int32_t first = client.request(getFields("/first"));
    const int32_t second = client.request(getFields("/second"));
    client.request(getFields("/third"));
    EXPECT_FALSE(pump(client, server.session, log).server_ok);
    ASSERT_NE(server.stream(first), nullptr);
    EXPECT_EQ(server.stream(first)->close_calls, 1);
    EXPECT_EQ(server.stream(first)->end.reason, CloseReason::kConnectionClosed);
    ASSERT_NE(server.stream(second), nullptr);  // its own onRequest() closed the session
    EXPECT_EQ(server.stream(second)->close_calls, 1);
    EXPECT_EQ(server.stream(second)->end.reason, CloseReason::kConnectionClosed);
    EXPECT_EQ(server.streams.size(), 2u);  // nothing processed after close()
    EXPECT_TRUE(server.session.done());
}

TEST(ServerSession, RejectsABadPrefaceWithoutAnswering) {
    RecordingServer server;
    EXPECT_FALSE(server.session.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    EXPECT_EQ(server.session.error(), "bad HTTP/2 connection preface");
    EXPECT_TRUE(server.session.pendingOutput().empty());
    EXPECT_TRUE(server.session.done());
}

TEST(Preface, TellsHttp2FromHttp1OnTheFirstBytes) {
    EXPECT_EQ(looksLikeH2Preface(""), PrefaceMatch::kNeedMore);
    EXPECT_EQ(looksLikeH2Preface("PRI * HTTP/2"), PrefaceMatch::kNeedMore);
    EXPECT_EQ(looksLikeH2Preface(kClientPreface), PrefaceMatch::kHttp2);
    EXPECT_EQ(looksLikeH2Preface(std::string(kClientPreface) + std::string("\0\0\x12", 3)),
              PrefaceMatch::kHttp2);
    EXPECT_EQ(looksLikeH2Preface("GET / HTTP/1.1\r\n"), PrefaceMatch::kNotHttp2);
    EXPECT_EQ(looksLikeH2Preface("PRI * HTTP/1.1\r\n"), PrefaceMatch::kNotHttp2);
    EXPECT_EQ(looksLikeH2Preface("P"), PrefaceMatch::kNeedMore);
    EXPECT_EQ(looksLikeH2Preface("Q"), PrefaceMatch::kNotHttp2);
}

}  // namespace
}  // namespace sluice::http2
