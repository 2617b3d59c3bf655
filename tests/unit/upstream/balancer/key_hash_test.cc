#include "upstream/balancer/key_hash.h"

#include <gtest/gtest.h>

#include <bit>
#include <set>
#include <string>

namespace sluice::upstream {
namespace {

TEST(KeyHash, IsAFixedFunctionOfBytesAndSeed) {
    // Pinned values: changing the hash remaps every client of every ip_hash/hash pool on
    // upgrade, so it must be a deliberate decision.
    EXPECT_EQ(keyHash(""), keyHash(""));
    EXPECT_EQ(keyHash("10.1.2.3"), keyHash(std::string("10.1.2.3")));
    EXPECT_EQ(keyHash("10.1.2.3"), 7411994940751354857ULL);
    EXPECT_EQ(keyHash("/some/longer/uri?with=query", 7), 1921420978237151026ULL);
}

TEST(KeyHash, SeedsAndLengthsGiveDifferentHashes) {
    std::set<uint64_t> hashes;
    std::string bytes;
    for (int length = 0; length < 40; ++length) {
        for (uint64_t seed = 0; seed < 4; ++seed) hashes.insert(keyHash(bytes, seed));
        bytes.push_back('\0');  // trailing zero bytes must still change the hash
    }
    EXPECT_EQ(hashes.size(), 160u);
}

TEST(KeyHash, OneBitFlipChangesAboutHalfTheBits) {
    std::string key = "203.0.113.77 and some more bytes";
    uint64_t base = keyHash(key);
    int total = 0;
    int flips = 0;
    for (size_t byte = 0; byte < key.size(); ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string changed = key;
            changed[byte] = static_cast<char>(changed[byte] ^ (1 << bit));
            int differing = std::popcount(base ^ keyHash(changed));
            EXPECT_GT(differing, 12);
            total += differing;
            ++flips;
        }
    }
    EXPECT_NEAR(static_cast<double>(total) / flips, 32.0, 1.5);
}

TEST(KeyHash, Mix64IsTheSplitMix64Finalizer) {
    EXPECT_EQ(mix64(0), 0u);
    EXPECT_NE(mix64(1), 1u);
    EXPECT_NE(mix64(1), mix64(2));
}

}  // namespace
}  // namespace sluice::upstream
