#include "tls/ticket_keys.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

namespace sluice::tls {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

struct FakeClock {
    std::chrono::steady_clock::time_point now{hours(1000)};
    TicketKeys::Clock clock() {
        return [this] { return now; };
    }
};

bool sameName(const TicketKeys::Key& a, const TicketKeys::Key& b) {
    return std::memcmp(a.name, b.name, sizeof a.name) == 0;
}

TEST(TicketKeys, StartsWithOneRandomKey) {
    FakeClock fake;
    TicketKeys keys(hours(1), hours(12), fake.clock());
    EXPECT_EQ(keys.size(), 1u);
    const TicketKeys::Key key = keys.current();
    EXPECT_EQ(key.created, fake.now);
    // Name, AES and HMAC keys are random and independent.
    EXPECT_NE(std::memcmp(key.aes_key, key.hmac_key, sizeof key.aes_key), 0);
    TicketKeys other(hours(1), hours(12), fake.clock());
    EXPECT_FALSE(sameName(key, other.current()));
    EXPECT_NE(std::memcmp(key.aes_key, other.current().aes_key, sizeof key.aes_key), 0);
}

TEST(TicketKeys, KeepsTheCurrentKeyUntilRotation) {
    FakeClock fake;
    TicketKeys keys(hours(1), hours(12), fake.clock());
    const TicketKeys::Key first = keys.current();
    fake.now += minutes(59);
    EXPECT_TRUE(sameName(keys.current(), first));
    EXPECT_EQ(keys.size(), 1u);
}

TEST(TicketKeys, RotatesEveryRotationPeriod) {
    FakeClock fake;
    TicketKeys keys(hours(1), hours(12), fake.clock());
    const TicketKeys::Key first = keys.current();
    fake.now += hours(1);
    const TicketKeys::Key second = keys.current();
    EXPECT_FALSE(sameName(first, second));
    EXPECT_EQ(second.created, fake.now);
    EXPECT_EQ(keys.size(), 2u);
    fake.now += minutes(30);
    EXPECT_TRUE(sameName(keys.current(), second));
    fake.now += minutes(30);
    EXPECT_FALSE(sameName(keys.current(), second));
    EXPECT_EQ(keys.size(), 3u);
}

TEST(TicketKeys, LongIdleMakesOneNewKeyNotABacklog) {
    FakeClock fake;
    TicketKeys keys(hours(1), hours(12), fake.clock());
    keys.current();
    fake.now += hours(5);
    keys.current();
    EXPECT_EQ(keys.size(), 2u);
}

TEST(TicketKeys, FindsOlderKeysWithRenewAndDropsThemAfterLifetime) {
    FakeClock fake;
    TicketKeys keys(hours(1), hours(12), fake.clock());
    const TicketKeys::Key first = keys.current();

    TicketKeys::Key found{};
    bool renew = true;
    ASSERT_TRUE(keys.find(first.name, &found, &renew));
    EXPECT_FALSE(renew);  // the current key: no need for a new ticket
    EXPECT_EQ(std::memcmp(found.aes_key, first.aes_key, sizeof found.aes_key), 0);
    EXPECT_EQ(std::memcmp(found.hmac_key, first.hmac_key, sizeof found.hmac_key), 0);

    // find() rotates too: an hour later the first key is no longer current, so renew.
    fake.now += hours(1);
    ASSERT_TRUE(keys.find(first.name, &found, &renew));
    EXPECT_TRUE(renew);
    const TicketKeys::Key second = keys.current();
    ASSERT_TRUE(keys.find(second.name, &found, &renew));
    EXPECT_FALSE(renew);

    // Still there one second before its lifetime, gone at it.
    fake.now += hours(11) - seconds(1);
    EXPECT_TRUE(keys.find(first.name, &found, &renew));
    fake.now += seconds(1);
    EXPECT_FALSE(keys.find(first.name, &found, &renew));
    EXPECT_TRUE(keys.find(second.name, &found, &renew));
    EXPECT_TRUE(renew);
}

TEST(TicketKeys, RingIsBoundedByLifetimeOverRotation) {
    FakeClock fake;
    TicketKeys keys(hours(1), hours(12), fake.clock());
    for (int i = 0; i < 48; ++i) {
        fake.now += hours(1);
        keys.current();
        EXPECT_LE(keys.size(), 12u);
    }
    EXPECT_EQ(keys.size(), 12u);  // current + 11 older ones, each younger than 12 h
}

TEST(TicketKeys, UnknownNameIsNotFound) {
    TicketKeys keys;
    unsigned char name[16] = {};
    TicketKeys::Key key{};
    bool renew = false;
    EXPECT_FALSE(keys.find(name, &key, &renew));
}

TEST(TicketKeys, DefaultClockIsSteadyClock) {
    const auto before = std::chrono::steady_clock::now();
    TicketKeys keys;
    const auto created = keys.current().created;
    EXPECT_GE(created, before);
    EXPECT_LE(created, std::chrono::steady_clock::now());
}

}  // namespace
}  // namespace sluice::tls
