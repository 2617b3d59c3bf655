// libFuzzer target: arbitrary bytes through RequestParser, whole and split at a point derived
// from the input, with a handler that may pause. Besides crashes and sanitizer reports it traps
// on broken contracts: consumed beyond the input, no progress after resume(), an error status
// outside the documented set, handler calls out of order, and any difference between the whole
// and the split run (the verdict must not depend on read boundaries).
//
// Run: build/h-fuzz/tests/fuzz/request_parser_fuzz -max_total_time=60 \
//        -dict=tests/fuzz/request_parser.dict /tmp/corpus tests/fuzz/corpus/request_parser

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace {

using sluice::http::Action;
using sluice::http::FeedResult;
using sluice::http::RequestHandler;
using sluice::http::RequestHead;
using sluice::http::RequestLimits;
using sluice::http::RequestParser;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

class FuzzHandler : public RequestHandler {
  public:
    FuzzHandler(bool pause_head, bool pause_body)
        : pause_head_(pause_head), pause_body_(pause_body) {}
    Action onRequestHead(RequestHead& head) override {
        check(!in_request_);
        in_request_ = true;
        ++heads;
        check(head.version_major == 1 && head.version_minor <= 1);
        check(!head.method.empty() && !head.target.empty());
        // Validated heads have exactly one way to find the body's end.
        check(head.headers.count("transfer-encoding") + head.headers.count("content-length") <= 1);
        digest = digest * 31 + head.target.size() + head.headers.size();
        return pause_head_ ? Action::kPause : Action::kContinue;
    }
    Action onRequestBody(std::string_view decoded) override {
        check(in_request_);
        check(!decoded.empty());
        body_bytes += decoded.size();
        for (unsigned char c : decoded) digest = digest * 131 + c;
        return pause_body_ ? Action::kPause : Action::kContinue;
    }
    void onRequestComplete() override {
        check(in_request_);
        in_request_ = false;
        ++completes;
    }

    uint64_t heads = 0;
    uint64_t completes = 0;
    uint64_t body_bytes = 0;
    uint64_t digest = 0;

  private:
    bool pause_head_;
    bool pause_body_;
    bool in_request_ = false;
};

struct Outcome {
    FeedResult::Kind kind = FeedResult::kOk;
    int status = 0;
    uint64_t heads = 0, completes = 0, body_bytes = 0, digest = 0;
    bool operator==(const Outcome&) const = default;
};

Outcome run(std::string_view input, size_t cut, const RequestLimits& limits, bool pause_head,
            bool pause_body) {
    FuzzHandler handler(pause_head, pause_body);
    RequestParser parser(handler, limits);
    std::string pending;
    FeedResult r;
    for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
        pending.append(piece);
        // Each pause consumes at least one byte or completes a request, so this bounds the loop.
        size_t budget = 2 * pending.size() + 8;
        while (true) {
            check(budget-- > 0);
            const size_t before = pending.size();
            r = parser.feed(pending);
            check(r.consumed <= before);
            if (r.kind != FeedResult::kPaused) break;
            pending.erase(0, r.consumed);
            parser.resume();
        }
        if (r.kind == FeedResult::kOk) {
            check(r.consumed == pending.size());
            pending.clear();
            continue;
        }
        if (r.kind == FeedResult::kError) {
            const int s = r.status;
            check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
            check(r.reason != nullptr && r.reason[0] != '\0');
            // Sticky: nothing after an error is parsed.
            const uint64_t heads = handler.heads;
            check(parser.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n").kind == FeedResult::kError);
            check(handler.heads == heads);
        }
        break;
    }
    Outcome out;
    out.kind = r.kind;
    out.status = r.kind == FeedResult::kError ? r.status : 0;
    out.heads = handler.heads;
    out.completes = handler.completes;
    out.body_bytes = handler.body_bytes;
    out.digest = handler.digest;
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Every byte is request bytes (so the seed corpus is plain requests); the split point and
    // the handler / limit variant are derived from the data rather than taken from it.
    std::string_view input(reinterpret_cast<const char*>(data), size);
    if (input.empty()) return 0;
    const uint8_t last = data[size - 1];
    const uint8_t mid = data[size / 2];
    const size_t cut = (static_cast<size_t>(last) * 257 + size) % (size + 1);
    const unsigned flags = static_cast<unsigned>(mid ^ (size & 0xff));

    RequestLimits limits;
    limits.max_header_bytes = (flags & 0x4) ? 256 : 8192;
    limits.max_headers = (flags & 0x8) ? 4 : 64;
    limits.max_body_bytes = (flags & 0x10) ? 64 : 0;
    const bool pause_head = flags & 0x1;
    const bool pause_body = flags & 0x2;

    const Outcome whole = run(input, input.size(), limits, pause_head, pause_body);
    const Outcome parts = run(input, cut, limits, pause_head, pause_body);
    check(whole == parts);
    return 0;
}
