#include "http/header_list.h"

#include <gtest/gtest.h>

#include "http/ascii.h"

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

TEST(HeaderList, RecognisesWellKnownNamesInAnyCase) {
    HeaderList h;
    h.add("HOST", "a");
    h.add("content-length", "1");
    h.add("Transfer-Encoding", "chunked");
    h.add("X-Custom", "x");
    h.add("te", "trailers");
    h.add("Content-Lengths", "2");
    EXPECT_EQ(h.id(0), FieldName::kHost);
    EXPECT_EQ(h.id(1), FieldName::kContentLength);
    EXPECT_EQ(h.id(2), FieldName::kTransferEncoding);
    EXPECT_EQ(h.id(3), FieldName::kOther);
    EXPECT_EQ(h.id(4), FieldName::kTe);
    EXPECT_EQ(h.id(5), FieldName::kOther);
    EXPECT_TRUE(h.has(FieldName::kHost));
    EXPECT_FALSE(h.has(FieldName::kConnection));
    EXPECT_EQ(h.find(FieldName::kContentLength), 1u);
    EXPECT_EQ(h.find(FieldName::kContentLength, 2), HeaderList::npos);
    EXPECT_EQ(h.find(FieldName::kUpgrade), HeaderList::npos);
    h.clear();
    EXPECT_FALSE(h.has(FieldName::kHost));
}

TEST(HeaderList, TellsForwardingFieldsFromTheirUnderscoreLookalikes) {
    EXPECT_EQ(classifyFieldName("X-Forwarded-For"), FieldName::kXForwardedFor);
    EXPECT_EQ(classifyFieldName("x-forwarded-PROTO"), FieldName::kXForwardedProto);
    EXPECT_EQ(classifyFieldName("X-Forwarded-Host"), FieldName::kXForwardedHost);
    EXPECT_EQ(classifyFieldName("VIA"), FieldName::kVia);
    EXPECT_EQ(classifyFieldName("X_Forwarded_For"), FieldName::kXForwardedLookalike);
    EXPECT_EQ(classifyFieldName("x-forwarded_host"), FieldName::kXForwardedLookalike);
    EXPECT_EQ(classifyFieldName("X_Forwarded_Fox"), FieldName::kOther);
    EXPECT_EQ(classifyFieldName("Proxy_Connection"), FieldName::kOther);
    EXPECT_EQ(classifyFieldName(""), FieldName::kOther);
}

TEST(HeaderList, FindComparesWholeNamesNotJustTheirEnds) {
    HeaderList h;
    h.add("X-Ab", "1");
    h.add("x-bb", "2");
    h.add("", "empty name");
    EXPECT_EQ(h.find("x-Bb"), 1u);
    EXPECT_EQ(h.find("X-Cb"), HeaderList::npos);  // same length, first and last byte
    EXPECT_EQ(h.find(""), 2u);
    EXPECT_EQ(h.count("X-AB"), 1u);
}

TEST(HeaderList, FieldInSlicesIsTrimmedAndStoredAsALine) {
    HeaderList h;
    h.add("Host", "a");
    h.appendName("Content-");
    h.appendName("LENGTH");
    h.appendValue(" \t 4");
    h.appendValue("2 \t");
    h.endField();
    h.appendName("X-Empty");
    h.appendValue("  ");
    h.endField();
    h.appendName("X-None");
    h.endField();
    ASSERT_EQ(h.size(), 4u);
    EXPECT_EQ(h.name(1), "Content-LENGTH");
    EXPECT_EQ(h.value(1), "42");
    EXPECT_EQ(h.id(1), FieldName::kContentLength);
    EXPECT_EQ(h.line(1), "Content-LENGTH: 42\r\n");
    EXPECT_EQ(h.value(2), "");
    EXPECT_EQ(h.line(3), "X-None: \r\n");
    // Lines of consecutive fields follow each other: the serializer copies runs of them at once.
    EXPECT_EQ(h.line(0).data() + h.line(0).size(), h.line(1).data());
    EXPECT_EQ(h.line(2).data() + h.line(2).size(), h.line(3).data());
}

TEST(HeaderList, ClearDropsAFieldLeftInSlices) {
    HeaderList h;
    h.appendName("X-Half");
    h.appendValue("v");
    h.clear();
    h.appendName("Host");
    h.appendValue("b");
    h.endField();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h.line(0), "Host: b\r\n");
    EXPECT_EQ(h.find(FieldName::kHost), 0u);
}

TEST(HeaderList, CopiesAreIndependent) {
    HeaderList a;
    a.add("Host", "a");
    HeaderList b = a;
    a.clear();
    a.add("Via", "1.1 x");
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b.value(0), "a");
    EXPECT_TRUE(b.has(FieldName::kHost));
    EXPECT_FALSE(b.has(FieldName::kVia));
}

TEST(EqualsIgnoreCase, ComparesAsciiOnly) {
    EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(equalsIgnoreCase("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(equalsIgnoreCase("a", "\xc1"));
}

}  // namespace
}  // namespace sluice::http
