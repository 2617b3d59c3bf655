// Malformed requests through the whole session (nghttp2's checks and RequestHeadBuilder's): the
// stream is reset or answered 400/413/431/501, and no request event reaches the owner.

#include <gtest/gtest.h>

#include <string>

#include "http2/server_session.h"
#include "unit/http2/h2_peer.h"

namespace sluice::http2 {
namespace {

using testing::dumpSeed;
using testing::Fields;
using testing::FrameLog;
using testing::getFields;
using testing::H2Client;
using testing::hpackBlock;
using testing::hpackIndexedLiteral;
using testing::hpackInt;
using testing::pump;
using testing::RawClient;
using testing::rawFrame;
using testing::RecordingServer;

Fields with(Fields f, const std::string& name, const std::string& value) {
    f.emplace_back(name, value);
    return f;
}
Fields without(Fields f, const std::string& name) {
    for (auto it = f.begin(); it != f.end(); ++it) {
        if (it->first == name) {
            f.erase(it);
            break;
        }
    }
    return f;
}
Fields replaced(Fields f, const std::string& name, const std::string& value) {
    for (auto& [n, v] : f) {
        if (n == name) v = value;
    }
    return f;
}

constexpr uint32_t kProtocolError = NGHTTP2_PROTOCOL_ERROR;

struct MalformedCase {
    const char* name;
    Fields fields;
    int status;         // 0: reset
    uint32_t rst_code;  // when status == 0
};

std::vector<MalformedCase> malformedCases() {
    const Fields get = getFields();
    Fields connect = {{":method", "CONNECT"}, {":authority", "example.com:443"}};
    return {
        // nghttp2 (HTTP messaging on): RST_STREAM(PROTOCOL_ERROR).
        {"upper_case_name", with(get, "X-Foo", "1"), 0, kProtocolError},
        {"space_in_name", with(get, "x foo", "1"), 0, kProtocolError},
        {"colon_in_name", with(get, "x:foo", "1"), 0, kProtocolError},
        {"cr_in_value", with(get, "x-foo", "a\rb"), 0, kProtocolError},
        {"lf_in_value", with(get, "x-foo", "a\nb"), 0, kProtocolError},
        {"nul_in_value", with(get, "x-foo", std::string("a\0b", 3)), 0, kProtocolError},
        {"crlf_smuggled_header", with(get, "x-foo", "a\r\nhost: evil"), 0, kProtocolError},
        {"leading_space_value", with(get, "x-foo", " a"), 0, kProtocolError},
        {"connection", with(get, "connection", "keep-alive"), 0, kProtocolError},
        {"keep_alive", with(get, "keep-alive", "timeout=5"), 0, kProtocolError},
        {"proxy_connection", with(get, "proxy-connection", "keep-alive"), 0, kProtocolError},
        {"transfer_encoding", with(get, "transfer-encoding", "chunked"), 0, kProtocolError},
        {"upgrade", with(get, "upgrade", "websocket"), 0, kProtocolError},
        {"te_gzip", with(get, "te", "gzip"), 0, kProtocolError},
        {"te_trailers_gzip", with(get, "te", "trailers, gzip"), 0, kProtocolError},
        {"missing_method", without(get, ":method"), 0, kProtocolError},
        {"missing_scheme", without(get, ":scheme"), 0, kProtocolError},
        {"missing_path", without(get, ":path"), 0, kProtocolError},
        {"missing_authority_and_host", without(get, ":authority"), 0, kProtocolError},
        {"empty_path", replaced(get, ":path", ""), 0, kProtocolError},
        {"repeated_path", with(get, ":path", "/other"), 0, kProtocolError},
        {"repeated_method",
         Fields{{":method", "GET"},
                {":method", "POST"},
                {":scheme", "https"},
                {":authority", "a"},
                {":path", "/"}},
         0, kProtocolError},
        {"unknown_pseudo", with(get, ":foo", "bar"), 0, kProtocolError},
        {"status_in_request", with(get, ":status", "200"), 0, kProtocolError},
        {"pseudo_after_regular",
         Fields{{":method", "GET"},
                {":scheme", "https"},
                {"x-a", "1"},
                {":path", "/"},
                {":authority", "a"}},
         0, kProtocolError},
        {"extended_connect", with(replaced(get, ":method", "CONNECT"), ":protocol", "websocket"), 0,
         kProtocolError},
        {"relative_path", replaced(get, ":path", "index.html"), 0, kProtocolError},
        {"asterisk_get", replaced(get, ":path", "*"), 0, kProtocolError},
        {"repeated_host", with(with(get, "host", "example.com"), "host", "example.com"), 0,
         kProtocolError},
        {"content_length_not_a_number", with(get, "content-length", "abc"), 0, kProtocolError},
        {"content_length_signed", with(get, "content-length", "+0"), 0, kProtocolError},
        {"repeated_content_length", with(with(get, "content-length", "0"), "content-length", "0"),
         0, kProtocolError},
        {"content_length_without_body", with(get, "content-length", "5"), 0, kProtocolError},
        // RequestHeadBuilder: answered by the session.
        {"authority_host_differ", with(get, "host", "evil.example"), 400, 0},
        {"authority_host_other_port", with(get, "host", "example.com:8443"), 400, 0},
        {"authority_userinfo", replaced(get, ":authority", "user@example.com"), 400, 0},
        {"authority_bad_port", replaced(get, ":authority", "example.com:99999"), 400, 0},
        {"host_userinfo", with(without(get, ":authority"), "host", "u@example.com"), 400, 0},
        {"scheme_ftp", replaced(get, ":scheme", "ftp"), 400, 0},
        {"fragment_in_path", replaced(get, ":path", "/a#b"), 400, 0},
        {"non_ascii_path", replaced(get, ":path", "/caf\xc3\xa9"), 400, 0},
        {"pri_method", replaced(get, ":method", "PRI"), 400, 0},
        {"content_length_20_digits", with(get, "content-length", "00000000000000000000"), 400, 0},
        {"connect", connect, 501, 0},
    };
}

TEST(ServerSessionMalformed, NeverDeliversAMalformedRequest) {
    for (const MalformedCase& c : malformedCases()) {
        SCOPED_TRACE(c.name);
        RecordingServer server;
        server.answerWith("ok");
        // Hand-made frames: the bytes go out exactly as written (nghttp2's client would
        // lower-case names, for one).
        RawClient client;
        FrameLog log;
        const int32_t bad = 1, good = 3;
        client.headers(bad, c.fields, true);
        client.headers(good, getFields("/after"), true);  // the connection goes on
        ASSERT_TRUE(pump(client, server.session, log).server_ok);
        EXPECT_EQ(server.stream(bad), nullptr) << "delivered to the owner";
        const FrameLog::StreamView& v = log.streams[bad];
        if (c.status != 0) {
            EXPECT_EQ(v.status, c.status);
            EXPECT_TRUE(v.end_stream);
        } else {
            EXPECT_EQ(v.status, 0);
            EXPECT_TRUE(v.reset);
            EXPECT_EQ(v.reset_code, c.rst_code);
        }
        EXPECT_EQ(server.session.glitches(), 1u);
        ASSERT_NE(server.stream(good), nullptr);
        EXPECT_EQ(log.streams[good].status, 200);
        dumpSeed(std::string("malformed_") + c.name, client);
    }
}

TEST(ServerSessionMalformed, AcceptsTheNearMisses) {
    const Fields get = getFields();
    const std::vector<std::pair<const char*, Fields>> ok = {
        {"te_trailers", with(get, "te", "trailers")},
        {"host_only", with(without(get, ":authority"), "host", "example.com")},
        {"host_same_origin", with(get, "host", "EXAMPLE.com:443")},
        {"options_asterisk", replaced(replaced(get, ":method", "OPTIONS"), ":path", "*")},
        {"scheme_upper", replaced(get, ":scheme", "HTTPS")},
        {"obs_text_value", with(get, "x-name", "caf\xc3\xa9")},
        {"content_length_zero", with(get, "content-length", "0")},
    };
    for (const auto& [name, fields] : ok) {
        SCOPED_TRACE(name);
        RecordingServer server;
        server.answerWith("ok");
        RawClient client;
        FrameLog log;
        const int32_t id = 1;
        client.headers(id, fields, true);
        ASSERT_TRUE(pump(client, server.session, log).server_ok);
        ASSERT_NE(server.stream(id), nullptr);
        EXPECT_EQ(server.stream(id)->head.host(), "example.com");  // :authority wins
        EXPECT_EQ(server.stream(id)->head.headers.find("te"), http::HeaderList::npos);
        EXPECT_EQ(log.streams[id].status, 200);
        EXPECT_EQ(server.session.glitches(), 0u);
    }
}

TEST(ServerSessionMalformed, BodyLongerThanContentLengthIsNeverDelivered) {
    RecordingServer server;
    H2Client client;
    FrameLog log;
    Fields f = getFields("/p");
    f[0].second = "POST";
    f.emplace_back("content-length", "5");
    const int32_t id = client.request(f, std::string("0123456789"));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    auto* s = server.stream(id);
    ASSERT_NE(s, nullptr);  // the head was valid
    EXPECT_EQ(s->head.content_length, 5u);
    EXPECT_LE(s->body.size(), 5u);  // the DATA that overruns never reaches the owner
    EXPECT_FALSE(s->ended);
    EXPECT_TRUE(s->closed);
    EXPECT_EQ(s->end.reason, CloseReason::kLocalReset);
    EXPECT_EQ(s->end.code, ErrorCode::kProtocolError);
    EXPECT_EQ(log.streams[id].reset_code, kProtocolError);
    dumpSeed("content_length_overrun", client);
}

TEST(ServerSessionMalformed, BodyShorterThanContentLengthNeverEnds) {
    RecordingServer server;
    H2Client client;
    FrameLog log;
    Fields f = getFields("/p");
    f[0].second = "POST";
    f.emplace_back("content-length", "10");
    const int32_t id = client.request(f, std::string("01234"));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    auto* s = server.stream(id);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->body, "01234");
    EXPECT_FALSE(s->ended);  // onRequestEnd never comes: the upstream request stays incomplete
    EXPECT_EQ(s->end.reason, CloseReason::kLocalReset);
    EXPECT_EQ(log.streams[id].reset_code, kProtocolError);
    dumpSeed("content_length_short", client);
}

TEST(ServerSessionMalformed, BadTrailersResetTheStream) {
    RecordingServer server;
    H2Client client;
    FrameLog log;
    Fields f = getFields("/p");
    f[0].second = "POST";
    const int32_t pseudo = client.request(f, std::string("x"), {{":path", "/evil"}});
    const int32_t hop = client.request(f, std::string("x"), {{"transfer-encoding", "chunked"}});
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    for (int32_t id : {pseudo, hop}) {
        auto* s = server.stream(id);
        ASSERT_NE(s, nullptr);
        EXPECT_FALSE(s->got_trailers);
        EXPECT_FALSE(s->ended);
        EXPECT_EQ(s->end.reason, CloseReason::kLocalReset);
        EXPECT_EQ(log.streams[id].reset_code, kProtocolError);
    }
}

// Header blocks larger than one frame go out as HEADERS + CONTINUATION.
void sendHeaderBlock(RawClient& client, uint32_t stream_id, const std::string& block) {
    const size_t kFrame = 16384;
    for (size_t at = 0; at < block.size() || at == 0; at += kFrame) {
        const bool last = at + kFrame >= block.size();
        const uint8_t type = at == 0 ? NGHTTP2_HEADERS : NGHTTP2_CONTINUATION;
        const uint8_t flags = static_cast<uint8_t>((at == 0 ? NGHTTP2_FLAG_END_STREAM : 0) |
                                                   (last ? NGHTTP2_FLAG_END_HEADERS : 0));
        client.send(rawFrame(type, flags, stream_id, block.substr(at, kFrame)));
        if (last) break;
    }
}

TEST(ServerSessionMalformed, AHeaderListOverTheLimitIsAnswered431) {
    RecordingServer server;
    server.answerWith("ok");
    RawClient client;
    FrameLog log;
    sendHeaderBlock(client, 1, hpackBlock(with(getFields(), "x-big", std::string(40000, 'a'))));
    Fields many = getFields();
    for (int i = 0; i < 101; ++i) many.emplace_back("x-h" + std::to_string(i), "v");
    sendHeaderBlock(client, 3, hpackBlock(many));
    sendHeaderBlock(client, 5, hpackBlock(with(getFields(), "x-fits", std::string(30000, 'a'))));
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(server.stream(1), nullptr);
    EXPECT_EQ(log.streams[1].status, 431);
    EXPECT_EQ(server.stream(3), nullptr);
    EXPECT_EQ(log.streams[3].status, 431);
    ASSERT_NE(server.stream(5), nullptr);
    EXPECT_EQ(log.streams[5].status, 200);
    dumpSeed("header_list_over_limit", client);
}

TEST(ServerSessionMalformed, AnHpackBombIsAnswered431) {
    // One 4000-byte field enters the dynamic table, then 1000 one-byte references to it: a
    // 5 KB block that decodes to 4 MB. Nothing is kept past max_header_bytes.
    RecordingServer server;
    server.answerWith("ok");
    RawClient client;
    FrameLog log;
    std::string block = hpackBlock(getFields());
    block += hpackIndexedLiteral("x-bomb", std::string(4000, 'b'));
    for (int i = 0; i < 1000; ++i) block += hpackInt(62, 7, 0x80);  // indexed: dynamic entry 1
    sendHeaderBlock(client, 1, block);
    client.headers(3, getFields("/next"), true);
    ASSERT_TRUE(pump(client, server.session, log).server_ok);
    EXPECT_EQ(server.stream(1), nullptr);
    EXPECT_EQ(log.streams[1].status, 431);
    ASSERT_NE(server.stream(3), nullptr);  // HPACK state intact: the next request decodes
    EXPECT_EQ(server.stream(3)->head.target, "/next");
    dumpSeed("hpack_bomb", client);
}

}  // namespace
}  // namespace sluice::http2
