#include "proxy/edge/keyed_hash.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sluice::proxy::edge {
namespace {

// The key 00 01 .. 0f of the SipHash paper (Aumasson and Bernstein, appendix A) and of its
// reference implementation's test vectors, read as two little-endian words.
const KeyedHash kPaperKey(0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull);

std::string bytesUpTo(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i));
    return s;
}

TEST(KeyedHash, MatchesSipHash24TestVectors) {
    EXPECT_EQ(kPaperKey(bytesUpTo(15)), 0xa129ca6149be45e5ull);  // the paper's worked example
    EXPECT_EQ(kPaperKey(""), 0x726fdb47dd0e0e31ull);             // vectors[0]
    EXPECT_EQ(kPaperKey(bytesUpTo(8)), 0x93f5f5799a932462ull);   // vectors[8]: one whole word
}

TEST(KeyedHash, DependsOnTheSecret) {
    const KeyedHash a(1, 2), b(1, 3);
    EXPECT_NE(a("10.0.0.1"), b("10.0.0.1"));
    EXPECT_EQ(a("10.0.0.1"), KeyedHash(1, 2)("10.0.0.1"));
    EXPECT_NE(KeyedHash::random()("x"), KeyedHash::random()("x"));  // 2^-64 to fail
}

TEST(ReduceToRange, SpreadsOverTheWholeRange) {
    const KeyedHash h(7, 11);
    std::set<uint64_t> seen;
    for (int i = 0; i < 10000; ++i) {
        const uint64_t r = reduceToRange(h(std::to_string(i)), 10);
        ASSERT_LT(r, 10u);
        seen.insert(r);
    }
    EXPECT_EQ(seen.size(), 10u);
    EXPECT_EQ(reduceToRange(~uint64_t{0}, 10), 9u);
    EXPECT_EQ(reduceToRange(0, 10), 0u);
}

}  // namespace
}  // namespace sluice::proxy::edge
