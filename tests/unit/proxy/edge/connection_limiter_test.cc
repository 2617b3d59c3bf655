#include "proxy/edge/connection_limiter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace sluice::proxy::edge {
namespace {

ClientAddress ip(const char* text) {
    sockaddr_storage ss{};
    if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in&>(ss).sin_addr) == 1) {
        ss.ss_family = AF_INET;
    } else {
        EXPECT_EQ(inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6&>(ss).sin6_addr), 1);
        ss.ss_family = AF_INET6;
    }
    return *ClientAddress::of(reinterpret_cast<const sockaddr&>(ss));
}

ClientAddress numbered(uint32_t n) {
    ClientAddress a;
    a.bytes[0] = 0x20;
    a.bytes[1] = 0x01;
    std::memcpy(a.bytes.data() + 12, &n, 4);
    return a;
}

TEST(ClientAddress, Ipv4AndItsV4MappedFormAreOneClient) {
    EXPECT_EQ(ip("192.0.2.1"), ip("::ffff:192.0.2.1"));
    EXPECT_NE(ip("192.0.2.1"), ip("192.0.2.2"));
    EXPECT_NE(ip("::1"), ip("127.0.0.1"));
    sockaddr_storage unix_addr{};
    unix_addr.ss_family = AF_UNIX;
    EXPECT_FALSE(ClientAddress::of(reinterpret_cast<const sockaddr&>(unix_addr)).has_value());
}

TEST(ConnectionLimiter, AdmitsUpToTheLimitAndFreesASlotWhenAConnectionEnds) {
    ConnectionLimiter limiter(1024);
    const ClientAddress a = ip("192.0.2.1");
    std::vector<ConnectionLimiter::Lease> open;
    for (int i = 0; i < 3; ++i) {
        auto admission = limiter.tryAcquire(a, 3, 1000);
        ASSERT_TRUE(admission.admitted);
        EXPECT_TRUE(admission.lease.tracked());
        open.push_back(std::move(admission.lease));
    }
    EXPECT_EQ(limiter.count(a), 3u);
    EXPECT_FALSE(limiter.tryAcquire(a, 3, 1000).admitted);
    open.pop_back();  // the lease's destructor ends one connection
    EXPECT_EQ(limiter.count(a), 2u);
    auto again = limiter.tryAcquire(a, 3, 1000);
    EXPECT_TRUE(again.admitted);
    // A lower limit after a reload applies at once to new connections, not to open ones.
    EXPECT_FALSE(limiter.tryAcquire(a, 1, 1000).admitted);
    EXPECT_EQ(limiter.count(a), 3u);
    open.clear();
    again.lease.release();
    EXPECT_EQ(limiter.count(a), 0u);
}

TEST(ConnectionLimiter, AddressesAreCountedApart) {
    ConnectionLimiter limiter(1024);
    auto a = limiter.tryAcquire(ip("192.0.2.1"), 1, 0);
    auto b = limiter.tryAcquire(ip("192.0.2.2"), 1, 0);
    auto c = limiter.tryAcquire(ip("2001:db8::1"), 1, 0);
    EXPECT_TRUE(a.admitted && b.admitted && c.admitted);
    EXPECT_FALSE(limiter.tryAcquire(ip("::ffff:192.0.2.1"), 1, 0).admitted);  // same as a
}

TEST(ConnectionLimiter, LogsARefusedAddressAtMostOnceASecond) {
    ConnectionLimiter limiter(1024);
    const ClientAddress a = ip("192.0.2.1"), b = ip("192.0.2.2");
    auto held_a = limiter.tryAcquire(a, 1, 0);
    auto held_b = limiter.tryAcquire(b, 1, 0);
    auto refuse = [&](const ClientAddress& who, uint64_t now) {
        const auto r = limiter.tryAcquire(who, 1, now);
        EXPECT_FALSE(r.admitted);
        return r.log_refusal;
    };
    EXPECT_TRUE(refuse(a, 5000));
    EXPECT_FALSE(refuse(a, 5000));
    EXPECT_FALSE(refuse(a, 5999));
    EXPECT_TRUE(refuse(b, 5500));  // another address has its own second
    EXPECT_TRUE(refuse(a, 6000));
    EXPECT_FALSE(refuse(a, 6500));
    EXPECT_TRUE(refuse(a, 60000));
    // The clock's low 32 bits wrap after 49 days; still one line a second.
    EXPECT_TRUE(refuse(a, (uint64_t{1} << 32) + 10));
    EXPECT_FALSE(refuse(a, (uint64_t{1} << 32) + 900));
}

TEST(ConnectionLimiter, SlotsOfAddressesThatLeftAreReused) {
    ConnectionLimiter limiter(16);  // the smallest: both windows are the whole table
    for (uint32_t n = 0; n < 1000; ++n) {
        auto admission = limiter.tryAcquire(numbered(n), 2, 0);
        ASSERT_TRUE(admission.admitted);
        ASSERT_TRUE(admission.lease.tracked()) << n;
    }
    EXPECT_EQ(limiter.untrackedAdmissions(), 0u);
}

TEST(ConnectionLimiter, FullWindowsAdmitUntrackedRatherThanRefusing) {
    ConnectionLimiter limiter(16);
    std::vector<ConnectionLimiter::Lease> held;
    for (uint32_t n = 0; n < 16; ++n) held.push_back(limiter.tryAcquire(numbered(n), 1, 0).lease);
    auto extra = limiter.tryAcquire(numbered(16), 1, 0);
    EXPECT_TRUE(extra.admitted);
    EXPECT_FALSE(extra.lease.tracked());
    EXPECT_EQ(limiter.untrackedAdmissions(), 1u);
    // Addresses that have a slot are still limited exactly.
    EXPECT_FALSE(limiter.tryAcquire(numbered(3), 1, 0).admitted);
    held[5].release();
    auto next = limiter.tryAcquire(numbered(17), 1, 0);
    EXPECT_TRUE(next.lease.tracked());
    EXPECT_EQ(limiter.count(numbered(17)), 1u);
}

// The sizing advice of the header: a table twice the size of the open connections.
TEST(ConnectionLimiter, HalfFullTableNeverOverflows) {
    ConnectionLimiter limiter(131072, KeyedHash(1, 2));
    std::vector<ConnectionLimiter::Lease> held;
    held.reserve(65536);
    std::mt19937 rng(12345);
    for (uint32_t n = 0; n < 65536; ++n) {
        ClientAddress a;
        for (auto& byte : a.bytes) byte = static_cast<uint8_t>(rng());
        held.push_back(limiter.tryAcquire(a, 10, 0).lease);
    }
    EXPECT_EQ(limiter.untrackedAdmissions(), 0u);
}

// Threads open and close connections of more addresses than the smallest table has slots, so
// they keep leaving and coming back (claims and hand-overs all the time): no address ever has
// more connections admitted at once than its limit, and every count returns to zero.
TEST(ConnectionLimiter, ThreadsNeverExceedTheLimitOfAnAddress) {
    constexpr int kThreads = 4;
    constexpr uint32_t kAddresses = 40;
    constexpr uint32_t kLimit = 1;
    ConnectionLimiter limiter(16);
    std::atomic<int> open[kAddresses] = {};
    std::atomic<int> worst{0};
    std::atomic<uint64_t> admitted{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            for (int i = 0; i < 40000; ++i) {
                const uint32_t n = rng() % kAddresses;
                auto admission = limiter.tryAcquire(numbered(n), kLimit, 0);
                if (!admission.admitted) {
                    refused.fetch_add(1);
                    continue;
                }
                ASSERT_TRUE(admission.lease.tracked());  // at most 4 held at once: a slot is free
                admitted.fetch_add(1);
                const int now_open = open[n].fetch_add(1) + 1;
                int w = worst.load();
                while (now_open > w && !worst.compare_exchange_weak(w, now_open)) {
                }
                open[n].fetch_sub(1);
                admission.lease.release();
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_LE(worst.load(), static_cast<int>(kLimit));
    EXPECT_GT(admitted.load(), 0u);
    for (uint32_t n = 0; n < kAddresses; ++n) EXPECT_EQ(limiter.count(numbered(n)), 0u) << n;
    EXPECT_EQ(limiter.untrackedAdmissions(), 0u);
    std::cout << "admitted " << admitted.load() << ", refused " << refused.load() << "\n";
}

// Many threads race for the first connections of one new address: one slot, exact count.
TEST(ConnectionLimiter, ThreadsRacingForANewAddressShareOneSlot) {
    for (int round = 0; round < 200; ++round) {
        ConnectionLimiter limiter(64);
        const ClientAddress a = numbered(static_cast<uint32_t>(round));
        std::atomic<int> admitted{0}, ready{0};
        std::vector<ConnectionLimiter::Lease> leases(8);
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                ready.fetch_add(1);
                while (ready.load() < 8) std::this_thread::yield();  // line them up to race
                auto admission = limiter.tryAcquire(a, 5, 0);
                if (admission.admitted) admitted.fetch_add(1);
                leases[static_cast<size_t>(t)] = std::move(admission.lease);
            });
        }
        for (auto& th : threads) th.join();
        ASSERT_EQ(admitted.load(), 5);
        ASSERT_EQ(limiter.count(a), 5u);
    }
}

}  // namespace
}  // namespace sluice::proxy::edge
