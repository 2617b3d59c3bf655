#include "http/serializer.h"

#include <gtest/gtest.h>

#include <string>

#include "http/request_parser.h"
#include "http/response_parser.h"

namespace sluice::http {
namespace {

// Heads are built by the real parsers so the tests see what the proxy sees.
class HeadCapture : public RequestHandler, public ResponseHandler {
  public:
    Action onRequestHead(RequestHead& head) override {
        request = head;
        return Action::kContinue;
    }
    Action onRequestBody(std::string_view) override { return Action::kContinue; }
    void onRequestComplete() override {}
    void onInterimResponse(const ResponseHead&) override {}
    Action onResponseHead(ResponseHead& head) override {
        response = head;
        return Action::kContinue;
    }
    Action onResponseBody(std::string_view) override { return Action::kContinue; }
    void onResponseComplete() override {}
    RequestHead request;
    ResponseHead response;
};

RequestHead parseRequest(const std::string& text) {
    HeadCapture capture;
    RequestParser parser(capture, RequestLimits{});
    FeedResult r = parser.feed(text);
    EXPECT_NE(r.kind, FeedResult::kError) << r.reason;
    return capture.request;
}

ResponseHead parseResponse(const std::string& text, const char* method = "GET") {
    HeadCapture capture;
    ResponseParser parser(capture);
    parser.setRequestMethod(method);
    FeedResult r = parser.feed(text);
    EXPECT_NE(r.kind, FeedResult::kError) << r.reason;
    return capture.response;
}

ForwardInfo forward() {
    ForwardInfo info;
    info.client_ip = "10.0.0.7";
    info.request_id_header = "X-Request-ID";
    info.request_id = "req-1";
    return info;
}

TEST(SerializeRequestHead, RemovesHopByHopAndAddsForwardingHeaders) {
    RequestHead head = parseRequest(
        "GET /p?q=1 HTTP/1.1\r\nHost: app.example\r\nConnection: keep-alive, X-Secret\r\n"
        "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
        "Trailer: X-T\r\nUpgrade: h2c\r\nX-Secret: s\r\nAccept: */*\r\n\r\n");
    std::string out;
    serializeRequestHead(head, BodyFraming::kNone, true, forward(), out);
    EXPECT_EQ(out,
              "GET /p?q=1 HTTP/1.1\r\n"
              "Host: app.example\r\n"
              "Accept: */*\r\n"
              "X-Forwarded-For: 10.0.0.7\r\n"
              "X-Forwarded-Proto: http\r\n"
              "X-Forwarded-Host: app.example\r\n"
              "Via: 1.1 sluice\r\n"
              "X-Request-ID: req-1\r\n"
              "\r\n");
}

TEST(SerializeRequestHead, ConnectionCannotRemoveHostOrFraming) {
    RequestHead head = parseRequest(
        "POST / HTTP/1.1\r\nHost: a\r\nConnection: host, content-length, transfer-encoding\r\n"
        "Content-Length: 3\r\n\r\n");
    std::string out;
    ForwardInfo info;
    info.forwarded_headers = false;
    serializeRequestHead(head, BodyFraming::kContentLength, true, info, out);
    EXPECT_EQ(out, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
}

TEST(SerializeRequestHead, ReplacesForwardingHeadersOfAnUntrustedClient) {
    RequestHead head = parseRequest(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n"
        "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nVia: 1.0 edge\r\n"
        "X-Request-ID: from-client\r\n\r\n");
    std::string out;
    ForwardInfo info = forward();
    serializeRequestHead(head, BodyFraming::kNone, true, info, out);
    EXPECT_EQ(out,
              "GET / HTTP/1.1\r\n"
              "Host: a\r\n"
              "X-Request-ID: from-client\r\n"
              "X-Forwarded-For: 10.0.0.7\r\n"
              "X-Forwarded-Proto: http\r\n"
              "X-Forwarded-Host: a\r\n"
              "Via: 1.0 edge, 1.1 sluice\r\n"
              "\r\n");
}

TEST(SerializeRequestHead, KeepsAndAppendsToForwardingHeadersOfATrustedProxy) {
    RequestHead head = parseRequest(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n"
        "X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nVia: 1.0 edge\r\n"
        "X-Request-ID: from-client\r\n\r\n");
    std::string out;
    ForwardInfo info = forward();
    info.trusted_client = true;
    serializeRequestHead(head, BodyFraming::kNone, true, info, out);
    EXPECT_EQ(out,
              "GET / HTTP/1.1\r\n"
              "Host: a\r\n"
              "X-Request-ID: from-client\r\n"
              "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.0.0.7\r\n"
              "X-Forwarded-Proto: https\r\n"
              "X-Forwarded-Host: shop.example\r\n"
              "Via: 1.0 edge, 1.1 sluice\r\n"
              "\r\n");
}

TEST(SerializeRequestHead, DropsUnderscoreLookalikesOfForwardingHeaders) {
    RequestHead head = parseRequest(
        "GET / HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: 6.6.6.6\r\nx-forwarded_proto: https\r\n"
        "X_Other: kept\r\n\r\n");
    std::string out;
    ForwardInfo info = forward();
    info.request_id_header = "";
    serializeRequestHead(head, BodyFraming::kNone, true, info, out);
    EXPECT_EQ(out,
              "GET / HTTP/1.1\r\nHost: a\r\nX_Other: kept\r\nX-Forwarded-For: 10.0.0.7\r\n"
              "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a\r\nVia: 1.1 sluice\r\n\r\n");
}

TEST(SerializeRequestHead, ConnectionWithManyElementsStillRemovesWhatItNames) {
    // More list elements than the serializer splits up front (16): the rest are still read.
    std::string list;
    for (int i = 0; i < 20; ++i) list += "x-" + std::to_string(i) + ", ";
    RequestHead head = parseRequest("GET / HTTP/1.1\r\nHost: a\r\nConnection: " + list +
                                    ",X-Last\r\nConnection: x-more\r\nX-19: a\r\nX-Last: b\r\n"
                                    "X-More: c\r\nX-20: kept\r\n\r\n");
    std::string out;
    ForwardInfo info;
    info.forwarded_headers = false;
    serializeRequestHead(head, BodyFraming::kNone, true, info, out);
    EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: a\r\nX-20: kept\r\n\r\n");
}

TEST(SerializeRequestHead, WithoutForwardingHeadersPassesThemThrough) {
    RequestHead head =
        parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n");
    std::string out;
    ForwardInfo info;
    info.forwarded_headers = false;
    serializeRequestHead(head, BodyFraming::kNone, false, info, out);
    EXPECT_EQ(out,
              "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nConnection: close\r\n\r\n");
}

TEST(SerializeRequestHead, WritesOutgoingFraming) {
    RequestHead head = parseRequest(
        "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: "
        "100-continue\r\n\r\n");
    std::string out;
    ForwardInfo info;
    info.forwarded_headers = false;
    serializeRequestHead(head, BodyFraming::kChunked, true, info, out);
    EXPECT_EQ(out,
              "POST /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
              "Transfer-Encoding: chunked\r\n\r\n");
    // An explicit empty body stays explicit.
    head = parseRequest("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    out.clear();
    serializeRequestHead(head, BodyFraming::kNone, true, info, out);
    EXPECT_EQ(out, "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
}

TEST(SerializeRequestHead, AbsoluteFormBecomesOriginForm) {
    RequestHead head = parseRequest("GET http://a.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n");
    std::string out;
    ForwardInfo info;
    info.forwarded_headers = false;
    serializeRequestHead(head, BodyFraming::kNone, true, info, out);
    EXPECT_EQ(out, "GET /x?y HTTP/1.1\r\nHost: a.example\r\n\r\n");
    // HTTP/1.0 without Host: the authority becomes Host.
    head = parseRequest("GET http://b.example HTTP/1.0\r\n\r\n");
    out.clear();
    serializeRequestHead(head, BodyFraming::kNone, false, info, out);
    EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n");
}

TEST(SerializeRequestHead, KeepsWebsocketUpgrade) {
    RequestHead head = parseRequest(
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n");
    ASSERT_TRUE(head.upgrade);
    std::string out;
    ForwardInfo info;
    info.forwarded_headers = false;
    serializeRequestHead(head, BodyFraming::kNone, true, info, out);
    EXPECT_EQ(out,
              "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n"
              "Sec-WebSocket-Version: 13\r\nConnection: upgrade\r\n\r\n");
}

TEST(SerializeRequestHead, ReusesOutputCapacity) {
    RequestHead head = parseRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    std::string out;
    out.reserve(1024);
    const char* data = out.data();
    for (int i = 0; i < 10; ++i) {
        out.clear();
        serializeRequestHead(head, BodyFraming::kNone, true, forward(), out);
    }
    EXPECT_EQ(out.data(), data);
}

TEST(SerializeResponseHead, RemovesHopByHopAndRewritesFraming) {
    ResponseHead head = parseResponse(
        "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\n"
        "X-Internal: 1\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n");
    std::string out;
    serializeResponseHead(head, BodyFraming::kChunked, true, 1, "X-Request-ID: r\r\n", out);
    EXPECT_EQ(out,
              "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n"
              "X-Request-ID: r\r\n\r\n");
}

TEST(SerializeResponseHead, ConnectionHeaderFollowsClientAndFraming) {
    ResponseHead head = parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
    std::string out;
    serializeResponseHead(head, BodyFraming::kContentLength, true, 0, "", out);
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
    out.clear();
    serializeResponseHead(head, BodyFraming::kContentLength, false, 1, "", out);
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
    out.clear();
    serializeResponseHead(head, BodyFraming::kUntilClose, true, 0, "", out);
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
}

TEST(SerializeResponseHead, BodilessResponsesKeepOrDropLength) {
    ResponseHead head = parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", "HEAD");
    std::string out;
    serializeResponseHead(head, BodyFraming::kNone, true, 1, "", out);
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
    head = parseResponse("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    out.clear();
    serializeResponseHead(head, BodyFraming::kNone, true, 1, "", out);
    EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST(SerializeResponseHead, SwitchingProtocolsKeepsUpgrade) {
    ResponseHead head = parseResponse(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: x\r\n\r\n");
    std::string out;
    serializeResponseHead(head, BodyFraming::kNone, true, 1, "", out);
    EXPECT_EQ(out,
              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Sec-WebSocket-Accept: x\r\nConnection: upgrade\r\n\r\n");
}

TEST(SerializeErrorResponse, WritesPlainTextBody) {
    std::string out;
    serializeErrorResponse(502, true, "X-Request-ID: r\r\n", out);
    EXPECT_EQ(out,
              "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: 16\r\nConnection: close\r\nX-Request-ID: r\r\n\r\n"
              "502 Bad Gateway\n");
    out.clear();
    serializeErrorResponse(431, false, "", out);
    EXPECT_EQ(out,
              "HTTP/1.1 431 Request Header Fields Too Large\r\n"
              "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 36\r\n\r\n"
              "431 Request Header Fields Too Large\n");
}

TEST(ReasonPhrase, KnowsTheStatusesTheProxySends) {
    EXPECT_EQ(reasonPhrase(400), "Bad Request");
    EXPECT_EQ(reasonPhrase(413), "Content Too Large");
    EXPECT_EQ(reasonPhrase(414), "URI Too Long");
    EXPECT_EQ(reasonPhrase(501), "Not Implemented");
    EXPECT_EQ(reasonPhrase(504), "Gateway Timeout");
    EXPECT_EQ(reasonPhrase(505), "HTTP Version Not Supported");
    EXPECT_EQ(reasonPhrase(799), "Unknown");
}

TEST(SerializeLastChunk, CarriesTrailersButNoFramingRoutingOrConnectionFields) {
    std::string out;
    serializeLastChunk(nullptr, out);
    EXPECT_EQ(out, "0\r\n\r\n");
    HeaderList t;
    t.add("X-Sum", "42");
    for (const char* name :
         {"Content-Length", "Transfer-Encoding", "Host", "Expect", "Connection", "Keep-Alive",
          "Proxy-Connection", "TE", "Trailer", "Upgrade", "X-Forwarded-For", "Via"}) {
        t.add(name, "x");
    }
    t.add("Grpc-Status", "0");
    out.clear();
    serializeLastChunk(&t, out);
    EXPECT_EQ(out, "0\r\nX-Sum: 42\r\nGrpc-Status: 0\r\n\r\n");
}

}  // namespace
}  // namespace sluice::http
