#include "loop/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "loop/timer.h"

namespace sluice::loop {
namespace {

// Where threads meet: other threads post() into a running loop; every task runs on the loop
// thread, in order per poster. Run under TSan by scripts/test.
TEST(EventLoop, RunsTasksPostedFromOtherThreadsOnTheLoopThread) {
    EventLoop loop;
    constexpr int kThreads = 4;
    constexpr int kTasksPerThread = 500;
    std::vector<int> last_seen(kThreads, -1);
    std::atomic<int> done{0};
    bool in_order = true;
    std::thread::id loop_thread;
    bool all_on_loop_thread = true;

    // Keeps the loop alive until every task ran, then closes the queue.
    Timer* keepalive_ptr = nullptr;
    Timer keepalive(loop.raw(), [&] {
        if (done.load() != kThreads * kTasksPerThread) return;
        keepalive_ptr->stop();
        loop.closeQueue();  // nothing is left to keep run() going
    });
    keepalive_ptr = &keepalive;
    keepalive.start(1, 1);

    std::thread runner([&] {
        loop_thread = std::this_thread::get_id();
        loop.run();
    });
    std::vector<std::thread> posters;
    for (int t = 0; t < kThreads; ++t) {
        posters.emplace_back([&, t] {
            for (int i = 0; i < kTasksPerThread; ++i) {
                loop.post([&, t, i] {
                    if (std::this_thread::get_id() != loop_thread) all_on_loop_thread = false;
                    if (last_seen[t] != i - 1) in_order = false;
                    last_seen[t] = i;
                    done.fetch_add(1);
                });
            }
        });
    }
    for (auto& p : posters) p.join();
    runner.join();
    EXPECT_EQ(done.load(), kThreads * kTasksPerThread);
    EXPECT_TRUE(in_order);
    EXPECT_TRUE(all_on_loop_thread);
}

}  // namespace
}  // namespace sluice::loop
