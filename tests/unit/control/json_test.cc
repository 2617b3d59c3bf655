#include "control/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace sluice::control {
namespace {

JsonValue parseOk(std::string_view text) {
    JsonError error;
    std::optional<JsonValue> value = parseJson(text, &error);
    EXPECT_TRUE(value.has_value()) << text << " -> " << error.format();
    return value.value_or(JsonValue());
}

JsonError parseFails(std::string_view text) {
    JsonError error;
    EXPECT_FALSE(parseJson(text, &error).has_value()) << text;
    return error;
}

TEST(JsonParser, ReadsEveryType) {
    const JsonValue v =
        parseOk(R"( {"n": null, "t": true, "f": false, "i": -12, "d": 2.5e1, "s": "x",
                     "a": [1, [], {}], "o": {"k": "v"}} )");
    ASSERT_TRUE(v.isObject());
    EXPECT_TRUE(v.find("n")->isNull());
    EXPECT_TRUE(v.find("t")->asBool());
    EXPECT_FALSE(v.find("f")->asBool());
    EXPECT_TRUE(v.find("i")->isInteger());
    EXPECT_EQ(v.find("i")->asInteger(), -12);
    EXPECT_DOUBLE_EQ(v.find("d")->asNumber(), 25.0);
    EXPECT_EQ(v.find("s")->asString(), "x");
    ASSERT_EQ(v.find("a")->asArray().size(), 3u);
    EXPECT_TRUE(v.find("a")->asArray()[1].isArray());
    EXPECT_TRUE(v.find("a")->asArray()[2].isObject());
    EXPECT_EQ(v.find("o")->find("k")->asString(), "v");
    EXPECT_EQ(v.find("missing"), nullptr);
    // Members keep document order.
    EXPECT_EQ(v.asObject().front().first, "n");
    EXPECT_EQ(v.asObject().back().first, "o");
}

TEST(JsonParser, DecodesEscapesAndSurrogatePairs) {
    EXPECT_EQ(parseOk(R"("a\"b\\c\/d\b\f\n\r\t")").asString(), "a\"b\\c/d\b\f\n\r\t");
    EXPECT_EQ(parseOk(R"("\u00e9\u20AC")").asString(), "\xC3\xA9\xE2\x82\xAC");
    EXPECT_EQ(parseOk(R"("\ud83d\ude00")").asString(), "\xF0\x9F\x98\x80");
    EXPECT_EQ(parseOk("\"caf\xC3\xA9\"").asString(), "caf\xC3\xA9");
}

TEST(JsonParser, IntegersVersusFractions) {
    EXPECT_TRUE(parseOk("5").isInteger());
    EXPECT_TRUE(parseOk("5.0").isInteger());
    EXPECT_FALSE(parseOk("5.5").isInteger());
    EXPECT_FALSE(parseOk("1e300").isInteger());
    EXPECT_FALSE(parseOk("\"5\"").isInteger());
}

TEST(JsonParser, ReportsLineAndColumnOfErrors) {
    JsonError e = parseFails("{\n  \"a\": tru\n}");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 8);
    EXPECT_EQ(e.offset, 9u);
    EXPECT_EQ(e.format(), "2:8: invalid literal, expected 'true'");

    e = parseFails("[1,2,]");
    EXPECT_EQ(e.column, 6);
    EXPECT_EQ(e.message, "unexpected ']', expected a value");

    e = parseFails("{\"a\":1,\"a\":2}");
    EXPECT_EQ(e.column, 8);
    EXPECT_EQ(e.message, "duplicate key \"a\"");

    e = parseFails("{} x");
    EXPECT_EQ(e.column, 4);
    EXPECT_EQ(e.message, "unexpected 'x' after the JSON value");

    e = parseFails("{\"a\" 1}");
    EXPECT_EQ(e.message, "expected ':' after object key");

    e = parseFails("\n\n  \"abc");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 3);
    EXPECT_EQ(e.message, "unterminated string");
}

TEST(JsonParser, RejectsWhatRfc8259Rejects) {
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
                            "{"}) {
        JsonError error;
        EXPECT_FALSE(parseJson(bad, &error).has_value()) << "accepted: " << bad;
        EXPECT_FALSE(error.message.empty()) << bad;
    }
    EXPECT_EQ(parseFails("01").message, "leading zeros are not allowed");
    EXPECT_EQ(parseFails("\"a\x01\"").message, "control character in string (must be escaped)");
    EXPECT_EQ(parseFails("1e400").message, "number out of range");
}

TEST(JsonParser, LimitsNestingDepth) {
    const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
    EXPECT_TRUE(parseJson(ok, nullptr).has_value());
    const std::string deep =
        std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
    JsonError error;
    EXPECT_FALSE(parseJson(deep, &error).has_value());
    EXPECT_EQ(error.column, kMaxJsonDepth + 1);
    EXPECT_EQ(error.message, "nesting deeper than 64 levels");
}

TEST(JsonWriter, BuildsCompactDocuments) {
    JsonWriter w;
    w.beginObject()
        .key("name")
        .value("app")
        .key("servers")
        .beginArray()
        .value(1)
        .value(2u)
        .value(-3L)
        .endArray()
        .field("ok", true)
        .field("ratio", 0.25)
        .key("none")
        .null()
        .key("empty")
        .beginObject()
        .endObject()
        .endObject();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(w.str(),
              R"({"name":"app","servers":[1,2,-3],"ok":true,"ratio":0.25,"none":null,"empty":{}})");
}

TEST(JsonWriter, WritesExtremeNumbers) {
    JsonWriter w;
    w.beginArray()
        .value(std::numeric_limits<uint64_t>::max())
        .value(std::numeric_limits<int64_t>::min())
        .value(1e21)
        .value(std::numeric_limits<double>::quiet_NaN())
        .value(std::numeric_limits<double>::infinity())
        .endArray();
    EXPECT_EQ(w.str(), "[18446744073709551615,-9223372036854775808,1e+21,null,null]");
}

TEST(JsonWriter, EscapesStrings) {
    std::string out;
    appendJsonString("q\" b\\ n\n t\t r\r \x01 \x1f \x7f / caf\xC3\xA9", &out);
    EXPECT_EQ(out, R"("q\" b\\ n\n t\t r\r \u0001 \u001f \u007f / caf)"
                   "\xC3\xA9\"");
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
    std::string out;
    appendJsonString(
        "a\xFF"
        "b\xC3",
        &out);
    EXPECT_EQ(out,
              "\"a\xEF\xBF\xBD"
              "b\xEF\xBF\xBD\"");
    // And the result parses.
    EXPECT_TRUE(parseJson(out, nullptr).has_value());
}

TEST(JsonWriter, NotCompleteUntilContainersClose) {
    JsonWriter w;
    EXPECT_FALSE(w.complete());
    w.beginArray();
    EXPECT_FALSE(w.complete());
    w.endArray();
    EXPECT_TRUE(w.complete());
}

TEST(Json, RoundTripsThroughText) {
    const std::string text =
        R"({"version":1,"s":"a\"\\\n\u0001\u00e9","list":[true,false,null,-1.5,0,1e-07],)"
        R"("nested":{"deep":[[{}]]}})";
    const JsonValue v = parseOk(text);
    const std::string written = toJson(v);
    EXPECT_EQ(parseOk(written), v);
    // Writing is canonical: a second round gives the same text.
    EXPECT_EQ(toJson(parseOk(written)), written);
}

TEST(Json, BuiltValuesCompareAndSerialize) {
    JsonValue::Object o;
    o.emplace_back("k", JsonValue(JsonValue::Array{JsonValue(1), JsonValue("x"), JsonValue()}));
    const JsonValue v(std::move(o));
    EXPECT_EQ(toJson(v), R"({"k":[1,"x",null]})");
    EXPECT_EQ(parseOk(toJson(v)), v);
}

}  // namespace
}  // namespace sluice::control
