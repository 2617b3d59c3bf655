#pragma once
// A minimal, strict JSON (RFC 8259) value, parser and writer for the state file and `--json`
// replies. No third-party code; not used on the data path.
//
// Parser: rejects comments, trailing commas, leading zeros, NaN/Infinity, unescaped control
// characters, invalid UTF-8, lone surrogates, duplicate object keys, trailing garbage and nesting
// deeper than kMaxJsonDepth. Never throws on bad input; errors carry a 1-based line/column.
//
// Writer: compact output (no whitespace); strings are escaped so the output is always valid JSON
// (control characters as \n, \t, ... or \u00XX; invalid UTF-8 replaced by U+FFFD), so it is safe
// to pass it bytes that came from the network.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace sluice::control {

inline constexpr int kMaxJsonDepth = 64;

class JsonValue {
  public:
    enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
    using Array = std::vector<JsonValue>;
    // Members in document order; keys are unique (the parser rejects duplicates).
    using Object = std::vector<std::pair<std::string, JsonValue>>;

    JsonValue() = default;  // null
    JsonValue(std::nullptr_t) {}
    JsonValue(bool b) : v_(b) {}
    JsonValue(double n) : v_(n) {}
    template <std::integral T>
    requires(!std::same_as<T, bool>) JsonValue(T n) : v_(static_cast<double>(n)) {}
    JsonValue(std::string s) : v_(std::move(s)) {}
    JsonValue(const char* s) : v_(std::string(s)) {}
    JsonValue(Array a) : v_(std::move(a)) {}
    JsonValue(Object o) : v_(std::move(o)) {}

    Type type() const { return static_cast<Type>(v_.index()); }
    bool isNull() const { return type() == Type::kNull; }
    bool isBool() const { return type() == Type::kBool; }
    bool isNumber() const { return type() == Type::kNumber; }
    bool isString() const { return type() == Type::kString; }
    bool isArray() const { return type() == Type::kArray; }
    bool isObject() const { return type() == Type::kObject; }
    // True for numbers with no fractional part that fit in int64_t exactly.
    bool isInteger() const;

    // Accessors require the matching type (checked with assert in debug builds).
    bool asBool() const;
    double asNumber() const;
    int64_t asInteger() const;  // requires isInteger()
    const std::string& asString() const;
    const Array& asArray() const;
    const Object& asObject() const;
    Array& asArray();
    Object& asObject();

    // Object member by key, or nullptr (also when this is not an object).
    const JsonValue* find(std::string_view key) const;

    // "null", "boolean", "number", "string", "array", "object": for error messages.
    static const char* typeName(Type type);

    friend bool operator==(const JsonValue&, const JsonValue&) = default;

  private:
    // Index order must match Type.
    std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v_{nullptr};
};

struct JsonError {
    size_t offset = 0;  // byte offset into the input
    int line = 1;       // 1-based
    int column = 1;     // 1-based, in bytes
    std::string message;

    // "LINE:COL: message"
    std::string format() const;
};

// Parses one JSON document (surrounding whitespace allowed). On failure returns nullopt and, if
// `error` is not null, fills it.
std::optional<JsonValue> parseJson(std::string_view text, JsonError* error);

// Builds compact JSON text. Calls must form one well-nested document: inside an object, each
// value is preceded by key(). Misuse is a programming error (assert in debug builds).
//   JsonWriter w;
//   w.beginObject().key("name").value("app").key("servers").beginArray().value(3).endArray();
//   w.endObject();
//   std::string text = w.take();
class JsonWriter {
  public:
    JsonWriter& beginObject();
    JsonWriter& endObject();
    JsonWriter& beginArray();
    JsonWriter& endArray();
    JsonWriter& key(std::string_view name);

    JsonWriter& value(std::string_view s);
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(bool b);
    JsonWriter& value(double n);  // NaN and infinities are written as null
    template <std::integral T>
    requires(!std::same_as<T, bool>) JsonWriter& value(T n) {
        if constexpr (std::is_signed_v<T>) {
            return signedValue(static_cast<int64_t>(n));
        } else {
            return unsignedValue(static_cast<uint64_t>(n));
        }
    }
    JsonWriter& value(const JsonValue& v);
    JsonWriter& null();

    // Shorthand for key(name).value(v).
    template <typename T>
    JsonWriter& field(std::string_view name, const T& v) {
        key(name);
        return value(v);
    }

    // True when a complete document has been written (all containers closed).
    bool complete() const { return stack_.empty() && wrote_root_; }
    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }

  private:
    struct Frame {
        bool object;
        bool has_items;
    };
    void beforeValue();
    JsonWriter& signedValue(int64_t n);
    JsonWriter& unsignedValue(uint64_t n);

    std::string out_;
    std::vector<Frame> stack_;
    bool after_key_ = false;
    bool wrote_root_ = false;
};

// Appends `s` as a quoted, escaped JSON string.
void appendJsonString(std::string_view s, std::string* out);

// Compact JSON text of a value.
std::string toJson(const JsonValue& value);

}  // namespace sluice::control
