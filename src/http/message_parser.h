#pragma once
// What RequestParser and ResponseParser share (with them, the only includers of llhttp.h): the
// llhttp set-up, the HeadScanner that runs ahead of llhttp on head and trailer lines, the
// callbacks that collect header fields and account chunk framing, the body limit, and the feed
// loop that turns llhttp's stops into FeedResults. Each parser adds its start line, its
// headers-complete and message-complete rules and its error wording through the hooks below.
// Not for use outside http/.

#include <llhttp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/head_scanner.h"
#include "http/message.h"

// The desync rules (head_scanner.h, request_validator.h, the framing checks of both parsers) are
// written against what llhttp 8.1.0 accepts in strict mode, the version Debian 12 packages
// (node-llhttp 8.1.0~5.15.0). On an upgrade: run unit.http (LlhttpBaseline records which of our
// rejections bare llhttp makes by itself), re-read llhttp's changelog for strict-mode, lenient
// flag, chunk and Transfer-Encoding changes, and re-check the callback contract the parsers rely
// on (on_header_value_complete, on_chunk_header's content_length, HPE_PAUSED from callbacks,
// the flags compared in framingAgrees), then update this pin.
static_assert(LLHTTP_VERSION_MAJOR == 8 && LLHTTP_VERSION_MINOR == 1 && LLHTTP_VERSION_PATCH == 0,
              "sluice's HTTP desync rules are written for llhttp 8.1.0: see http/message_parser.h");

namespace sluice::http {

enum class Action { kContinue, kPause };

struct FeedResult {
    enum Kind { kOk, kPaused, kUpgraded, kError };
    Kind kind = kOk;
    size_t consumed = 0;      // bytes of the input used (all of it for kOk)
    int status = 0;           // kError: HTTP status to answer
    const char* reason = "";  // kError: static string for logs and the error body
};

// Whether llhttp's own reading of the framing headers (its flags and content_length when the
// head is complete) says the same as the framing the validator decided for a message that has
// a body section: chunked, exactly `content_length` bytes, none, or until close.
inline bool framingAgrees(uint16_t llhttp_flags, uint64_t llhttp_content_length,
                          BodyFraming framing, uint64_t content_length) {
    const bool chunked = (llhttp_flags & F_CHUNKED) != 0;
    const bool has_length = (llhttp_flags & F_CONTENT_LENGTH) != 0;
    switch (framing) {
        case BodyFraming::kChunked:
            return chunked && !has_length;
        case BodyFraming::kContentLength:
            return !chunked && has_length && llhttp_content_length == content_length;
        case BodyFraming::kNone:  // no framing field, or Content-Length: 0
            return !chunked && (!has_length || llhttp_content_length == 0);
        case BodyFraming::kUntilClose:
            return !chunked && !has_length;
    }
    return false;
}

// The errors one direction reports in its own words, all with `status` unless said otherwise.
struct MessageWording {
    int status;
    // HeadScanner refusals: the status of each kind, and the reason (null: the scanner's own).
    int line_too_long_status;
    int too_large_status;  // kTooLarge, kTooManyFields
    int bad_version_status;
    const char* head_too_large;
    const char* head_malformed;  // every other kind
    const char* malformed_head;  // llhttp disagrees with the scanner about the head's end
    const char* malformed_trailers;
    const char* chunk_line_too_long;
    const char* chunk_extensions_too_long;
    const char* framing_mismatch;  // see framingAgrees
    const char* malformed;         // llhttp failed without a reason
};

struct MessageLimits {
    uint64_t max_header_bytes;  // head; also the chunk extensions of a whole message
    unsigned max_fields;        // head and trailers
    uint64_t max_body_bytes;    // decoded body; 0 = unlimited (413 beyond it)
};

// Derived (RequestParser, ResponseParser) provides the hooks below as members this class calls
// statically (no virtual dispatch on the parsing path), and befriends it.
template <typename Derived, typename Head>
class MessageParser {
  public:
    MessageParser(const MessageParser&) = delete;
    MessageParser& operator=(const MessageParser&) = delete;

    void resume();  // after kPaused
    const Head& head() const { return head_; }
    // The trailer section of the last chunked message, as received (names and values checked by
    // the scanner like a head's, at most max_header_bytes / max_fields). Filled before the
    // message's complete event; valid until the next message starts (or reset()). Empty for a
    // message without trailers or without a chunked body.
    const HeaderList& trailers() const { return trailers_; }

  protected:
    enum class Phase : uint8_t { kHead, kBody, kTrailers, kUpgraded, kClosed, kFailed };
    // Why llhttp_execute stopped early (set by the callbacks).
    enum class Stop : uint8_t {
        kNone,
        kHeadPause,
        kBodyPause,
        kInterim,  // a 1xx response ended; the final one follows
        kComplete,
        kUpgrade,
        kTrailers,
        kError
    };
    // `start_line` is where the request target or the reason phrase goes; `wording` must
    // outlive the parser (a constant).
    MessageParser(llhttp_type_t type, std::string Head::*start_line, HeadScanner::Mode mode,
                  const MessageWording& wording, const MessageLimits& limits);
    ~MessageParser() = default;
    // A fresh llhttp and a new head (the constructor's).
    void start();
    // Back to the state of a new parser (both parsers' reset()): the shared fields, then start().
    void restart();
    // Where header callbacks put fields now: the head's, or (after the last chunk) the trailers.
    HeaderList& fieldsNow() { return phase_ == Phase::kHead ? head_.headers : trailers_; }

    // What feed() answers without reading when parsing failed, switched protocols or is paused.
    std::optional<FeedResult> refusal() const;
    // The loop both parsers' feed() run once their entry checks passed.
    FeedResult feedBytes(std::string_view bytes);
    // Ends parsing with an error (sticky).
    FeedResult fail(int status, const char* reason);
    // From a callback: records the error and returns what makes llhttp stop.
    int onError(int status, const char* reason);
    void startHead();
    // For headersComplete: what the handler's answer to the head makes llhttp do (a pause waits
    // for resume(), else the body follows).
    int afterHead(Action action);

    // Hooks Derived must have. headersComplete (the version already in head_) and
    // messageComplete run after the shared checks and answer as llhttp callbacks do (0, 1 = no
    // body, HPE_PAUSED, HPE_USER through onError); deliverBody hands a decoded body slice on.
    //   int headersComplete(llhttp_t* p);
    //   int messageComplete(llhttp_t* p);
    //   Action deliverBody(std::string_view decoded);
    // Hooks with a default that Derived may hide. llhttp failed on its own (not through a
    // callback's error):
    void failLlhttp(llhttp_errno_t err);
    // A message ended (kComplete) or switched protocols (kUpgrade):
    void messageEnded(Stop how) { (void)how; }

    llhttp_t parser_;
    llhttp_settings_t settings_;
    Head head_;
    HeaderList trailers_;
    HeadScanner scanner_;
    std::string line_;  // start of a line the scanner has not seen the end of (not yet in llhttp)
    Phase phase_ = Phase::kHead;
    Stop stop_ = Stop::kNone;
    bool paused_ = false;
    uint64_t body_bytes_ = 0;
    uint64_t chunk_ext_bytes_ = 0;  // extension bytes of the current chunk
    uint64_t ext_bytes_ = 0;        // extension bytes of the whole message
    uint64_t framing_gap_ = 0;      // chunk framing bytes since the last body byte
    const char* gap_mark_ = nullptr;
    FeedResult error_;
    llhttp_type_t type_;
    std::string Head::*start_line_;
    HeadScanner::Mode mode_;
    const MessageWording& wording_;
    MessageLimits limits_;

  private:
    // Runs llhttp over [data, data + len); returns the bytes it used. Sets error_/phase_ on error.
    size_t execute(const char* data, size_t len);
    // The scanner refused the head or the trailers.
    FeedResult failScan(const HeadScanner::Result& scan);
    Derived& derived() { return static_cast<Derived&>(*this); }
    static MessageParser& self(llhttp_t* p) { return *static_cast<MessageParser*>(p->data); }
    static int onMessageBegin(llhttp_t* p);
    static int onStartLine(llhttp_t* p, const char* at, size_t len);
    static int onHeaderField(llhttp_t* p, const char* at, size_t len);
    static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
    static int onHeaderValueComplete(llhttp_t* p);
    static int onHeadersComplete(llhttp_t* p);
    static int onBody(llhttp_t* p, const char* at, size_t len);
    static int onChunkExtension(llhttp_t* p, const char* at, size_t len);
    static int onChunkHeader(llhttp_t* p);
    static int onMessageComplete(llhttp_t* p);
};

}  // namespace sluice::http
