// SourceIndex gives the positions toml11's own value.location() gives, without its cost.

#include "config/source_index.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "config/toml_document.h"

namespace sluice::config {
namespace {

// Compares every value under `value` (itself included) with toml11's location(); returns how
// many were compared.
int expectSameAsToml11(SourceIndex& index, const toml::value& value) {
    const toml::source_location expected = value.location();
    const Location got = index.locate(value);
    EXPECT_EQ(got.line, std::max<uint32_t>(expected.line(), 1)) << expected.line_str();
    EXPECT_EQ(got.column, std::max<uint32_t>(expected.column(), 1)) << expected.line_str();
    size_t column = 0;
    std::string line(index.lineOf(value, &column));
    std::string toml_line = expected.line_str();
    if (!toml_line.empty() && toml_line.back() == '\r') toml_line.pop_back();
    // toml11 gives a multi-line value's first line only when the value starts on it.
    if (expected.line() > 0) {
        EXPECT_EQ(line, toml_line);
        EXPECT_EQ(column + 1, expected.column());
    }
    int count = 1;
    if (value.is_table()) {
        for (const auto& [key, child] : value.as_table()) count += expectSameAsToml11(index, child);
    } else if (value.is_array()) {
        for (const auto& child : value.as_array()) count += expectSameAsToml11(index, child);
    }
    return count;
}

toml::value parse(const std::string& text) {
    std::istringstream in(text);
    return parseTomlDocument(in);
}

TEST(SourceIndex, AgreesWithToml11OnEveryValue) {
    const std::string text =
        "\xEF\xBB\xBF# a BOM first\n"
        "top = 1\n"
        "s = \"\"\"multi\nline\"\"\"\n"
        "[global]\r\n"
        "workers = 4\r\n"
        "arr = [ 1, [2, 3],\n  { a = 'x', b.c = true } ]\n"
        "[[pool]]\n"
        "name = \"app\"\n"
        "  [[pool.server]]\n"
        "  address = \"127.0.0.1:1\"   # comment\n"
        "  [[pool.server]]\n"
        "  address = \"127.0.0.1:2\"\n"
        "[a.b.c]\n"
        "d = 1979-05-27T07:32:00Z\n"
        "last = 'no newline at the end'";
    SourceIndex index;
    const toml::value root = parse(text);
    EXPECT_GT(expectSameAsToml11(index, root), 20);
}

TEST(SourceIndex, ValuesWithoutAPositionAreAtOneOne) {
    SourceIndex index;
    const toml::value made(42);
    const Location at = index.locate(made);
    EXPECT_EQ(at.line, 1u);
    EXPECT_EQ(at.column, 1u);
    size_t column = 7;
    EXPECT_TRUE(index.lineOf(made, &column).empty());
    EXPECT_EQ(column, 0u);
}

TEST(SourceIndex, IndexesEachDocumentItsValuesComeFrom) {
    SourceIndex index;
    const toml::value first = parse("a = 1\n\nb = 2\n");
    const toml::value second = parse("\n\n\n\nc = 3\n");
    EXPECT_EQ(index.locate(first.as_table().at("b")).line, 3u);
    EXPECT_EQ(index.locate(second.as_table().at("c")).line, 5u);
    EXPECT_EQ(index.locate(first.as_table().at("a")).line, 1u);
}

}  // namespace
}  // namespace sluice::config
