#include "loop/delete_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace sluice::loop {
namespace {

class DeleteQueueTest : public ::testing::Test {
  protected:
    void SetUp() override { uv_loop_init(&loop_); }
    void TearDown() override {
        uv_run(&loop_, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&loop_), 0);  // every handle closed
    }
    uv_loop_t loop_;
};

// Records its own deletion; a "session" that queues itself from inside its own method.
struct Tracked {
    explicit Tracked(std::vector<int>& events, int n) : log(events), id(n) {}
    ~Tracked() { log.push_back(id); }
    void finish(DeleteQueue& queue) {
        queue.deleteLater(this);
        log.push_back(-id);  // still alive after handing itself over
    }
    std::vector<int>& log;
    int id;
};

TEST_F(DeleteQueueTest, DeletesOnlyOnceTheLoopIsBackInControl) {
    std::vector<int> log;
    DeleteQueue queue(&loop_);
    (new Tracked(log, 1))->finish(queue);
    (new Tracked(log, 2))->finish(queue);
    EXPECT_EQ(log, (std::vector<int>{-1, -2}));
    EXPECT_EQ(queue.pending(), 2u);
    uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(log, (std::vector<int>{-1, -2, 1, 2}));
    EXPECT_EQ(queue.pending(), 0u);
    // Nothing queued: the idle handle is stopped and does not keep the loop running.
    EXPECT_EQ(uv_run(&loop_, UV_RUN_NOWAIT), 0);
}

TEST_F(DeleteQueueTest, ADeletionMayQueueAnotherOne) {
    std::vector<int> log;
    DeleteQueue queue(&loop_);
    struct Chain {
        Chain(DeleteQueue& queue_in, std::vector<int>& events) : q(queue_in), log(events) {}
        ~Chain() {
            log.push_back(7);
            q.deleteLater(new Tracked(log, 8));
        }
        DeleteQueue& q;
        std::vector<int>& log;
    };
    queue.deleteLater(new Chain(queue, log));
    uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(log, (std::vector<int>{7, 8}));
}

TEST_F(DeleteQueueTest, TheDestructorDeletesWhatIsStillQueued) {
    std::vector<int> log;
    {
        DeleteQueue queue(&loop_);
        queue.deleteLater(new Tracked(log, 3));
    }
    EXPECT_EQ(log, (std::vector<int>{3}));
}

}  // namespace
}  // namespace sluice::loop
