#include "http/head_scanner.h"

#include <algorithm>
#include <cstring>

#include "http/ascii.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::http {

namespace {

constexpr std::string_view kTransferEncoding = "transfer-encoding";

// tchar (RFC 9110 5.6.2) by table: the method check runs on every request line.
struct TcharTable {
    bool is[256] = {};
    constexpr TcharTable() {
        for (int c = '0'; c <= '9'; ++c) is[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) is[c] = true;
        for (int c = 'A'; c <= 'Z'; ++c) is[c] = true;
        for (char c : std::string_view("!#$%&'*+-.^_`|~")) is[static_cast<unsigned char>(c)] = true;
    }
};
constexpr TcharTable kTchar;

bool isTchar(char c) { return kTchar.is[static_cast<unsigned char>(c)]; }

constexpr size_t kNone = static_cast<size_t>(-1);

// Index of the first CR or LF in [p, p + n), or n. `colon` is set to the index of the first ':'
// before it (or to the returned index when there is none): a field name ends there. Header
// lines are tens of bytes, so this is the scanner's inner loop: 16 bytes per step where SSE2
// exists (always on x86-64).
size_t findLineEnd(const char* p, size_t n, size_t& colon) {
    colon = kNone;
    size_t i = 0;
#if defined(__SSE2__)
    if (n >= 16) {
        const __m128i cr = _mm_set1_epi8('\r');
        const __m128i lf = _mm_set1_epi8('\n');
        const __m128i co = _mm_set1_epi8(':');
        // Steps of 16 bytes; a last step reloads the final 16 bytes and drops the `shift` bytes
        // already looked at.
        size_t base = 0;
        unsigned shift = 0;
        while (true) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + base));
            const unsigned ends = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
                                      _mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)))) >>
                                  shift;
            if (colon == kNone) {
                const unsigned colons =
                    static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, co))) >> shift;
                if (colons != 0) colon = i + static_cast<size_t>(__builtin_ctz(colons));
            }
            if (ends != 0) {
                const size_t end = i + static_cast<size_t>(__builtin_ctz(ends));
                if (colon > end) colon = end;
                return end;
            }
            i = base + 16;
            if (i + 16 <= n) {
                base = i;
            } else if (i < n) {
                base = n - 16;
                shift = static_cast<unsigned>(i - base);
            } else {
                break;
            }
        }
        if (colon > n) colon = n;
        return n;
    }
#endif
    for (; i < n; ++i) {
        const char c = p[i];
        if (c == '\r' || c == '\n') break;
        if (c == ':' && colon == kNone) colon = i;
    }
    if (colon > i) colon = i;
    return i;
}

}  // namespace

void HeadScanner::reset(Mode mode, uint64_t max_bytes, unsigned max_fields) {
    *this = HeadScanner();
    mode_ = mode;
    max_bytes_ = max_bytes;
    max_fields_ = max_fields;
    in_start_line_ = mode != Mode::kTrailers;
}

HeadScanner::Result HeadScanner::fail(Error error, const char* reason, size_t complete) {
    error_ = error;
    reason_ = reason;
    Result r;
    r.complete = complete;
    r.error = error;
    r.reason = reason;
    return r;
}

// The verdicts are those of a byte-at-a-time machine that, for each byte, first checks the
// limits, then the byte itself. Limits are therefore applied by scanning only the bytes that fit
// (`end`) and judging the first byte past them last; within the bytes that fit, runs of content
// are checked in one go and errors are reported at the first failing byte, so the verdict and
// `complete` do not depend on where reads split the input.
HeadScanner::Result HeadScanner::scan(std::string_view bytes) {
    Result r;
    if (error_ != Error::kNone) return fail(error_, reason_, 0);
    if (done_) {
        r.done = true;
        return r;
    }
    const char* const data = bytes.data();
    const size_t end = static_cast<size_t>(std::min<uint64_t>(bytes.size(), max_bytes_ - total_));
    size_t i = 0;
    size_t complete = 0;
    while (i < end) {
        switch (state_) {
            case State::kCr:
                if (data[i] != '\n') {
                    total_ += i + 1;
                    return fail(Error::kSyntax, "bare CR in header section", complete);
                }
                complete = ++i;
                if (line_len_ == 0) {
                    if (in_start_line_ && !started_) {  // empty line before the start line
                        state_ = State::kLineStart;
                        continue;
                    }
                    total_ += i;
                    done_ = true;
                    r.complete = complete;
                    r.done = true;
                    return r;
                }
                in_start_line_ = false;
                state_ = State::kLineStart;
                line_len_ = 0;
                continue;
            case State::kLineStart: {
                const char c = data[i];
                if (c == '\r') {
                    state_ = State::kCr;
                    ++i;
                    continue;
                }
                if (c != '\n') {
                    started_ = true;
                    if (!in_start_line_) {
                        const char* reason = nullptr;
                        Error e = Error::kSyntax;
                        if (c == ' ' || c == '\t') {
                            reason = "obsolete line folding";
                        } else if (c == ':') {
                            reason = "empty field name";
                        } else if (++fields_ > max_fields_) {
                            e = Error::kTooManyFields;
                            reason = "too many header fields";
                        }
                        if (reason != nullptr) {
                            total_ += i + 1;
                            return fail(e, reason, complete);
                        }
                        in_name_ = true;
                        name_match_ = 0;
                        name_matches_ = true;
                        is_te_ = false;
                        value_pos_ = 0;
                    }
                }
                state_ = State::kLine;
                [[fallthrough]];
            }
            case State::kLine: {
                size_t colon = 0;
                const size_t stop = i + findLineEnd(data + i, end - i, colon);
                size_t at = 0;
                Error e = Error::kNone;
                if (stop > i) {
                    if (!in_start_line_) {
                        if (in_name_ && name_match_ == 0 && colon < stop - i &&
                            colon != kTransferEncoding.size()) {
                            // The usual field line: its whole name (or the rest of a name
                            // that already failed to match), which is not Transfer-Encoding,
                            // so nothing else in the line is checked.
                            in_name_ = false;
                            prev_ = data[stop - 1];
                            line_len_ += stop - i;
                        } else {
                            e = fieldBytes(data + i, stop - i, colon, at);
                        }
                    } else if (mode_ == Mode::kResponse) {
                        e = statusLineBytes(data + i, stop - i, at);
                    } else {
                        e = requestLineBytes(data + i, stop - i, at);
                    }
                }
                if (e != Error::kNone) {
                    total_ += i + at + 1;
                    return fail(e, reason_, complete);
                }
                i = stop;
                if (i == end) break;  // the line goes on past these bytes
                if (data[i] == '\n') {
                    total_ += i + 1;
                    return fail(Error::kSyntax, "bare LF in header section", complete);
                }
                e = lineEnd();
                if (e != Error::kNone) {
                    total_ += i + 1;
                    return fail(e, reason_, complete);
                }
                state_ = State::kCr;
                ++i;
                // The usual LF of a non-empty line, without going round the loop.
                if (i < end && data[i] == '\n') {
                    complete = ++i;
                    in_start_line_ = false;
                    state_ = State::kLineStart;
                    line_len_ = 0;
                }
                continue;
            }
        }
    }
    total_ += i;
    if (i < bytes.size()) {  // data[i] is the first byte past max_bytes_
        ++total_;
        const char c = data[i];
        if (mode_ == Mode::kRequest && in_start_line_ && line_len_ >= max_bytes_ && c != '\r' &&
            c != '\n') {
            return fail(Error::kLineTooLong, "request line too long", complete);
        }
        return fail(Error::kTooLarge, "header section too large", complete);
    }
    r.complete = complete;
    return r;
}

HeadScanner::Error HeadScanner::requestLineBytes(const char* p, size_t n, size_t& at) {
    size_t i = 0;
    while (i < n) {
        if (p[i] == ' ') {
            if (line_len_ + i == 0 || prev_ == ' ' || ++spaces_ > 2) {
                at = i;
                reason_ = "malformed request line";
                return Error::kSyntax;
            }
            prev_ = ' ';
            ++i;
            continue;
        }
        // A run of other bytes: (part of) the method, the target or the version.
        size_t run_end = i;
        if (spaces_ == 0) {
            for (; run_end < n && p[run_end] != ' '; ++run_end) {
                if (!isTchar(p[run_end])) method_token_ = false;
            }
            method_len_ += run_end - i;
        } else {
            const void* space = std::memchr(p + i, ' ', n - i);
            run_end =
                space == nullptr ? n : static_cast<size_t>(static_cast<const char*>(space) - p);
            if (spaces_ == 2) {  // the version: its first 8 bytes, and whether there are more
                const size_t len = run_end - i;
                if (version_len_ < sizeof(version_)) {
                    std::memcpy(version_ + version_len_, p + i,
                                std::min(len, sizeof(version_) - version_len_));
                }
                version_len_ = std::min(version_len_ + len, sizeof(version_) + 1);
            }
        }
        prev_ = p[run_end - 1];
        i = run_end;
    }
    line_len_ += n;
    return Error::kNone;
}

HeadScanner::Error HeadScanner::statusLineBytes(const char* p, size_t n, size_t& at) {
    // "HTTP/1.0 " or "HTTP/1.1 ", then llhttp checks the status code and reason.
    static constexpr std::string_view kPrefix = "HTTP/1.x ";
    if (line_len_ == 0 && n >= kPrefix.size() && std::memcmp(p, "HTTP/1.", 7) == 0 &&
        (p[7] == '0' || p[7] == '1') && p[8] == ' ') {
        prev_ = p[n - 1];
        line_len_ = n;
        return Error::kNone;
    }
    for (size_t i = 0; i < n && line_len_ + i < kPrefix.size(); ++i) {
        const size_t pos = line_len_ + i;
        const char c = p[i];
        const bool ok = pos == 7 ? (c == '0' || c == '1') : c == kPrefix[pos];
        if (!ok) {
            at = i;
            reason_ = "malformed status line";
            return Error::kBadVersion;
        }
    }
    prev_ = p[n - 1];
    line_len_ += n;
    return Error::kNone;
}

HeadScanner::Error HeadScanner::fieldBytes(const char* p, size_t n, size_t colon, size_t& at) {
    size_t i = 0;
    if (in_name_) {
        const size_t name_bytes = colon;
        if (name_matches_) {
            if (name_match_ + name_bytes > kTransferEncoding.size()) {
                name_matches_ = false;
            } else {
                for (size_t k = 0; k < name_bytes; ++k) {
                    if (lowerAscii(p[k]) != kTransferEncoding[name_match_ + k]) {
                        name_matches_ = false;
                        break;
                    }
                }
                name_match_ += name_bytes;
            }
        }
        if (colon == n) {
            prev_ = p[n - 1];
            line_len_ += n;
            return Error::kNone;
        }
        in_name_ = false;
        is_te_ = name_matches_ && name_match_ == kTransferEncoding.size();
        prev_ = ':';
        i = name_bytes + 1;
    }
    if (is_te_) {
        // Transfer-Encoding decides framing: accept only "Transfer-Encoding:" [SP] value with no
        // tab and no doubled or trailing space, so no two parsers can read it differently.
        for (; i < n; ++i) {
            const char c = p[i];
            if (c == '\t' || (c == ' ' && prev_ == ' ')) {
                at = i;
                reason_ = "malformed Transfer-Encoding";
                return Error::kSyntax;
            }
            if (!(value_pos_ == 0 && c == ' ')) ++value_pos_;
            prev_ = c;
        }
    }
    prev_ = p[n - 1];
    line_len_ += n;
    return Error::kNone;
}

HeadScanner::Error HeadScanner::lineEnd() {
    if (in_start_line_) return startLineEnd();
    if (in_name_) {
        reason_ = "field line without colon";
        return Error::kSyntax;
    }
    if (is_te_ && (prev_ == ' ' || value_pos_ == 0)) {
        reason_ = "malformed Transfer-Encoding";
        return Error::kSyntax;
    }
    return Error::kNone;
}

HeadScanner::Error HeadScanner::startLineEnd() {
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

}  // namespace sluice::http
