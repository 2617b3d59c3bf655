// Malformed and ambiguous requests (request smuggling / desync vectors): each must be refused
// with an exact status before the handler sees its head, and nothing after it may be parsed.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "desync_cases.h"
#include "http/request_parser.h"

namespace sluice::http {
namespace {

using desync::cases;
using desync::DesyncCase;

class RecordingHandler : public RequestHandler {
  public:
    Action onRequestHead(RequestHead&) override {
        ++heads;
        return Action::kContinue;
    }
    Action onRequestBody(std::string_view) override { return Action::kContinue; }
    void onRequestComplete() override { ++completes; }
    int heads = 0;
    int completes = 0;
};

RequestLimits limits() {
    RequestLimits l;
    l.max_header_bytes = 1024;
    l.max_headers = 20;
    l.max_body_bytes = 1000;
    return l;
}

// Feeds everything, resuming after each complete request; returns the final result.
FeedResult feedAll(RequestParser& parser, std::string_view input, size_t cut) {
    std::string pending;
    FeedResult r;
    for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
        pending.append(piece);
        while (true) {
            r = parser.feed(pending);
            if (r.kind != FeedResult::kPaused) break;
            pending.erase(0, r.consumed);
            parser.resume();
        }
        if (r.kind != FeedResult::kOk) return r;
        pending.clear();
    }
    return r;
}

class RequestDesync : public testing::TestWithParam<DesyncCase> {};

TEST_P(RequestDesync, IsRefusedBeforeTheHandlerSeesIt) {
    const DesyncCase& c = GetParam();
    // Whole, then cut in the middle and one byte before the end: the verdict must not depend
    // on how the bytes arrive.
    for (size_t cut : {c.input.size(), c.input.size() / 2, c.input.size() - 1}) {
        RecordingHandler handler;
        RequestParser parser(handler, limits());
        FeedResult r = feedAll(parser, c.input, cut);
        ASSERT_EQ(r.kind, FeedResult::kError) << "cut " << cut;
        EXPECT_EQ(r.status, c.status) << "cut " << cut << " reason: " << r.reason;
        EXPECT_NE(std::string(r.reason), "") << "cut " << cut;
        EXPECT_EQ(handler.heads, c.heads) << "cut " << cut;
        EXPECT_LE(handler.completes, c.heads) << "cut " << cut;
        // Nothing after the bad request is ever parsed.
        FeedResult again = parser.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_EQ(again.kind, FeedResult::kError);
        EXPECT_EQ(handler.heads, c.heads);
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, RequestDesync, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<DesyncCase>& param) {
                             return std::string(param.param.name);
                         });

TEST(RequestDesyncTable, HasAtLeast35Cases) { EXPECT_GE(cases().size(), 35u); }

// Every case is a seed of the request parser's fuzz corpus (tests/fuzz/corpus/request_parser),
// byte for byte, so that fuzzing starts from each known attack. SLUICE_DUMP_CORPUS=<dir>
// rewrites the seeds into <dir> after a table change.
TEST(RequestDesyncTable, EveryCaseIsAFuzzSeed) {
    const std::string corpus = std::string(SLUICE_TESTS_DIR) + "/fuzz/corpus/request_parser/";
    const char* dump = std::getenv("SLUICE_DUMP_CORPUS");
    for (const DesyncCase& c : cases()) {
        if (dump != nullptr) {
            std::ofstream out(std::string(dump) + "/" + c.name, std::ios::binary);
            out << c.input;
            ASSERT_TRUE(out.good()) << c.name;
        }
        std::ifstream in(corpus + c.name, std::ios::binary);
        ASSERT_TRUE(in.good()) << "missing seed " << corpus << c.name;
        std::string seed(1 << 16, '\0');
        in.read(seed.data(), static_cast<std::streamsize>(seed.size()));
        seed.resize(static_cast<size_t>(in.gcount()));
        EXPECT_EQ(seed, c.input) << c.name;
    }
}

}  // namespace
}  // namespace sluice::http
