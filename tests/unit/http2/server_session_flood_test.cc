// Abuse: rapid reset, CONTINUATION/PING/SETTINGS/empty-frame floods, zero window updates, and the
// graceful stop. Each flood ends the connection with a GOAWAY the test reads off the wire.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "http2/server_session.h"
#include "unit/http2/h2_peer.h"

namespace sluice::http2 {
namespace {

using testing::be32;
using testing::dumpSeed;
using testing::Fields;
using testing::FrameLog;
using testing::getFields;
using testing::H2Client;
using testing::hpackBlock;
using testing::pump;
using testing::RawClient;
using testing::rawFrame;
using testing::RecordedStream;
using testing::RecordingServer;

constexpr uint32_t kCalm = NGHTTP2_ENHANCE_YOUR_CALM;

std::string ping(uint8_t flags = 0) {
    return rawFrame(NGHTTP2_PING, flags, 0, std::string(8, 'p'));
}

std::string rstStream(uint32_t id, uint32_t code = NGHTTP2_CANCEL) {
    return rawFrame(NGHTTP2_RST_STREAM, 0, id, be32(code));
}

TEST(ServerSessionFlood, RapidResetPassesTheGlitchLimit) {
    SessionSettings settings;
    settings.glitch_limit = 100;
    RecordingServer server(settings);  // holds every request: an upstream is slow
    RawClient client;
    FrameLog log;
    // CVE-2023-44487: open a stream, cancel it at once, again and again.
    for (uint32_t i = 0; i < 400; ++i) {
        client.headers(1 + 2 * i, getFields("/r" + std::to_string(i)), true);
        client.send(rstStream(1 + 2 * i));
        if (i % 10 == 9) pump(client, server.session, log);
    }
    pump(client, server.session, log);
    ASSERT_EQ(log.goaways.size(), 1u);
    EXPECT_EQ(log.goaways[0].code, kCalm);
    EXPECT_EQ(server.session.error(), "too many protocol glitches");
    EXPECT_TRUE(server.session.done());
    // 101 resets passed the limit; nothing after them was processed. Each reached the owner
    // (a valid request) and each was cancelled: its upstream work would stop.
    EXPECT_EQ(server.streams.size(), 101u);
    for (const auto& [id, s] : server.streams) {
        EXPECT_EQ(s->close_calls, 1);
        EXPECT_EQ(s->end.reason, CloseReason::kPeerReset);
        EXPECT_EQ(s->end.code, ErrorCode::kCancel);
    }
    dumpSeed("rapid_reset", client);
}

TEST(ServerSessionFlood, NghttpResetRateLimitHoldsWithoutTheGlitchLimit) {
    SessionSettings settings;
    settings.glitch_limit = 1000000;
    RecordingServer server(settings);
    RawClient client;
    FrameLog log;
    for (uint32_t i = 0; i < 3000; ++i) {
        client.headers(1 + 2 * i, getFields(), true);
        client.send(rstStream(1 + 2 * i));
        if (i % 50 == 49) pump(client, server.session, log);
    }
    pump(client, server.session, log);
    ASSERT_EQ(log.goaways.size(), 1u);
    // nghttp2's token bucket (burst 1000, 33/s: this test takes far less than 30 s).
    EXPECT_EQ(log.goaways[0].code, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
    EXPECT_GE(server.streams.size(), 1000u);
    EXPECT_LT(server.streams.size(), 2500u);
}

TEST(ServerSessionFlood, ContinuationFloodIsFatal) {
    RecordingServer server;
    RawClient client;
    FrameLog log;
    std::string block = hpackBlock(getFields());
    client.send(rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, 1, block));
    for (int i = 0; i < 100; ++i) {
        client.send(rawFrame(NGHTTP2_CONTINUATION, 0, 1, hpackBlock({{"x-c", "1"}})));
    }
    const testing::PumpResult r = pump(client, server.session, log);
    EXPECT_FALSE(r.server_ok);
    EXPECT_EQ(server.session.error(), "flood: too many CONTINUATION frames");
    EXPECT_TRUE(server.streams.empty());
    ASSERT_EQ(log.goaways.size(), 1u);
    EXPECT_EQ(log.goaways[0].code, kCalm);
    EXPECT_TRUE(server.session.done());
    dumpSeed("continuation_flood", client);
}

TEST(ServerSessionFlood, PingFloodPassesTheGlitchLimit) {
    RecordingServer server;
    RawClient client;
    FrameLog log;
    for (int i = 0; i < 2000; ++i) {
        client.send(ping());
        if (i % 100 == 0) pump(client, server.session, log);
    }
    pump(client, server.session, log);
    ASSERT_EQ(log.goaways.size(), 1u);
    EXPECT_EQ(log.goaways[0].code, kCalm);
    // Credit (100) + limit (500) PINGs were answered, no more.
    EXPECT_LE(log.ping_acks, 601);
    EXPECT_GE(log.ping_acks, 500);
    EXPECT_TRUE(server.session.done());
    dumpSeed("ping_flood", client);
}

TEST(ServerSessionFlood, SettingsFloodPassesTheGlitchLimit) {
    RecordingServer server;
    RawClient client;
    FrameLog log;
    const std::string settings =
        rawFrame(NGHTTP2_SETTINGS, 0, 0, std::string("\x00\x03", 2) + be32(100));
    for (int i = 0; i < 2000; ++i) {
        client.send(settings);
        if (i % 100 == 0) pump(client, server.session, log);
    }
    pump(client, server.session, log);
    ASSERT_EQ(log.goaways.size(), 1u);
    EXPECT_EQ(log.goaways[0].code, kCalm);
    EXPECT_LE(log.settings_acks, 602);
    dumpSeed("settings_flood", client);
}

TEST(ServerSessionFlood, AClientThatSendsButNeverReadsIsCutOff) {
    // With the glitch limit out of the way, nghttp2's own bound on queued ACKs (200) applies.
    SessionSettings settings;
    settings.glitch_limit = 1000000;
    RecordingServer server(settings);
    std::string bytes(kClientPreface);
    bytes += rawFrame(NGHTTP2_SETTINGS, 0, 0, "");
    for (int i = 0; i < 1000; ++i) bytes += ping();
    EXPECT_FALSE(server.session.feed(bytes));  // output never pulled
    EXPECT_EQ(server.session.error(), "flood: too many frames awaiting an acknowledgement");
    FrameLog log;
    log.feed(server.session.pendingOutput());
    ASSERT_FALSE(log.goaways.empty());
    EXPECT_EQ(log.goaways.back().code, kCalm);
}

TEST(ServerSessionFlood, EmptyDataFramesPassTheGlitchLimit) {
    RecordingServer server;
    RawClient client;
    FrameLog log;
    Fields post = getFields("/upload");
    post[0].second = "POST";
    client.headers(1, post, false);
    for (int i = 0; i < 1000; ++i) client.data(1, "", false);
    pump(client, server.session, log);
    ASSERT_EQ(log.goaways.size(), 1u);
    EXPECT_EQ(log.goaways[0].code, kCalm);
    ASSERT_NE(server.stream(1), nullptr);
    EXPECT_EQ(server.stream(1)->end.reason, CloseReason::kConnectionClosed);
    dumpSeed("empty_data_flood", client);
}

TEST(ServerSessionFlood, WindowUpdateOfZeroIsAConnectionError) {
    // nghttp2 1.52 treats a zero increment as a connection error even on a stream.
    for (uint32_t stream : {1u, 0u}) {
        SCOPED_TRACE(stream);
        RecordingServer server;
        RawClient client;
        FrameLog log;
        Fields post = getFields("/upload");
        post[0].second = "POST";
        client.headers(1, post, false);
        client.send(rawFrame(NGHTTP2_WINDOW_UPDATE, 0, stream, be32(0)));
        pump(client, server.session, log);
        ASSERT_EQ(log.goaways.size(), 1u);
        EXPECT_EQ(log.goaways[0].code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
        EXPECT_EQ(server.session.glitches(), 1u);
        EXPECT_TRUE(server.session.done());
        ASSERT_NE(server.stream(1), nullptr);
        EXPECT_EQ(server.stream(1)->end.reason, CloseReason::kConnectionClosed);
        if (stream == 1) dumpSeed("window_update_zero", client);
    }
}

TEST(ServerSessionFlood, UnknownAndPriorityFramesAreControlFrames) {
    RecordingServer server;
    RawClient client;
    FrameLog log;
    for (int i = 0; i < 400; ++i) {
        client.send(rawFrame(0xfa, 0, 0, "junk"));  // unknown type: ignored but counted
        client.send(rawFrame(NGHTTP2_PRIORITY, 0, 1 + 2 * i, be32(0) + std::string(1, '\x10')));
    }
    pump(client, server.session, log);
    ASSERT_EQ(log.goaways.size(), 1u);
    EXPECT_EQ(log.goaways[0].code, kCalm);
}

TEST(ServerSessionFlood, BusyConnectionsEarnControlFrameCredit) {
    RecordingServer server;
    server.answerWith("ok");
    H2Client client;
    FrameLog log;
    // 300 requests, each with a PING: 300 control frames, within 100 + 2 per stream.
    for (int i = 0; i < 300; ++i) {
        client.request(getFields());
        client.ping();
        pump(client, server.session, log);
    }
    EXPECT_TRUE(log.goaways.empty());
    EXPECT_EQ(server.session.glitches(), 0u);
    EXPECT_EQ(server.streams.size(), 300u);
}

TEST(ServerSessionMemory, StaysBoundedWithEveryStreamStuckOnAClosedWindow) {
    RecordingServer server;
    const std::string chunk(16384, 'z');
    auto fill = [&chunk](RecordedStream& s) {
        while (s.session->writeBody(s.id, chunk) == WriteStatus::kWritable) {
        }
    };
    server.on_end = [&](RecordedStream& s) {
        http::ResponseHead head;
        head.status = 200;
        s.session->submitResponse(s.id, head, false);
        fill(s);
        s.on_writable = fill;  // an upstream with an endless body
    };
    H2Client::Options opts;
    opts.auto_window_update = false;  // reads nothing: every window stays shut once used
    H2Client client(opts);
    FrameLog log;
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    const size_t idle = server.session.nghttp2Bytes();
    for (int i = 0; i < 100; ++i) {
        Fields f = getFields("/stream" + std::to_string(i));
        for (int h = 0; h < 20; ++h)
            f.emplace_back("x-h" + std::to_string(h), std::string(200, 'v'));
        client.request(f);
    }
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(server.session.openStreams(), 100u);
    const size_t nghttp2 = server.session.nghttp2Bytes();
    const size_t buffered = server.session.bufferedResponseBytes();
    std::printf(
        "[ memory   ] idle session: nghttp2 %zu B; 100 stuck streams: nghttp2 %zu B, "
        "buffered responses %zu B\n",
        idle, nghttp2, buffered);
    EXPECT_LT(idle, 64u * 1024);
    EXPECT_LT(nghttp2, 1024u * 1024);
    EXPECT_LE(buffered, 100u * (64 * 1024 + 16384));
    EXPECT_TRUE(server.session.pendingOutput().empty());  // nothing more the client can take
}

TEST(ServerSessionGracefulStop, FinishesInFlightStreamsAndIgnoresNewOnes) {
    RecordingServer server;
    H2Client client;
    FrameLog log;
    const int32_t first = client.request(getFields("/in-flight"));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    ASSERT_NE(server.stream(first), nullptr);

    server.session.shutdown();
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    // The notice, then (after the PING came back) the final GOAWAY naming stream 1.
    ASSERT_EQ(log.goaways.size(), 2u);
    EXPECT_EQ(log.goaways[0].last_stream_id, 0x7fffffff);
    EXPECT_EQ(log.goaways[1].last_stream_id, first);
    EXPECT_EQ(log.goaways[1].code, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
    EXPECT_FALSE(server.session.done());  // stream 1 is still running

    // A stream opened after the GOAWAY is ignored (the client would retry it elsewhere).
    client.inject(rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM,
                           first + 2, hpackBlock(getFields("/late"))));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(server.stream(first + 2), nullptr);

    http::ResponseHead head;
    head.status = 200;
    ASSERT_TRUE(server.session.submitResponse(first, head, false));
    server.session.writeBody(first, "bye");
    server.session.endResponse(first);
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(log.streams[first].body, "bye");
    EXPECT_EQ(server.stream(first)->end.reason, CloseReason::kCompleted);
    EXPECT_TRUE(server.session.done());
    dumpSeed("graceful_stop", client);
}

TEST(ServerSessionGracefulStop, FinishShutdownDoesNotWaitForThePing) {
    RecordingServer server;
    RawClient client;  // never answers PINGs
    FrameLog log;
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    server.session.shutdown();
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    ASSERT_EQ(log.goaways.size(), 1u);
    EXPECT_FALSE(server.session.done());
    server.session.finishShutdown();  // e.g. the owner's timer
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    ASSERT_EQ(log.goaways.size(), 2u);
    EXPECT_EQ(log.goaways[1].last_stream_id, 0);
    EXPECT_TRUE(server.session.done());
}

TEST(ServerSessionGracefulStop, PeerGoawayIsReported) {
    RecordingServer server;
    server.answerWith("ok");
    H2Client client;
    FrameLog log;
    client.request(getFields());
    nghttp2_session_terminate_session(client.session(), NGHTTP2_NO_ERROR);
    pump(client, server.session, log);
    ASSERT_EQ(server.peer_goaways.size(), 1u);
    EXPECT_EQ(server.peer_goaways[0], ErrorCode::kNoError);
}

}  // namespace
}  // namespace sluice::http2
