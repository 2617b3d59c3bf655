#include "net/accept_pause_log.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace sluice::net {
namespace {

// Pauses every `step_ms` from `from_ms` up to (excluding) `to_ms`; returns the lines logged.
std::vector<std::string> pauseEvery(AcceptPauseLog& log, uint64_t from_ms, uint64_t to_ms,
                                    uint64_t step_ms, int error = EMFILE) {
    std::vector<std::string> lines;
    for (uint64_t t = from_ms; t < to_ms; t += step_ms) {
        std::string line = log.paused(t, error, 100);
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

TEST(AcceptPauseLog, LogsTheFirstPauseThenOneSummaryPerInterval) {
    AcceptPauseLog log;
    // 12 s of pauses every 100 ms: 120 pauses, which used to be 120 lines.
    const std::vector<std::string> lines = pauseEvery(log, 1000, 13000, 100);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0],
              "accept: Too many open files; pausing accepts, retrying every 100ms (repeats "
              "summarized every 5s)");
    EXPECT_EQ(lines[1], "accept: Too many open files: paused 50 times in the last 5s");
    EXPECT_EQ(lines[2], "accept: Too many open files: paused 50 times in the last 5s");
    EXPECT_TRUE(log.inEpisode());
}

TEST(AcceptPauseLog, TheEpisodeEndsWithALineAfterAQuietSecond) {
    AcceptPauseLog log;
    EXPECT_EQ(log.settled(500), "");   // no episode: nothing to say
    pauseEvery(log, 1000, 3000, 100);  // last pause at 2900
    EXPECT_EQ(log.settled(2950), "");  // too soon to tell
    EXPECT_EQ(log.settled(3899), "");
    EXPECT_TRUE(log.inEpisode());
    EXPECT_EQ(log.settled(3900),
              "accept: accepting again after 20 pauses in 1.9s (Too many open files)");
    EXPECT_FALSE(log.inEpisode());
    EXPECT_EQ(log.settled(5000), "");  // once
    // The next shortage is a new episode: its first pause is logged again.
    const std::vector<std::string> again = pauseEvery(log, 6000, 6300, 100, ENFILE);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].rfind("accept: Too many open files in system; pausing accepts", 0), 0u)
        << again[0];
    EXPECT_EQ(log.settled(7200),
              "accept: accepting again after 3 pauses in 0.2s (Too many open files in system)");
}

TEST(AcceptPauseLog, AcceptingAndPausingInTurnIsOneEpisode) {
    // At the edge of the limit: a pause, some accepts, a pause... every 300 ms for 12 s.
    AcceptPauseLog log;
    std::vector<std::string> lines;
    for (uint64_t t = 0; t < 12000; t += 300) {
        if (std::string line = log.paused(t, EMFILE, 100); !line.empty()) lines.push_back(line);
        if (std::string line = log.settled(t + 150); !line.empty()) lines.push_back(line);
    }
    ASSERT_EQ(lines.size(), 3u);  // the first pause and two summaries, no end and new start
    EXPECT_EQ(lines[1], "accept: Too many open files: paused 17 times in the last 5s");
    EXPECT_TRUE(log.inEpisode());
}

TEST(AcceptPauseLog, SparsePausesAreSummarizedWhenTheIntervalHasPassed) {
    AcceptPauseLog log;
    EXPECT_NE(log.paused(0, EMFILE, 100), "");
    EXPECT_EQ(log.paused(800, EMFILE, 100), "");
    EXPECT_EQ(log.paused(1600, ENOBUFS, 100), "");
    EXPECT_EQ(log.paused(5600, ENOBUFS, 100),
              "accept: No buffer space available: paused 3 times in the last 6s");
    EXPECT_EQ(log.paused(5700, ENOBUFS, 100), "");
}

}  // namespace
}  // namespace sluice::net
