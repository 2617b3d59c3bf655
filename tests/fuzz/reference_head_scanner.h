#pragma once
// The byte-at-a-time HeadScanner that src/http/head_scanner.cc replaced (sluice 69e40df): one
// switch per byte, obviously in step with the rules in head_scanner.h. head_scanner_fuzz holds
// the fast scanner to it verdict for verdict. Do not optimise this file.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "http/head_scanner.h"

namespace sluice::http::reference {

class ReferenceHeadScanner {
  public:
    using Mode = HeadScanner::Mode;
    using Error = HeadScanner::Error;
    using Result = HeadScanner::Result;

    void reset(Mode mode, uint64_t max_bytes, unsigned max_fields) {
        *this = ReferenceHeadScanner();
        mode_ = mode;
        max_bytes_ = max_bytes;
        max_fields_ = max_fields;
        in_start_line_ = mode != Mode::kTrailers;
    }
    Result scan(std::string_view bytes);
    bool started() const { return started_; }
    bool done() const { return done_; }
    uint64_t bytes() const { return total_; }
    bool methodIsToken() const { return method_len_ > 0 && method_token_; }

  private:
    enum class State : uint8_t { kLineStart, kLine, kCr };
    static constexpr std::string_view kTransferEncoding = "transfer-encoding";
    static bool isDigit(char c) { return c >= '0' && c <= '9'; }
    static bool isTchar(char c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)) return true;
        return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
    }
    static char lowerAscii(char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    Result fail(Error error, const char* reason, size_t complete);
    Error startLineByte(char c);
    Error startLineEnd();
    Error fieldByte(char c);

    Mode mode_ = Mode::kRequest;
    State state_ = State::kLineStart;
    uint64_t max_bytes_ = 0;
    unsigned max_fields_ = 0;
    uint64_t total_ = 0;
    uint64_t line_len_ = 0;
    unsigned fields_ = 0;
    bool in_start_line_ = true;
    bool started_ = false;
    bool done_ = false;
    Error error_ = Error::kNone;
    const char* reason_ = "";
    char prev_ = 0;
    unsigned spaces_ = 0;
    size_t method_len_ = 0;
    bool method_token_ = true;
    char version_[8] = {};
    size_t version_len_ = 0;
    bool in_name_ = true;
    size_t name_match_ = 0;
    bool name_matches_ = true;
    bool is_te_ = false;
    size_t value_pos_ = 0;
};

inline ReferenceHeadScanner::Result ReferenceHeadScanner::fail(Error error, const char* reason,
                                                               size_t complete) {
    error_ = error;
    reason_ = reason;
    Result r;
    r.complete = complete;
    r.error = error;
    r.reason = reason;
    return r;
}

inline ReferenceHeadScanner::Result ReferenceHeadScanner::scan(std::string_view bytes) {
    Result r;
    if (error_ != Error::kNone) return fail(error_, reason_, 0);
    if (done_) {
        r.done = true;
        return r;
    }
    size_t complete = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        ++total_;
        if (mode_ == Mode::kRequest && in_start_line_ && line_len_ >= max_bytes_ && c != '\r' &&
            c != '\n') {
            return fail(Error::kLineTooLong, "request line too long", complete);
        }
        if (total_ > max_bytes_)
            return fail(Error::kTooLarge, "header section too large", complete);

        switch (state_) {
            case State::kCr:
                if (c != '\n') return fail(Error::kSyntax, "bare CR in header section", complete);
                complete = i + 1;
                prev_ = c;
                if (line_len_ == 0) {
                    if (in_start_line_ && !started_) {  // empty line before the start line
                        state_ = State::kLineStart;
                        continue;
                    }
                    done_ = true;
                    r.complete = complete;
                    r.done = true;
                    return r;
                }
                in_start_line_ = false;
                state_ = State::kLineStart;
                line_len_ = 0;
                continue;
            case State::kLineStart:
                if (c == '\r') {
                    state_ = State::kCr;
                    continue;
                }
                if (c == '\n') return fail(Error::kSyntax, "bare LF in header section", complete);
                started_ = true;
                if (!in_start_line_) {
                    if (c == ' ' || c == '\t') {
                        return fail(Error::kSyntax, "obsolete line folding", complete);
                    }
                    if (c == ':') return fail(Error::kSyntax, "empty field name", complete);
                    if (++fields_ > max_fields_) {
                        return fail(Error::kTooManyFields, "too many header fields", complete);
                    }
                    in_name_ = true;
                    name_match_ = 0;
                    name_matches_ = true;
                    is_te_ = false;
                    value_pos_ = 0;
                }
                state_ = State::kLine;
                [[fallthrough]];
            case State::kLine: {
                if (c == '\n') return fail(Error::kSyntax, "bare LF in header section", complete);
                Error e = Error::kNone;
                if (c == '\r') {
                    if (in_start_line_) {
                        e = startLineEnd();
                    } else if (in_name_) {
                        e = Error::kSyntax;
                        reason_ = "field line without colon";
                    } else if (is_te_ && (prev_ == ' ' || value_pos_ == 0)) {
                        e = Error::kSyntax;
                        reason_ = "malformed Transfer-Encoding";
                    }
                    if (e != Error::kNone) return fail(e, reason_, complete);
                    state_ = State::kCr;
                    prev_ = c;
                    continue;
                }
                ++line_len_;
                e = in_start_line_ ? startLineByte(c) : fieldByte(c);
                if (e != Error::kNone) return fail(e, reason_, complete);
                prev_ = c;
                continue;
            }
        }
    }
    r.complete = complete;
    return r;
}

inline ReferenceHeadScanner::Error ReferenceHeadScanner::startLineByte(char c) {
    if (mode_ == Mode::kResponse) {
        // "HTTP/1.0 " or "HTTP/1.1 ", then llhttp checks the status code and reason.
        static constexpr std::string_view kPrefix = "HTTP/1.x ";
        const size_t pos = line_len_ - 1;
        if (pos < kPrefix.size()) {
            const bool ok = pos == 7 ? (c == '0' || c == '1') : c == kPrefix[pos];
            if (!ok) {
                reason_ = "malformed status line";
                return Error::kBadVersion;
            }
        }
        return Error::kNone;
    }
    if (c == ' ') {
        if (line_len_ == 1 || prev_ == ' ' || ++spaces_ > 2) {
            reason_ = "malformed request line";
            return Error::kSyntax;
        }
        return Error::kNone;
    }
    if (spaces_ == 0) {
        ++method_len_;
        method_token_ = method_token_ && isTchar(c);
    } else if (spaces_ == 2) {
        if (version_len_ < sizeof(version_)) version_[version_len_] = c;
        if (version_len_ <= sizeof(version_)) ++version_len_;
    }
    return Error::kNone;
}

inline ReferenceHeadScanner::Error ReferenceHeadScanner::startLineEnd() {
    if (mode_ == Mode::kResponse) {
        if (line_len_ < 9) {
            reason_ = "malformed status line";
            return Error::kSyntax;
        }
        return Error::kNone;
    }
    if (spaces_ != 2 || prev_ == ' ') {
        reason_ = "malformed request line";
        return Error::kSyntax;
    }
    const char* v = version_;
    if (version_len_ != 8 || std::memcmp(v, "HTTP/", 5) != 0 || !isDigit(v[5]) || v[6] != '.' ||
        !isDigit(v[7])) {
        reason_ = "malformed HTTP version";
        return Error::kSyntax;
    }
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
        reason_ = "HTTP version not supported";
        return Error::kBadVersion;
    }
    return Error::kNone;
}

inline ReferenceHeadScanner::Error ReferenceHeadScanner::fieldByte(char c) {
    if (in_name_) {
        if (c == ':') {
            in_name_ = false;
            is_te_ = name_matches_ && name_match_ == kTransferEncoding.size();
            return Error::kNone;
        }
        if (name_matches_ && name_match_ < kTransferEncoding.size() &&
            lowerAscii(c) == kTransferEncoding[name_match_]) {
            ++name_match_;
        } else {
            name_matches_ = false;
        }
        return Error::kNone;
    }
    // Transfer-Encoding decides framing: accept only "Transfer-Encoding:" [SP] value with no
    // tab and no doubled or trailing space, so no two parsers can read it differently.
    if (is_te_ && (c == '\t' || (c == ' ' && prev_ == ' '))) {
        reason_ = "malformed Transfer-Encoding";
        return Error::kSyntax;
    }
    if (!(value_pos_ == 0 && c == ' ')) ++value_pos_;
    return Error::kNone;
}

}  // namespace sluice::http::reference
