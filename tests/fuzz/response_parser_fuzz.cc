// libFuzzer target: arbitrary upstream bytes through ResponseParser (then finish(), as on EOF),
// whole and split at a data-derived point. Traps on crashes, broken contracts (consumed beyond
// the input, no progress after resume(), status other than 502, handler calls out of order) and
// on any difference between the whole and the split run.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/response_parser.h"

namespace {

using sluice::http::Action;
using sluice::http::FeedResult;
using sluice::http::ResponseHandler;
using sluice::http::ResponseHead;
using sluice::http::ResponseParser;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

class FuzzHandler : public ResponseHandler {
  public:
    explicit FuzzHandler(bool pause) : pause_(pause) {}
    void onInterimResponse(const ResponseHead& head) override {
        check(!in_response_);
        check(head.status >= 100 && head.status < 200 && head.status != 101);
        ++interim;
    }
    Action onResponseHead(ResponseHead& head) override {
        check(!in_response_);
        in_response_ = true;
        ++heads;
        check(head.version_major == 1 && head.version_minor <= 1);
        check(head.status == 101 || (head.status >= 200 && head.status <= 599));
        digest = digest * 31 + static_cast<uint64_t>(head.status) + head.headers.size();
        return pause_ ? Action::kPause : Action::kContinue;
    }
    Action onResponseBody(std::string_view decoded) override {
        check(in_response_ && !decoded.empty());
        for (unsigned char c : decoded) digest = digest * 131 + c;
        return pause_ ? Action::kPause : Action::kContinue;
    }
    void onResponseComplete() override {
        check(in_response_);
        in_response_ = false;
        ++completes;
    }
    uint64_t interim = 0, heads = 0, completes = 0, digest = 0;

  private:
    bool pause_;
    bool in_response_ = false;
};

struct Outcome {
    FeedResult::Kind kind = FeedResult::kOk;
    uint64_t interim = 0, heads = 0, completes = 0, digest = 0;
    bool operator==(const Outcome&) const = default;
};

Outcome run(std::string_view input, size_t cut, bool head_request, bool pause) {
    FuzzHandler handler(pause);
    ResponseParser parser(handler, 512);
    parser.setRequestMethod(head_request ? "HEAD" : "GET");
    std::string pending;
    FeedResult r;
    for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
        pending.append(piece);
        size_t budget = 2 * pending.size() + 8;
        while (true) {
            check(budget-- > 0);
            const size_t before = pending.size();
            r = parser.feed(pending);
            check(r.consumed <= before);
            if (r.kind != FeedResult::kPaused) break;
            pending.erase(0, r.consumed);
            parser.resume();
            parser.setRequestMethod(head_request ? "HEAD" : "GET");
        }
        if (r.kind != FeedResult::kOk) break;
        pending.clear();
    }
    if (r.kind == FeedResult::kOk) r = parser.finish();
    if (r.kind == FeedResult::kError) check(r.status == 502 && r.reason[0] != '\0');
    Outcome out;
    out.kind = r.kind;
    out.interim = handler.interim;
    out.heads = handler.heads;
    out.completes = handler.completes;
    out.digest = handler.digest;
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    if (input.empty()) return 0;
    const size_t cut = (static_cast<size_t>(data[size - 1]) * 257 + size) % (size + 1);
    const unsigned flags = static_cast<unsigned>(data[size / 2] ^ (size & 0xff));
    const bool head_request = flags & 0x1;
    const bool pause = flags & 0x2;
    const Outcome whole = run(input, input.size(), head_request, pause);
    const Outcome parts = run(input, cut, head_request, pause);
    check(whole == parts);
    return 0;
}
