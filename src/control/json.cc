#include "control/json.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <unordered_set>

namespace sluice::control {

namespace {

// Two-character escapes: a backslash and kEscapeLetters[k] stand for kEscapedChars[k]. The writer
// uses them for every character listed except '/'.
constexpr std::string_view kEscapeLetters = "\"\\/bfnrt";
constexpr std::string_view kEscapedChars = "\"\\/\b\f\n\r\t";

// Length of the well-formed UTF-8 sequence starting at s[i] (1..4), or 0 if it is malformed
// (stray continuation byte, overlong form, surrogate, beyond U+10FFFF, truncated).
size_t utf8SequenceLength(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // beyond U+10FFFF
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (size_t k = 2; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    }
    return len;
}

void appendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
        out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string describeChar(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7F) return std::string("'") + c + "'";
    static const char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
}

class Parser {
  public:
    Parser(std::string_view text, JsonError* error) : text_(text), error_(error) {}

    std::optional<JsonValue> parseDocument() {
        JsonValue value;
        if (!parseValue(0, &value)) return std::nullopt;
        skipWhitespace();
        if (pos_ != text_.size()) {
            fail(pos_, "unexpected " + describeChar(text_[pos_]) + " after the JSON value");
            return std::nullopt;
        }
        return value;
    }

  private:
    bool fail(size_t at, std::string message) {
        if (error_ != nullptr) {
            error_->offset = at;
            error_->line = 1;
            error_->column = 1;
            for (size_t i = 0; i < at && i < text_.size(); ++i) {
                if (text_[i] == '\n') {
                    ++error_->line;
                    error_->column = 1;
                } else {
                    ++error_->column;
                }
            }
            error_->message = std::move(message);
        }
        return false;
    }

    bool atEnd() const { return pos_ >= text_.size(); }

    void skipWhitespace() {
        while (!atEnd()) {
            const char c = text_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            ++pos_;
        }
    }

    bool parseValue(int depth, JsonValue* out) {
        skipWhitespace();
        if (atEnd()) return fail(pos_, "unexpected end of input, expected a value");
        const char c = text_[pos_];
        switch (c) {
            case '{':
            case '[':
                if (depth >= kMaxJsonDepth) {
                    return fail(pos_,
                                "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
                }
                return c == '{' ? parseObject(depth, out) : parseArray(depth, out);
            case '"': {
                std::string s;
                if (!parseString(&s)) return false;
                *out = JsonValue(std::move(s));
                return true;
            }
            case 't':
                return parseLiteral("true", JsonValue(true), out);
            case 'f':
                return parseLiteral("false", JsonValue(false), out);
            case 'n':
                return parseLiteral("null", JsonValue(), out);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return parseNumber(out);
                return fail(pos_, "unexpected " + describeChar(c) + ", expected a value");
        }
    }

    bool parseLiteral(std::string_view word, JsonValue value, JsonValue* out) {
        if (text_.substr(pos_, word.size()) != word) {
            return fail(pos_, "invalid literal, expected '" + std::string(word) + "'");
        }
        pos_ += word.size();
        *out = std::move(value);
        return true;
    }

    bool parseObject(int depth, JsonValue* out) {
        ++pos_;  // '{'
        JsonValue::Object members;
        std::unordered_set<std::string> keys;
        skipWhitespace();
        if (!atEnd() && text_[pos_] == '}') {
            ++pos_;
            *out = JsonValue(std::move(members));
            return true;
        }
        while (true) {
            skipWhitespace();
            if (atEnd()) return fail(pos_, "unexpected end of input, expected a string key");
            if (text_[pos_] != '"') {
                return fail(pos_,
                            "unexpected " + describeChar(text_[pos_]) + ", expected a string key");
            }
            const size_t key_at = pos_;
            std::string key;
            if (!parseString(&key)) return false;
            if (!keys.insert(key).second) return fail(key_at, "duplicate key \"" + key + "\"");
            skipWhitespace();
            if (atEnd() || text_[pos_] != ':') return fail(pos_, "expected ':' after object key");
            ++pos_;
            JsonValue value;
            if (!parseValue(depth + 1, &value)) return false;
            members.emplace_back(std::move(key), std::move(value));
            skipWhitespace();
            if (atEnd()) return fail(pos_, "unexpected end of input, expected ',' or '}'");
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (text_[pos_] == '}') {
                ++pos_;
                *out = JsonValue(std::move(members));
                return true;
            }
            return fail(pos_, "unexpected " + describeChar(text_[pos_]) + ", expected ',' or '}'");
        }
    }

    bool parseArray(int depth, JsonValue* out) {
        ++pos_;  // '['
        JsonValue::Array items;
        skipWhitespace();
        if (!atEnd() && text_[pos_] == ']') {
            ++pos_;
            *out = JsonValue(std::move(items));
            return true;
        }
        while (true) {
            JsonValue value;
            if (!parseValue(depth + 1, &value)) return false;
            items.push_back(std::move(value));
            skipWhitespace();
            if (atEnd()) return fail(pos_, "unexpected end of input, expected ',' or ']'");
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (text_[pos_] == ']') {
                ++pos_;
                *out = JsonValue(std::move(items));
                return true;
            }
            return fail(pos_, "unexpected " + describeChar(text_[pos_]) + ", expected ',' or ']'");
        }
    }

    bool parseHex4(size_t at, uint32_t* out) {
        if (at + 4 > text_.size()) return fail(at, "truncated \\u escape");
        uint32_t v = 0;
        for (size_t i = at; i < at + 4; ++i) {
            const char c = text_[i];
            v <<= 4;
            if (c >= '0' && c <= '9') {
                v |= static_cast<uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v |= static_cast<uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                v |= static_cast<uint32_t>(c - 'A' + 10);
            } else {
                return fail(i, "invalid hex digit in \\u escape");
            }
        }
        *out = v;
        return true;
    }

    // At the opening quote; leaves pos_ after the closing quote.
    bool parseString(std::string* out) {
        const size_t start = pos_;
        ++pos_;
        while (true) {
            if (atEnd()) return fail(start, "unterminated string");
            const char c = text_[pos_];
            const auto u = static_cast<unsigned char>(c);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (u < 0x20) return fail(pos_, "control character in string (must be escaped)");
            if (c == '\\') {
                if (!parseEscape(out)) return false;
                continue;
            }
            if (u >= 0x80) {
                const size_t len = utf8SequenceLength(text_, pos_);
                if (len == 0) return fail(pos_, "invalid UTF-8 in string");
                out->append(text_.substr(pos_, len));
                pos_ += len;
                continue;
            }
            out->push_back(c);
            ++pos_;
        }
    }

    // At the backslash.
    bool parseEscape(std::string* out) {
        const size_t at = pos_;
        if (pos_ + 1 >= text_.size()) return fail(at, "unterminated string");
        const char e = text_[pos_ + 1];
        pos_ += 2;
        if (e != 'u') {
            const size_t k = kEscapeLetters.find(e);
            if (k == std::string_view::npos) return fail(at, "invalid escape sequence");
            out->push_back(kEscapedChars[k]);
            return true;
        }
        uint32_t cp = 0;
        if (!parseHex4(pos_, &cp)) return false;
        pos_ += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(at, "lone low surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") {
                return fail(at, "high surrogate not followed by a low surrogate");
            }
            uint32_t low = 0;
            if (!parseHex4(pos_ + 2, &low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) {
                return fail(at, "high surrogate not followed by a low surrogate");
            }
            pos_ += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        appendUtf8(cp, out);
        return true;
    }

    bool parseNumber(JsonValue* out) {
        const size_t start = pos_;
        const auto digit = [&](size_t i) {
            return i < text_.size() && text_[i] >= '0' && text_[i] <= '9';
        };
        size_t i = pos_;
        if (text_[i] == '-') ++i;
        if (!digit(i)) return fail(i, "expected a digit");
        if (text_[i] == '0') {
            ++i;
            if (digit(i)) return fail(start, "leading zeros are not allowed");
        } else {
            while (digit(i)) ++i;
        }
        if (i < text_.size() && text_[i] == '.') {
            ++i;
            if (!digit(i)) return fail(i, "expected a digit after the decimal point");
            while (digit(i)) ++i;
        }
        if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
            ++i;
            if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
            if (!digit(i)) return fail(i, "expected a digit in the exponent");
            while (digit(i)) ++i;
        }
        double value = 0;
        const char* first = text_.data() + start;
        const char* last = text_.data() + i;
        const auto [ptr, ec] = std::from_chars(first, last, value);
        if (ec != std::errc() || ptr != last || !std::isfinite(value)) {
            return fail(start, "number out of range");
        }
        pos_ = i;
        *out = JsonValue(value);
        return true;
    }

    std::string_view text_;
    JsonError* error_;
    size_t pos_ = 0;
};

}  // namespace

bool JsonValue::isInteger() const {
    if (!isNumber()) return false;
    const double n = std::get<double>(v_);
    // 2^63 is exactly representable; anything >= it does not fit.
    return std::trunc(n) == n && n >= -9223372036854775808.0 && n < 9223372036854775808.0;
}

bool JsonValue::asBool() const {
    assert(isBool());
    return std::get<bool>(v_);
}

double JsonValue::asNumber() const {
    assert(isNumber());
    return std::get<double>(v_);
}

int64_t JsonValue::asInteger() const {
    assert(isInteger());
    return static_cast<int64_t>(std::get<double>(v_));
}

const std::string& JsonValue::asString() const {
    assert(isString());
    return std::get<std::string>(v_);
}

const JsonValue::Array& JsonValue::asArray() const {
    assert(isArray());
    return std::get<Array>(v_);
}

const JsonValue::Object& JsonValue::asObject() const {
    assert(isObject());
    return std::get<Object>(v_);
}

JsonValue::Array& JsonValue::asArray() {
    assert(isArray());
    return std::get<Array>(v_);
}

JsonValue::Object& JsonValue::asObject() {
    assert(isObject());
    return std::get<Object>(v_);
}

const JsonValue* JsonValue::find(std::string_view key) const {
    if (!isObject()) return nullptr;
    for (const auto& [name, value] : std::get<Object>(v_)) {
        if (name == key) return &value;
    }
    return nullptr;
}

const char* JsonValue::typeName(Type type) {
    static const char* const kNames[] = {"null", "boolean", "number", "string", "array", "object"};
    return kNames[static_cast<size_t>(type)];
}

std::string JsonError::format() const {
    return std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::optional<JsonValue> parseJson(std::string_view text, JsonError* error) {
    return Parser(text, error).parseDocument();
}

void appendJsonString(std::string_view s, std::string* out) {
    static const char kHex[] = "0123456789abcdef";
    out->push_back('"');
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
            const size_t len = utf8SequenceLength(s, i);
            if (len == 0) {
                out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
                ++i;
            } else {
                out->append(s.substr(i, len));
                i += len;
            }
            continue;
        }
        ++i;
        if (const size_t k = kEscapedChars.find(c); k != std::string_view::npos && c != '/') {
            out->push_back('\\');
            out->push_back(kEscapeLetters[k]);
        } else if (u < 0x20 || u == 0x7F) {
            out->append("\\u00");
            out->push_back(kHex[u >> 4]);
            out->push_back(kHex[u & 0xF]);
        } else {
            out->push_back(c);
        }
    }
    out->push_back('"');
}

void JsonWriter::beforeValue() {
    if (stack_.empty()) {
        assert(!wrote_root_ && "JsonWriter: more than one root value");
        wrote_root_ = true;
        return;
    }
    Frame& top = stack_.back();
    if (top.object) {
        assert(after_key_ && "JsonWriter: value in an object without key()");
        after_key_ = false;
        return;
    }
    if (top.has_items) out_.push_back(',');
    top.has_items = true;
}

JsonWriter& JsonWriter::beginObject() {
    beforeValue();
    out_.push_back('{');
    stack_.push_back({true, false});
    return *this;
}

JsonWriter& JsonWriter::endObject() {
    assert(!stack_.empty() && stack_.back().object && !after_key_);
    out_.push_back('}');
    stack_.pop_back();
    return *this;
}

JsonWriter& JsonWriter::beginArray() {
    beforeValue();
    out_.push_back('[');
    stack_.push_back({false, false});
    return *this;
}

JsonWriter& JsonWriter::endArray() {
    assert(!stack_.empty() && !stack_.back().object);
    out_.push_back(']');
    stack_.pop_back();
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    assert(!stack_.empty() && stack_.back().object && !after_key_);
    Frame& top = stack_.back();
    if (top.has_items) out_.push_back(',');
    top.has_items = true;
    appendJsonString(name, &out_);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
    beforeValue();
    appendJsonString(s, &out_);
    return *this;
}

JsonWriter& JsonWriter::value(bool b) {
    beforeValue();
    out_.append(b ? "true" : "false");
    return *this;
}

JsonWriter& JsonWriter::value(double n) {
    beforeValue();
    if (!std::isfinite(n)) {
        out_.append("null");
        return *this;
    }
    char buf[32];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), n);
    out_.append(buf, ec == std::errc() ? ptr : buf);
    return *this;
}

JsonWriter& JsonWriter::signedValue(int64_t n) {
    beforeValue();
    out_.append(std::to_string(n));
    return *this;
}

JsonWriter& JsonWriter::unsignedValue(uint64_t n) {
    beforeValue();
    out_.append(std::to_string(n));
    return *this;
}

JsonWriter& JsonWriter::null() {
    beforeValue();
    out_.append("null");
    return *this;
}

JsonWriter& JsonWriter::value(const JsonValue& v) {
    switch (v.type()) {
        case JsonValue::Type::kNull:
            return null();
        case JsonValue::Type::kBool:
            return value(v.asBool());
        case JsonValue::Type::kNumber:
            return value(v.asNumber());
        case JsonValue::Type::kString:
            return value(std::string_view(v.asString()));
        case JsonValue::Type::kArray:
            beginArray();
            for (const JsonValue& item : v.asArray()) value(item);
            return endArray();
        case JsonValue::Type::kObject:
            beginObject();
            for (const auto& [name, item] : v.asObject()) {
                key(name);
                value(item);
            }
            return endObject();
    }
    return *this;
}

std::string toJson(const JsonValue& value) {
    JsonWriter w;
    w.value(value);
    return w.take();
}

}  // namespace sluice::control
