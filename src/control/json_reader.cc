#include "control/json_reader.h"

#include <iterator>
#include <utility>
#include <vector>

namespace sluice::control {
namespace {

// Reads the text for nlohmann's lexer and remembers how far it got: SAX events carry no
// position, and a duplicate key or a too-deep document is found in one.
class CountingReader {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    CountingReader() = default;
    CountingReader(const char* at, const char* begin, size_t* consumed)
        : at_(at), begin_(begin), consumed_(consumed) {}
    reference operator*() const { return *at_; }
    CountingReader& operator++() {
        ++at_;
        *consumed_ = static_cast<size_t>(at_ - begin_);
        return *this;
    }
    CountingReader operator++(int) {
        CountingReader before = *this;
        ++*this;
        return before;
    }
    bool operator==(const CountingReader& other) const { return at_ == other.at_; }

  private:
    const char* at_ = nullptr;
    const char* begin_ = nullptr;
    size_t* consumed_ = nullptr;
};

// nlohmann's messages, e.g. "syntax error while parsing value - unexpected ','; expected '[',
// '{', or a literal", in the shorter form our errors use: "unexpected ',', expected a value".
std::string describe(const nlohmann::json::exception& ex) {
    if (ex.id == 406) return "number out of range";
    std::string message = ex.what();
    const size_t column = message.find("column ");
    const size_t colon =
        column == std::string::npos ? message.find("] ") : message.find(": ", column);
    if (colon != std::string::npos) message.erase(0, colon + 2);
    constexpr std::string_view kSyntax = "syntax error ";
    if (!message.starts_with(kSyntax)) return message;
    const size_t dash = message.find("- ");
    if (dash == std::string::npos) return message;
    std::string context;
    if (const size_t at = message.find("while parsing "); at != std::string::npos && at < dash) {
        context = message.substr(at + 14, dash - at - 15);
    }
    std::string detail = message.substr(dash + 2);
    std::string expected;
    if (const size_t at = detail.rfind("; expected "); at != std::string::npos) {
        expected = detail.substr(at + 11);
        detail.resize(at);
    }
    if (const size_t at = detail.find("; last read: "); at != std::string::npos) detail.resize(at);
    if (expected == "end of input") return detail + " after the JSON value";
    if (context == "value") return detail + ", expected a value";
    if (context == "object key") return detail + ", expected a string key";
    if (context == "object separator") return detail + ", expected ':' after the object key";
    if (context == "array") return detail + ", expected ',' or ']'";
    if (context == "object") return detail + ", expected ',' or '}'";
    return detail;
}

// Builds the document from nlohmann's SAX events, adding the checks the library leaves out.
class DocumentBuilder final : public nlohmann::json_sax<Json> {
  public:
    DocumentBuilder(std::string_view text, const size_t& consumed)
        : text_(text), consumed_(consumed) {}

    bool null() override { return put(nullptr); }
    bool boolean(bool value) override { return put(value); }
    bool number_integer(number_integer_t value) override { return put(value); }
    bool number_unsigned(number_unsigned_t value) override { return put(value); }
    bool number_float(number_float_t value, const string_t&) override { return put(value); }
    bool string(string_t& value) override { return put(std::move(value)); }
    bool binary(binary_t&) override { return false; }  // not produced when parsing JSON text
    bool start_object(std::size_t) override { return open(Json::object()); }
    bool start_array(std::size_t) override { return open(Json::array()); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }

    bool key(string_t& name) override {
        if (open_.back()->contains(name)) {
            // The lexer stopped at the key's closing quote; the error points at its opening one.
            size_t at = consumed_ - 1;
            while (at > 0) {
                --at;
                size_t backslashes = 0;
                while (at >= backslashes + 1 && text_[at - backslashes - 1] == '\\') ++backslashes;
                if (text_[at] == '"' && backslashes % 2 == 0) break;
            }
            return fail(at, "duplicate key \"" + name + "\"");
        }
        key_ = std::move(name);
        return true;
    }

    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::json::exception& ex) override {
        // `position` counts the characters read, the offending one included.
        return fail(position > 0 ? position - 1 : 0, describe(ex));
    }

    std::optional<Json> take() { return std::move(root_); }
    const JsonError& error() const { return error_; }

  private:
    // The slot the next value goes to: the root, the next array element or the current key.
    Json* place(Json value) {
        if (open_.empty()) {
            root_ = std::move(value);
            return &*root_;
        }
        Json& parent = *open_.back();
        if (parent.is_array()) {
            parent.push_back(std::move(value));
            return &parent.back();
        }
        return &(parent[key_] = std::move(value));
    }
    bool put(Json value) {
        place(std::move(value));
        return true;
    }
    bool open(Json container) {
        if (open_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
            return fail(consumed_ - 1,
                        "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        }
        // A container stays the last member of its parent while it is open, so the pointer holds.
        open_.push_back(place(std::move(container)));
        return true;
    }
    bool close() {
        open_.pop_back();
        return true;
    }
    bool fail(size_t offset, std::string message) {
        offset = std::min(offset, text_.size());
        error_.offset = offset;
        error_.line = 1;
        error_.column = 1;
        for (size_t i = 0; i < offset; ++i) {
            if (text_[i] == '\n') {
                ++error_.line;
                error_.column = 1;
            } else {
                ++error_.column;
            }
        }
        error_.message = std::move(message);
        root_.reset();
        return false;
    }

    std::string_view text_;
    const size_t& consumed_;
    std::optional<Json> root_;
    std::vector<Json*> open_;
    std::string key_;
    JsonError error_;
};

}  // namespace

std::string JsonError::format() const {
    return std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::optional<Json> parseJson(std::string_view text, JsonError* error) {
    size_t consumed = 0;
    DocumentBuilder builder(text, consumed);
    const CountingReader begin(text.data(), text.data(), &consumed);
    const CountingReader end(text.data() + text.size(), text.data(), &consumed);
    if (!Json::sax_parse(begin, end, &builder)) {
        if (error != nullptr) *error = builder.error();
        return std::nullopt;
    }
    return builder.take();
}

}  // namespace sluice::control
