#include "metrics/worker_counters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace sluice::metrics {
namespace {

template <typename Slot>
void expectWholeCacheLines() {
    EXPECT_EQ(sizeof(Slot) % kCacheLineBytes, 0u) << sizeof(Slot);
    EXPECT_EQ(alignof(Slot) % kCacheLineBytes, 0u) << alignof(Slot);
}

TEST(WorkerCounters, ASlotIsAWholeNumberOfCacheLines) {
    static_assert(sizeof(WriterSlot<uint64_t, 1>) % 64 == 0 &&
                  alignof(WriterSlot<uint64_t, 1>) == 64);
    expectWholeCacheLines<WorkerCounters<1>::Slot>();
    expectWholeCacheLines<WorkerCounters<8>::Slot>();   // exactly one line
    expectWholeCacheLines<WorkerCounters<9>::Slot>();   // spills into a second line
    expectWholeCacheLines<WorkerCounters<13>::Slot>();  // the duration histogram's
    expectWholeCacheLines<WorkerGauges<1>::Slot>();
    EXPECT_EQ(sizeof(WorkerCounters<8>::Slot), 64u);
    EXPECT_EQ(sizeof(WorkerCounters<9>::Slot), 128u);
}

TEST(WorkerCounters, NeighbouringSlotsStartOnTheirOwnCacheLine) {
    WorkerCounters<3> counters(4);
    for (size_t s = 0; s < counters.writers(); ++s) {
        const auto address = reinterpret_cast<uintptr_t>(counters.slotAddress(s));
        EXPECT_EQ(address % kCacheLineBytes, 0u) << "slot " << s;
        if (s > 0) {
            const auto previous = reinterpret_cast<uintptr_t>(counters.slotAddress(s - 1));
            EXPECT_GE(address - previous, kCacheLineBytes);
        }
    }
}

TEST(WorkerCounters, StartAtZeroAndSumEverySlot) {
    WorkerCounters<2> counters(3);
    EXPECT_EQ(counters.sum(0), 0u);
    EXPECT_EQ(counters.sum(1), 0u);
    counters.add(0, 0);
    counters.add(1, 0, 10);
    counters.add(2, 0, 100);
    counters.add(2, 1, 7);
    EXPECT_EQ(counters.sum(0), 111u);
    EXPECT_EQ(counters.sum(1), 7u);
    EXPECT_EQ(counters.value(1, 0), 10u);
    EXPECT_EQ(counters.value(0, 1), 0u);
}

TEST(WorkerGauges, GoUpAndDownPerWriterAndSumSigned) {
    WorkerGauges<1> gauges(2);
    gauges.add(0, 0, 1);
    gauges.add(0, 0, 1);
    gauges.add(1, 0, -1);  // opened on writer 0, closed on writer 1
    EXPECT_EQ(gauges.value(0, 0), 2);
    EXPECT_EQ(gauges.value(1, 0), -1);
    EXPECT_EQ(gauges.sum(0), 1);
    gauges.add(1, 0, -1);
    EXPECT_EQ(gauges.sum(0), 0);
}

// Where threads meet (run under TSan by scripts/test): two writers, each on its own slot, and a
// reader summing while they run. The final sum is exact and the reader never sees it go down.
TEST(WorkerCounters, IncrementsFromTwoThreadsOnTheirOwnSlotsSumExactly) {
    constexpr uint64_t kIncrements = 1'000'000;
    WorkerCounters<2> counters(2);
    std::atomic<bool> start{false};
    std::atomic<int> finished{0};
    auto writer = [&](size_t slot) {
        while (!start.load()) std::this_thread::yield();
        for (uint64_t i = 0; i < kIncrements; ++i) {
            counters.add(slot, 0);
            if (i % 4 == 0) counters.add(slot, 1, 3);
        }
        finished.fetch_add(1);
    };
    std::thread a(writer, 0), b(writer, 1);
    bool monotonic = true;
    uint64_t reads = 0;
    std::thread reader([&] {
        uint64_t last = 0;
        do {  // at least one read even if the writers are done before this thread runs
            const uint64_t now = counters.sum(0);
            if (now < last) monotonic = false;
            last = now;
            ++reads;
        } while (finished.load() < 2);
    });
    start.store(true);
    a.join();
    b.join();
    reader.join();
    EXPECT_EQ(counters.sum(0), 2 * kIncrements);
    EXPECT_EQ(counters.value(0, 0), kIncrements);
    EXPECT_EQ(counters.value(1, 0), kIncrements);
    EXPECT_EQ(counters.sum(1), 2 * (kIncrements / 4) * 3);
    EXPECT_TRUE(monotonic);
    EXPECT_GT(reads, 0u);
}

}  // namespace
}  // namespace sluice::metrics
