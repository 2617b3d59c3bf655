// Cost driver for the HTTP parsing layer (not a test: it asserts nothing about time). Parses N
// typical proxied exchanges the way HttpSession does: a browser-like GET with 8 header fields
// through RequestParser, the Host / X-Request-ID / Referer / User-Agent look-ups,
// serializeRequestHead, then an nginx-like 200 with 6 header fields and a small body through
// ResponseParser and serializeResponseHead. With `digest`, prints a digest of everything
// produced (heads, bodies, serialized output), so two builds can be checked to behave alike.
//
// Build against a RelWithDebInfo tree (or add this directory to the CMake build, see
// CMakeLists.txt here), from the repository root (one command):
//   g++ -std=c++20 -O2 -g -DNDEBUG -DLLHTTP_STRICT_MODE=1 -Isrc
//     -isystem /usr/share/include/llhttp tools/parse_cost/parse_cost_driver.cc
//     build/h-perf/src/libsluice_http.a build/h-perf/libllhttp.a -o parse_cost_driver
// Measure instructions per exchange as the difference of two runs:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null parse_cost_driver 1000
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null parse_cost_driver 2000
//   (Ir of the second run - Ir of the first) / 1000
// Arguments after N: `split` feeds every message in two reads (cut inside a line), `wrk` sends
// wrk's two-line GET instead, `digest` hashes every byte produced (leave it out when measuring:
// it costs more than the parsing).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "http/request_parser.h"
#include "http/response_parser.h"
#include "http/serializer.h"

namespace {

using namespace sluice::http;

constexpr std::string_view kRequest =
    "GET /api/v1/items?id=42&sort=desc HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://www.example.com/items\r\n"
    "Cookie: session=4f2a9c81d7e6b3a0; theme=dark\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

// What wrk sends.
constexpr std::string_view kWrkRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 13\r\n"
    "Connection: keep-alive\r\n"
    "ETag: \"65920b80-d\"\r\n"
    "\r\n"
    "Hello, world!";

uint64_t g_digest = 1469598103934665603ull;
bool g_full_digest = false;

void mix(std::string_view bytes) {
    g_digest = (g_digest ^ bytes.size()) * 1099511628211ull;
    if (!g_full_digest) return;
    for (unsigned char c : bytes) g_digest = (g_digest ^ c) * 1099511628211ull;
}

void mix(uint64_t n) { mix(std::string_view(reinterpret_cast<const char*>(&n), sizeof(n))); }

class Session : public RequestHandler, public ResponseHandler {
  public:
    Action onRequestHead(RequestHead& head) override {
        mix(head.host());
        size_t at = head.headers.find("X-Request-ID");
        request_id_ = at == HeaderList::npos ? std::string_view("0123456789abcdef") : "";
        at = head.headers.find("Referer");
        if (at != HeaderList::npos) mix(head.headers.value(at));
        at = head.headers.find("User-Agent");
        if (at != HeaderList::npos) mix(head.headers.value(at));
        ForwardInfo info;
        info.client_ip = "192.0.2.7";
        info.request_id_header = "X-Request-ID";
        info.request_id = request_id_;
        out_.clear();
        serializeRequestHead(head, head.framing, !head.upgrade, info, out_);
        mix(out_);
        client_minor_ = head.version_minor;
        return Action::kContinue;
    }
    Action onRequestBody(std::string_view decoded) override {
        mix(decoded);
        return Action::kContinue;
    }
    void onRequestComplete() override { ++requests; }

    void onInterimResponse(const ResponseHead&) override {}
    Action onResponseHead(ResponseHead& head) override {
        extra_.clear();
        extra_.append("X-Request-ID: ").append(request_id_).append("\r\n");
        out_.clear();
        serializeResponseHead(head, head.framing, head.keep_alive, client_minor_, extra_, out_);
        mix(out_);
        return Action::kContinue;
    }
    Action onResponseBody(std::string_view decoded) override {
        mix(decoded);
        return Action::kContinue;
    }
    void onResponseComplete() override { ++responses; }

    uint64_t requests = 0, responses = 0;

  private:
    std::string out_, extra_;
    std::string_view request_id_;
    int client_minor_ = 1;
};

bool feedAll(RequestParser& p, std::string_view bytes, size_t cut) {
    for (std::string_view piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
        if (piece.empty()) continue;
        FeedResult r = p.feed(piece);
        if (r.kind == FeedResult::kPaused && r.consumed == piece.size()) {
            p.resume();
        } else if (r.kind != FeedResult::kOk) {
            return false;
        }
    }
    return true;
}

bool feedAll(ResponseParser& p, std::string_view bytes, size_t cut) {
    for (std::string_view piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
        if (piece.empty()) continue;
        FeedResult r = p.feed(piece);
        if (r.kind == FeedResult::kPaused && r.consumed == piece.size()) {
            p.resume();
        } else if (r.kind != FeedResult::kOk) {
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 1000;
    bool split = false;
    std::string_view request = kRequest;
    for (int i = 2; i < argc; ++i) {
        split = split || std::strcmp(argv[i], "split") == 0;
        if (std::strcmp(argv[i], "wrk") == 0) request = kWrkRequest;
        g_full_digest = g_full_digest || std::strcmp(argv[i], "digest") == 0;
    }
    Session session;
    RequestParser requests(session, RequestLimits{});
    ResponseParser responses(session);
    for (long i = 0; i < n; ++i) {
        if (!feedAll(requests, request, split ? 21 : request.size())) {
            std::fprintf(stderr, "request %ld failed\n", i);
            return 1;
        }
        responses.setRequestMethod(requests.head().method);
        if (!feedAll(responses, kResponse, split ? 50 : kResponse.size())) {
            std::fprintf(stderr, "response %ld failed\n", i);
            return 1;
        }
    }
    mix(session.requests);
    mix(session.responses);
    std::printf("%llu exchanges, digest %016llx\n", static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(g_digest));
    return 0;
}
