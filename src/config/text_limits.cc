#include "config/text_limits.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <vector>

namespace sluice::config {
namespace {

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 (RFC 3629, table 3-7 of
// the Unicode standard: the second byte's range rules out overlong forms, surrogates and code
// points past U+10FFFF).
size_t utf8SequenceLength(std::string_view text, size_t i) {
    const auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = at(i);
    if (lead < 0x80) return 1;
    size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    if (at(i + 1) < low || at(i + 1) > high) return 0;
    for (size_t k = 2; k < length; ++k) {
        if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
    }
    return length;
}

bool checkUtf8(std::string_view text, Diagnostics* diags) {
    uint32_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < text.size();) {
        const size_t length = utf8SequenceLength(text, i);
        if (length == 0) {
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[i]));
            diags->error(
                Location{line, static_cast<uint32_t>(i - line_start + 1)},
                std::string("invalid UTF-8 (byte ") + byte + "); a config file must be UTF-8 text");
            return false;
        }
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
        i += length;
    }
    return true;
}

bool isBareKeyByte(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

// Follows the structure of a TOML document just enough to count nesting: statements ([table]
// headers, key = value), values, strings and comments. Where the text is not valid TOML it
// reads on as best it can and leaves the error to toml11, which stops at the first one; the
// only thing that hides a bracket from the count is a string or a comment, which end where
// toml11's do (or earlier: a one-line string ends at the newline whatever precedes it).
class NestingScanner {
  public:
    explicit NestingScanner(std::string_view text) : text_(text) {}

    // False when some value is nested deeper than kMaxNestingDepth; *at is then where.
    bool run(Location* at) {
        int table_depth = 0;  // of the current [table]: where its keys' values sit
        while (!overflow_) {
            skipBlankLinesAndComments();
            if (atEnd()) break;
            if (peek() == '[') {
                const Location header = here();
                const bool array = peek(1) == '[';
                advance(array ? 2 : 1);
                table_depth = readKey() + (array ? 1 : 0);
                if (table_depth > kMaxNestingDepth) fail(header);
                skipBlank();
                while (peek() == ']') advance(1);
                continue;  // the rest of the line, if any, reads as a statement
            }
            const Location key = here();
            const int parts = readKey();
            const int depth = table_depth + (parts > 0 ? parts - 1 : 0);
            if (depth > kMaxNestingDepth) {
                fail(key);
                break;
            }
            skipBlank();
            if (peek() == '=') advance(1);
            scanValue(depth);
        }
        *at = overflow_at_;
        return !overflow_;
    }

  private:
    struct Frame {
        char kind;  // '[' or '{'
        int depth;  // of this array or inline table
    };

    bool atEnd() const { return pos_ >= text_.size(); }
    char peek(size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }
    void advance(size_t n) {
        for (; n > 0 && !atEnd(); --n, ++pos_) {
            if (text_[pos_] == '\n') {
                ++line_;
                line_start_ = pos_ + 1;
            }
        }
    }
    Location here() const { return Location{line_, static_cast<uint32_t>(pos_ - line_start_ + 1)}; }
    void fail(Location at) {
        if (!overflow_) overflow_at_ = at;
        overflow_ = true;
    }

    void skipBlank() {
        while (peek() == ' ' || peek() == '\t') advance(1);
    }
    void skipComment() {  // at '#': up to the newline, which stays
        while (!atEnd() && peek() != '\n') advance(1);
    }
    void skipBlankLinesAndComments() {
        while (!atEnd()) {
            const char c = peek();
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                advance(1);
            } else if (c == '#') {
                skipComment();
            } else {
                return;
            }
        }
    }

    // At a quote: a basic "...", literal '...', or multi-line """...""" / '''...''' string.
    void skipString() {
        const char quote = peek();
        const bool basic = quote == '"';
        if (peek(1) == quote && peek(2) == quote) {
            advance(3);
            while (!atEnd()) {
                if (basic && peek() == '\\') {
                    advance(2);
                } else if (peek() == quote && peek(1) == quote && peek(2) == quote) {
                    advance(3);
                    // Up to two more quotes belong to the content: """a""""" is a"".
                    for (int extra = 0; extra < 2 && peek() == quote; ++extra) advance(1);
                    return;
                } else {
                    advance(1);
                }
            }
            return;
        }
        advance(1);
        while (!atEnd() && peek() != '\n') {
            if (peek() == quote) {
                advance(1);
                return;
            }
            advance(basic && peek() == '\\' && peek(1) != '\n' ? 2 : 1);
        }
    }

    // A (dotted) key: returns how many keys it has, 0 when there is none here.
    int readKey() {
        int parts = 0;
        while (true) {
            skipBlank();
            if (peek() == '"' || peek() == '\'') {
                skipString();
            } else if (isBareKeyByte(peek())) {
                while (isBareKeyByte(peek())) advance(1);
            } else {
                return parts;
            }
            ++parts;
            skipBlank();
            if (peek() != '.') return parts;
            advance(1);
        }
    }

    // The value after "key =", whose containers start below `base`; up to the end of the
    // line once every array and inline table it opened is closed.
    void scanValue(int base) {
        std::vector<Frame> frames;
        int value_depth = base;  // of the container holding the value being read
        bool expect_key = false;
        while (!atEnd() && !overflow_) {
            if (expect_key) {  // after '{' or ',' in an inline table
                expect_key = false;
                skipBlankLinesAndComments();
                const Location key = here();
                const int parts = readKey();
                value_depth = frames.back().depth + (parts > 0 ? parts - 1 : 0);
                if (value_depth > kMaxNestingDepth) fail(key);
                skipBlank();
                if (peek() == '=') advance(1);
                continue;
            }
            const char c = peek();
            if (c == '\n') {
                if (frames.empty()) return;
                advance(1);
            } else if (c == '#') {
                skipComment();
            } else if (c == '"' || c == '\'') {
                skipString();
            } else if (c == '[' || c == '{') {
                if (value_depth + 1 > kMaxNestingDepth) {
                    fail(here());
                    return;
                }
                frames.push_back(Frame{c, ++value_depth});
                advance(1);
                expect_key = c == '{';
            } else if (c == ']' || c == '}') {
                advance(1);
                if (!frames.empty()) frames.pop_back();
                value_depth = frames.empty() ? base : frames.back().depth;
            } else if (c == ',') {
                advance(1);
                expect_key = !frames.empty() && frames.back().kind == '{';
                if (!frames.empty()) value_depth = frames.back().depth;
            } else {
                advance(1);
            }
        }
    }

    std::string_view text_;
    size_t pos_ = 0;
    uint32_t line_ = 1;
    size_t line_start_ = 0;
    bool overflow_ = false;
    Location overflow_at_;
};

}  // namespace

bool checkTextLimits(std::string_view text, Diagnostics* diags) {
    if (text.size() > kMaxConfigBytes) {
        diags->error(Location{1, 1}, "file is larger than 16 MiB, the limit for a config file");
        return false;
    }
    if (!checkUtf8(text, diags)) return false;
    Location at;
    if (!NestingScanner(text).run(&at)) {
        diags->error(at, "nested deeper than " + std::to_string(kMaxNestingDepth) +
                             " arrays/tables, the limit for a config file");
        return false;
    }
    return true;
}

bool readConfigText(const std::string& path, std::string* text) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    text->clear();
    std::vector<char> chunk(64 * 1024);
    while (text->size() <= kMaxConfigBytes) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        text->append(chunk.data(), static_cast<size_t>(in.gcount()));
        if (!in) break;
    }
    if (in.bad()) {
        if (errno == 0) errno = EIO;
        return false;
    }
    return true;
}

}  // namespace sluice::config
