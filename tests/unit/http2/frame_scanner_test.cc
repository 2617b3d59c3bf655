#include "http2/frame_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http2/glitch_counter.h"
#include "http2/preface.h"
#include "unit/http2/h2_peer.h"

namespace sluice::http2 {
namespace {

using testing::rawFrame;

TEST(FrameScanner, SeesEveryHeaderWhateverTheReadBoundaries) {
    std::string stream(kClientPreface);
    stream += rawFrame(0x4, 0x0, 0, std::string(12, 's'));
    stream += rawFrame(0x6, 0x1, 0, std::string(8, 'p'));
    stream += rawFrame(0xfa, 0x0, 7, std::string(300, 'u'));
    stream += rawFrame(0x0, 0x1, 3, "");
    for (size_t piece : {size_t{1}, size_t{5}, size_t{9}, size_t{100}, stream.size()}) {
        SCOPED_TRACE(piece);
        FrameScanner scanner;
        std::vector<FrameHeader> seen;
        for (size_t at = 0; at < stream.size(); at += piece) {
            const std::string_view part = std::string_view(stream).substr(at, piece);
            EXPECT_EQ(scanner.scan(part,
                                   [&](const FrameHeader& h) {
                                       seen.push_back(h);
                                       return true;
                                   }),
                      part.size());
        }
        ASSERT_EQ(seen.size(), 4u);
        EXPECT_EQ(seen[0].type, 0x4);
        EXPECT_EQ(seen[0].length, 12u);
        EXPECT_EQ(seen[1].type, 0x6);
        EXPECT_EQ(seen[1].flags, 0x1);
        EXPECT_EQ(seen[2].type, 0xfa);
        EXPECT_EQ(seen[2].length, 300u);
        EXPECT_EQ(seen[2].stream_id, 7u);
        EXPECT_EQ(seen[3].stream_id, 3u);
    }
}

TEST(FrameScanner, StopsAtTheHeaderOfTheFrameRefused) {
    std::string stream(kClientPreface);
    const std::string ping = rawFrame(0x6, 0x0, 0, std::string(8, 'p'));
    for (int i = 0; i < 5; ++i) stream += ping;
    FrameScanner scanner;
    int count = 0;
    const size_t cut = scanner.scan(stream, [&](const FrameHeader&) { return ++count < 3; });
    EXPECT_EQ(cut, kClientPreface.size() + 2 * ping.size());  // the third PING starts there
}

TEST(GlitchCounter, ControlFramesAreFreeUntilTheCreditRunsOut) {
    GlitchCounter g(10);
    for (uint32_t i = 0; i < GlitchCounter::kControlCredit; ++i) EXPECT_FALSE(g.controlFrame());
    EXPECT_EQ(g.count(), 0u);
    g.streamOpened();  // earns kControlCreditPerStream
    EXPECT_FALSE(g.controlFrame());
    EXPECT_FALSE(g.controlFrame());
    EXPECT_EQ(g.count(), 0u);
    for (int i = 0; i < 10; ++i) EXPECT_FALSE(g.controlFrame());
    EXPECT_EQ(g.count(), 10u);
    EXPECT_TRUE(g.controlFrame());  // the 11th glitch passes the limit
    EXPECT_TRUE(g.exceeded());
    EXPECT_TRUE(g.glitch());
}

TEST(GlitchCounter, CreditIsCapped) {
    GlitchCounter g(0);
    for (int i = 0; i < 10000; ++i) g.streamOpened();
    for (uint32_t i = 0; i < GlitchCounter::kMaxControlCredit; ++i) EXPECT_FALSE(g.controlFrame());
    EXPECT_TRUE(g.controlFrame());
}

}  // namespace
}  // namespace sluice::http2
