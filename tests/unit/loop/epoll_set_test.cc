#include "loop/epoll_set.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <vector>

namespace sluice::loop {
namespace {

class EpollSetTest : public ::testing::Test {
  protected:
    void SetUp() override {
        uv_loop_init(&loop_);
        for (auto& pair : pairs_) ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    }
    void TearDown() override {
        set_.reset();
        uv_run(&loop_, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&loop_), 0);  // the poll handle is closed and freed
        for (auto& pair : pairs_) {
            for (int fd : pair) {
                if (fd >= 0) ::close(fd);
            }
        }
    }
    static void record(void* self, uint64_t cookie) {
        auto* test = static_cast<EpollSetTest*>(self);
        test->reported_.push_back(cookie);
        if (test->on_report_) test->on_report_(cookie);
    }
    void makeSet() { set_ = std::make_unique<EpollSet>(&loop_, &EpollSetTest::record, this); }

    uv_loop_t loop_;
    int pairs_[3][2];  // [i][0] watched, [i][1] the peer
    std::unique_ptr<EpollSet> set_;
    std::vector<uint64_t> reported_;
    std::function<void(uint64_t)> on_report_;
};

TEST_F(EpollSetTest, ReportsTheCookieOfADescriptorWithInputUntilRemoved) {
    makeSet();
    ASSERT_TRUE(set_->ok());
    ASSERT_TRUE(set_->add(pairs_[0][0], 7));
    ASSERT_TRUE(set_->add(pairs_[1][0], (uint64_t{9} << 32) | 1));
    EXPECT_EQ(set_->size(), 2u);
    uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_TRUE(reported_.empty());  // quiet sockets: nothing

    ASSERT_EQ(::write(pairs_[1][1], "x", 1), 1);
    on_report_ = [&](uint64_t) { set_->remove(pairs_[1][0]); };  // the owner takes it
    uv_run(&loop_, UV_RUN_ONCE);
    EXPECT_EQ(reported_, (std::vector<uint64_t>{(uint64_t{9} << 32) | 1}));
    EXPECT_EQ(set_->size(), 1u);
    // Removed: the unread byte is not reported again; the set never read it.
    uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(reported_.size(), 1u);
    char c = 0;
    EXPECT_EQ(::read(pairs_[1][0], &c, 1), 1);
    EXPECT_EQ(c, 'x');
    set_->remove(pairs_[0][0]);
    EXPECT_EQ(set_->size(), 0u);
}

TEST_F(EpollSetTest, ReportsAPeerHangUpAndIsLevelTriggered) {
    makeSet();
    ASSERT_TRUE(set_->add(pairs_[2][0], 42));
    ::close(pairs_[2][1]);
    pairs_[2][1] = -1;
    uv_run(&loop_, UV_RUN_ONCE);
    ASSERT_EQ(reported_, (std::vector<uint64_t>{42}));
    uv_run(&loop_, UV_RUN_ONCE);  // still ready, still watched: reported again
    EXPECT_EQ(reported_, (std::vector<uint64_t>{42, 42}));
    set_->remove(pairs_[2][0]);
}

TEST_F(EpollSetTest, AnEmptySetDoesNotKeepTheLoopAlive) {
    makeSet();
    ASSERT_TRUE(set_->add(pairs_[0][0], 1));
    set_->remove(pairs_[0][0]);
    set_->remove(pairs_[0][0]);  // not in the set: no change
    EXPECT_EQ(set_->size(), 0u);
    EXPECT_EQ(uv_run(&loop_, UV_RUN_DEFAULT), 0);  // returns at once: nothing active
}

TEST_F(EpollSetTest, RefusesADescriptorTheKernelRefuses) {
    makeSet();
    EXPECT_FALSE(set_->add(-1, 1));
    ASSERT_TRUE(set_->add(pairs_[0][0], 1));
    EXPECT_FALSE(set_->add(pairs_[0][0], 2));  // already in it
    EXPECT_EQ(set_->size(), 1u);
    set_->remove(pairs_[0][0]);
}

TEST_F(EpollSetTest, ManyReadyDescriptorsAreAllReportedInOneLoopIteration) {
    makeSet();
    // More than one epoll_wait batch (64).
    std::vector<int> peers;
    std::vector<int> watched;
    for (int i = 0; i < 100; ++i) {
        int pair[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
        watched.push_back(pair[0]);
        peers.push_back(pair[1]);
        ASSERT_TRUE(set_->add(pair[0], static_cast<uint64_t>(i)));
        ASSERT_EQ(::write(pair[1], "y", 1), 1);
    }
    on_report_ = [&](uint64_t cookie) { set_->remove(watched[cookie]); };
    uv_run(&loop_, UV_RUN_ONCE);
    EXPECT_EQ(reported_.size(), 100u);
    EXPECT_EQ(set_->size(), 0u);
    for (int fd : watched) ::close(fd);
    for (int fd : peers) ::close(fd);
}

}  // namespace
}  // namespace sluice::loop
