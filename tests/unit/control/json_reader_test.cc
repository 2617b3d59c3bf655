#include "control/json_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::control {
namespace {

JsonError parseFails(const std::string& text) {
    JsonError error;
    EXPECT_FALSE(parseJson(text, &error).has_value()) << "accepted: " << text;
    return error;
}

TEST(JsonReader, ReadsEveryTypeKeepingMemberOrder) {
    const auto value =
        parseJson(R"( {"z": null, "b": true, "n": -12, "u": 18446744073709551615, "f": 1.5,
                       "s": "a\u00e9\ud83d\ude00", "a": [1, [], {}]} )",
                  nullptr);
    ASSERT_TRUE(value.has_value());
    std::string keys;
    for (const auto& [key, member] : value->items()) keys += key;
    EXPECT_EQ(keys, "zbnufsa");
    EXPECT_TRUE((*value)["z"].is_null());
    EXPECT_EQ((*value)["n"], -12);
    EXPECT_EQ((*value)["u"], 18446744073709551615ull);
    EXPECT_EQ((*value)["f"], 1.5);
    EXPECT_EQ((*value)["s"], "a\xc3\xa9\xf0\x9f\x98\x80");
    EXPECT_EQ((*value)["a"].size(), 3u);
}

TEST(JsonReader, ReportsLineAndColumn) {
    JsonError e = parseFails("{\"version\":1,\n \"servers\":[,]}");
    EXPECT_EQ(e.format(), "2:13: unexpected ',', expected a value");
    EXPECT_EQ(e.offset, 26u);
    EXPECT_EQ(parseFails("").format(), "1:1: unexpected end of input, expected a value");
    EXPECT_EQ(parseFails("[1,2,]").format(), "1:6: unexpected ']', expected a value");
    EXPECT_EQ(parseFails("[1 2]").message, "unexpected number literal, expected ',' or ']'");
    EXPECT_EQ(parseFails("{\"a\":1 \"b\"}").message,
              "unexpected string literal, expected ',' or '}'");
    EXPECT_EQ(parseFails("{\"a\" 1}").message,
              "unexpected number literal, expected ':' after the object key");
    EXPECT_EQ(parseFails("{1:2}").message, "unexpected number literal, expected a string key");
    EXPECT_EQ(parseFails("{} x").format(), "1:4: invalid literal after the JSON value");
    EXPECT_EQ(parseFails("1e400").message, "number out of range");
}

TEST(JsonReader, RejectsDuplicateKeysWhereTheSecondStarts) {
    JsonError e = parseFails("{\"a\":1,\n  \"a\":2}");
    EXPECT_EQ(e.format(), "2:3: duplicate key \"a\"");
    e = parseFails(R"({"k\"":1, "k\"":2})");
    EXPECT_EQ(e.column, 11);
    EXPECT_EQ(e.message, "duplicate key \"k\"\"");
    // The same key in different objects is fine.
    EXPECT_TRUE(parseJson(R"({"a":{"a":1},"b":{"a":2}})", nullptr).has_value());
}

TEST(JsonReader, RejectsWhatRfc8259Rejects) {
    for (const char* bad : {"",
                            "   ",
                            "01",
                            "-",
                            "1.",
                            ".5",
                            "1e",
                            "+1",
                            "NaN",
                            "Infinity",
                            "[1 2]",
                            "{a:1}",
                            "{'a':1}",
                            "[1,]",
                            "{\"a\":1,}",
                            "// c\n1",
                            "\"tab\there\"",
                            "\"\\x\"",
                            "\"\\u12\"",
                            "\"\\ud800\"",
                            "\"\\udc00\"",
                            "\"\\ud800\\u0041\"",
                            "\"\xFF\"",
                            "\"\xC0\xAF\"",
                            "\"\xED\xA0\x80\"",
                            "1e400",
                            "tRue",
                            "nul",
                            "[",
                            "{",
                            "[1] [2]"}) {
        JsonError error;
        EXPECT_FALSE(parseJson(bad, &error).has_value()) << "accepted: " << bad;
        EXPECT_FALSE(error.message.empty()) << bad;
    }
}

TEST(JsonReader, LimitsNestingDepth) {
    const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
    EXPECT_TRUE(parseJson(ok, nullptr).has_value());
    const std::string deep =
        std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
    const JsonError e = parseFails(deep);
    EXPECT_EQ(e.column, kMaxJsonDepth + 1);
    EXPECT_EQ(e.message, "nesting deeper than 64 levels");
}

}  // namespace
}  // namespace sluice::control
