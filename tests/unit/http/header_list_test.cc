#include "http/header_list.h"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

TEST(HeaderList, KeepsOrderAndFindsCaseInsensitively) {
    HeaderList h;
    h.add("Host", "a");
    h.add("X-A", "1");
    h.add("x-a", "2");
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h.name(1), "X-A");
    EXPECT_EQ(h.value(2), "2");
    EXPECT_EQ(h.find("HOST"), 0u);
    EXPECT_EQ(h.find("x-A"), 1u);
    EXPECT_EQ(h.find("x-a", 2), 2u);
    EXPECT_EQ(h.find("missing"), HeaderList::npos);
    EXPECT_EQ(h.count("X-a"), 2u);
}

TEST(HeaderList, ClearKeepsCapacityAndViewsStayValidAfterGrowth) {
    HeaderList h;
    for (int i = 0; i < 100; ++i) h.add("Name", std::string(50, 'v'));
    EXPECT_EQ(h.value(0), std::string(50, 'v'));  // offsets, not pointers: survive reallocation
    h.clear();
    EXPECT_TRUE(h.empty());
    h.add("Host", "b");
    EXPECT_EQ(h.value(0), "b");
}

TEST(EqualsIgnoreCase, ComparesAsciiOnly) {
    EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(equalsIgnoreCase("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(equalsIgnoreCase("a", "\xc1"));
}

}  // namespace
}  // namespace sluice::http
