#pragma once
// Byte-level checks on a message head (start line + header fields) or a chunked trailer section
// that llhttp 8.1 does not make in strict mode: CRLF-only line endings (llhttp accepts a bare LF
// after the request line and as the final empty line), no obs-fold (llhttp folds it into the
// value), no empty field name, a request line of exactly "method SP target SP HTTP/d.d" (llhttp
// accepts "GET  /" and "RTSP/1.0"), limits counted as bytes arrive, and a canonical
// Transfer-Encoding field (no tab, no extra whitespace around the value).
//
// The parsers run the scanner ahead of llhttp and hand llhttp only complete lines the scanner
// has accepted, so an error is found at the same line whatever the read boundaries were.
// Pure state machine: no allocation, never throws. It looks at whole runs of bytes at a time (the
// end of a line, the next space of a request line, a field name's colon) rather than dispatching
// on every byte; tests/fuzz/head_scanner_fuzz.cc holds it to a byte-at-a-time reference.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::http {

class HeadScanner {
  public:
    enum class Mode : uint8_t { kRequest, kResponse, kTrailers };
    enum class Error : uint8_t {
        kNone,
        kSyntax,         // bare CR/LF, obs-fold, empty name, malformed start line, odd TE
        kLineTooLong,    // request line longer than max_bytes
        kTooLarge,       // block longer than max_bytes
        kTooManyFields,  // more than max_fields field lines
        kBadVersion,     // well-formed "HTTP/d.d" other than 1.0 / 1.1
    };
    struct Result {
        // Bytes up to the end of the last complete line accepted in this call (including its
        // LF). When `error` is set, the failing line starts at or after this offset.
        size_t complete = 0;
        bool done = false;  // the block's terminating empty line ends at `complete`
        Error error = Error::kNone;
        const char* reason = "";
    };

    void reset(Mode mode, uint64_t max_bytes, unsigned max_fields);
    // Scans the next bytes of the block. Stops at the end of the block (done) or the first error;
    // once either happened, further calls return the same verdict without reading.
    Result scan(std::string_view bytes);

    // A byte other than leading empty lines has been seen.
    bool started() const { return started_; }
    bool done() const { return done_; }
    uint64_t bytes() const { return total_; }
    // The request line's method so far is a non-empty token (llhttp then only failed to know it).
    bool methodIsToken() const { return method_len_ > 0 && method_token_; }

  private:
    enum class State : uint8_t { kLineStart, kLine, kCr };
    Result fail(Error error, const char* reason, size_t complete);
    // The checks of one run of content bytes of the current line (no CR or LF among them). On
    // error, `at` is the index of the failing byte in the run and reason_ is set.
    Error requestLineBytes(const char* p, size_t n, size_t& at);
    Error statusLineBytes(const char* p, size_t n, size_t& at);
    // `colon`: index of the first ':' in the run, n when there is none.
    Error fieldBytes(const char* p, size_t n, size_t colon, size_t& at);
    // The checks made at the CR that ends a non-empty line.
    Error lineEnd();
    Error startLineEnd();

    Mode mode_ = Mode::kRequest;
    State state_ = State::kLineStart;
    uint64_t max_bytes_ = 0;
    unsigned max_fields_ = 0;
    uint64_t total_ = 0;
    uint64_t line_len_ = 0;  // bytes of the current line before its CR
    unsigned fields_ = 0;
    bool in_start_line_ = true;  // no start line in kTrailers mode
    bool started_ = false;
    bool done_ = false;
    Error error_ = Error::kNone;
    const char* reason_ = "";
    char prev_ = 0;  // the last content byte of the current line
    // Request line.
    unsigned spaces_ = 0;
    size_t method_len_ = 0;
    bool method_token_ = true;
    char version_[8] = {};
    size_t version_len_ = 0;  // > sizeof(version_) means too long
    // Field lines.
    bool in_name_ = true;
    size_t name_match_ = 0;  // prefix of "transfer-encoding" matched so far
    bool name_matches_ = true;
    bool is_te_ = false;
    size_t value_pos_ = 0;
};

}  // namespace sluice::http
