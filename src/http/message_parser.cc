#include "http/message_parser.h"

#include "http/request_parser.h"
#include "http/response_parser.h"

namespace sluice::http {

template <typename Derived, typename Head>
MessageParser<Derived, Head>::MessageParser(llhttp_type_t type, std::string Head::*start_line,
                                            HeadScanner::Mode mode, const MessageWording& wording,
                                            const MessageLimits& limits)
    : type_(type), start_line_(start_line), mode_(mode), wording_(wording), limits_(limits) {
    llhttp_settings_init(&settings_);
    settings_.on_message_begin = &MessageParser::onMessageBegin;
    (type == HTTP_REQUEST ? settings_.on_url : settings_.on_status) = &MessageParser::onStartLine;
    settings_.on_header_field = &MessageParser::onHeaderField;
    settings_.on_header_value = &MessageParser::onHeaderValue;
    settings_.on_header_value_complete = &MessageParser::onHeaderValueComplete;
    settings_.on_headers_complete = &MessageParser::onHeadersComplete;
    settings_.on_body = &MessageParser::onBody;
    settings_.on_chunk_extension_name = &MessageParser::onChunkExtension;
    settings_.on_chunk_extension_value = &MessageParser::onChunkExtension;
    settings_.on_chunk_header = &MessageParser::onChunkHeader;
    settings_.on_message_complete = &MessageParser::onMessageComplete;
    start();
}

template <typename Derived, typename Head>
void MessageParser<Derived, Head>::start() {
    // Strict mode is compiled in (LLHTTP_STRICT_MODE=1); no lenient flag is ever set.
    llhttp_init(&parser_, type_, &settings_);
    parser_.data = this;
    trailers_.clear();
    startHead();
}

template <typename Derived, typename Head>
void MessageParser<Derived, Head>::restart() {
    head_.clear();
    stop_ = Stop::kNone;
    paused_ = false;
    body_bytes_ = 0;
    chunk_ext_bytes_ = 0;
    ext_bytes_ = 0;
    framing_gap_ = 0;
    gap_mark_ = nullptr;
    error_ = FeedResult{};
    start();  // llhttp_init again, then a new head
}

template <typename Derived, typename Head>
void MessageParser<Derived, Head>::startHead() {
    phase_ = Phase::kHead;
    scanner_.reset(mode_, limits_.max_header_bytes, limits_.max_fields);
    line_.clear();
}

template <typename Derived, typename Head>
void MessageParser<Derived, Head>::resume() {
    if (!paused_) return;
    paused_ = false;
    llhttp_resume(&parser_);
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onError(int status, const char* reason) {
    stop_ = Stop::kError;
    error_.kind = FeedResult::kError;
    error_.status = status;
    error_.reason = reason;
    return HPE_USER;
}

template <typename Derived, typename Head>
FeedResult MessageParser<Derived, Head>::fail(int status, const char* reason) {
    phase_ = Phase::kFailed;
    error_.kind = FeedResult::kError;
    error_.consumed = 0;
    error_.status = status;
    error_.reason = reason;
    return error_;
}

template <typename Derived, typename Head>
FeedResult MessageParser<Derived, Head>::failScan(const HeadScanner::Result& scan) {
    const MessageWording& w = wording_;
    switch (scan.error) {
        case HeadScanner::Error::kLineTooLong:
            return fail(w.line_too_long_status, w.head_too_large ? w.head_too_large : scan.reason);
        case HeadScanner::Error::kTooLarge:
        case HeadScanner::Error::kTooManyFields:
            return fail(w.too_large_status, w.head_too_large ? w.head_too_large : scan.reason);
        case HeadScanner::Error::kBadVersion:
            return fail(w.bad_version_status, w.head_malformed ? w.head_malformed : scan.reason);
        default:
            return fail(w.status, w.head_malformed ? w.head_malformed : scan.reason);
    }
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::afterHead(Action action) {
    if (action != Action::kPause) return 0;
    stop_ = Stop::kHeadPause;
    return HPE_PAUSED;
}

template <typename Derived, typename Head>
void MessageParser<Derived, Head>::failLlhttp(llhttp_errno_t) {
    const char* reason = llhttp_get_error_reason(&parser_);
    fail(wording_.status, reason != nullptr ? reason : wording_.malformed);
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onMessageBegin(llhttp_t* p) {
    // The previous message's head stays readable until the next one starts.
    self(p).head_.clear();
    self(p).trailers_.clear();
    return 0;
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onStartLine(llhttp_t* p, const char* at, size_t len) {
    MessageParser& s = self(p);
    (s.head_.*s.start_line_).append(at, len);
    return 0;
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onHeaderField(llhttp_t* p, const char* at, size_t len) {
    self(p).fieldsNow().appendName(std::string_view(at, len));
    return 0;
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
    self(p).fieldsNow().appendValue(std::string_view(at, len));
    return 0;
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onHeaderValueComplete(llhttp_t* p) {
    // llhttp strips leading whitespace but keeps trailing whitespace; endField() trims both.
    self(p).fieldsNow().endField();
    return 0;
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onHeadersComplete(llhttp_t* p) {
    MessageParser& s = self(p);
    if (!s.scanner_.done()) return s.onError(s.wording_.status, s.wording_.malformed_head);
    s.head_.version_major = p->http_major;
    s.head_.version_minor = p->http_minor;
    s.body_bytes_ = 0;
    s.chunk_ext_bytes_ = 0;
    s.ext_bytes_ = 0;
    s.framing_gap_ = 0;
    return s.derived().headersComplete(p);
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onBody(llhttp_t* p, const char* at, size_t len) {
    MessageParser& s = self(p);
    if (s.head_.framing == BodyFraming::kChunked) {
        s.framing_gap_ += static_cast<uint64_t>(at - s.gap_mark_);
        if (s.framing_gap_ > kMaxChunkFramingBytes) {
            return s.onError(s.wording_.status, s.wording_.chunk_line_too_long);
        }
        s.framing_gap_ = 0;
        s.gap_mark_ = at + len;
    }
    s.body_bytes_ += len;
    const uint64_t max = s.limits_.max_body_bytes;
    if (max != 0 && s.body_bytes_ > max) return s.onError(413, "body too large");
    if (s.derived().deliverBody(std::string_view(at, len)) == Action::kPause) {
        // The last Content-Length bytes complete the message without reading more input.
        if (s.head_.framing == BodyFraming::kContentLength && p->content_length == 0) return 0;
        s.stop_ = Stop::kBodyPause;
        return HPE_PAUSED;
    }
    return 0;
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onChunkExtension(llhttp_t* p, const char*, size_t len) {
    MessageParser& s = self(p);
    s.chunk_ext_bytes_ += len;
    s.ext_bytes_ += len;
    if (s.chunk_ext_bytes_ > kMaxChunkExtensionBytes || s.ext_bytes_ > s.limits_.max_header_bytes) {
        return s.onError(s.wording_.status, s.wording_.chunk_extensions_too_long);
    }
    return 0;
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onChunkHeader(llhttp_t* p) {
    MessageParser& s = self(p);
    s.chunk_ext_bytes_ = 0;
    const uint64_t size = p->content_length;
    const uint64_t max = s.limits_.max_body_bytes;
    if (max != 0 && size > max - s.body_bytes_) return s.onError(413, "body too large");
    if (size == 0) {
        // Last chunk: the trailer section goes through the scanner like a head does.
        s.stop_ = Stop::kTrailers;
        return HPE_PAUSED;
    }
    return 0;
}

template <typename Derived, typename Head>
int MessageParser<Derived, Head>::onMessageComplete(llhttp_t* p) {
    MessageParser& s = self(p);
    if (s.phase_ == Phase::kTrailers && !s.scanner_.done()) {
        return s.onError(s.wording_.status, s.wording_.malformed_trailers);
    }
    return s.derived().messageComplete(p);
}

template <typename Derived, typename Head>
size_t MessageParser<Derived, Head>::execute(const char* data, size_t len) {
    if (len == 0) return 0;
    stop_ = Stop::kNone;
    gap_mark_ = data;
    const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    if (err == HPE_OK) {
        if (phase_ == Phase::kBody && head_.framing == BodyFraming::kChunked) {
            framing_gap_ += static_cast<uint64_t>(data + len - gap_mark_);
            if (framing_gap_ > kMaxChunkFramingBytes) {
                fail(wording_.status, wording_.chunk_line_too_long);
            }
        }
        return len;
    }
    const size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        // Only our callbacks pause llhttp, and only after saying why.
        if (stop_ == Stop::kNone || stop_ == Stop::kError ||
            (err == HPE_PAUSED_UPGRADE) != (stop_ == Stop::kUpgrade)) {
            fail(wording_.status, "unexpected parser pause");
            return used;
        }
        if (stop_ == Stop::kTrailers) {
            framing_gap_ += static_cast<uint64_t>(data + used - gap_mark_);
        }
        return used;
    }
    if (stop_ == Stop::kError) {
        fail(error_.status, error_.reason);
    } else {
        derived().failLlhttp(err);
    }
    return used;
}

template <typename Derived, typename Head>
std::optional<FeedResult> MessageParser<Derived, Head>::refusal() const {
    if (phase_ == Phase::kFailed) return error_;
    FeedResult result;
    if (phase_ == Phase::kUpgraded) {
        result.kind = FeedResult::kUpgraded;
        return result;
    }
    if (paused_) {
        result.kind = FeedResult::kPaused;
        return result;
    }
    return std::nullopt;
}

template <typename Derived, typename Head>
FeedResult MessageParser<Derived, Head>::feedBytes(std::string_view bytes) {
    FeedResult result;
    size_t pos = 0;
    while (pos < bytes.size()) {
        const std::string_view rest = bytes.substr(pos);
        size_t used = 0;
        stop_ = Stop::kNone;
        if (phase_ == Phase::kHead || phase_ == Phase::kTrailers) {
            // llhttp gets only whole lines the scanner accepted; the partial line waits in line_.
            const HeadScanner::Result scan = scanner_.scan(rest);
            if (scan.complete > 0) {
                if (!line_.empty()) {
                    execute(line_.data(), line_.size());
                    if (phase_ == Phase::kFailed) return error_;
                    line_.clear();
                }
                used = execute(rest.data(), scan.complete);
                if (phase_ == Phase::kFailed) return error_;
            }
            if (scan.error != HeadScanner::Error::kNone && stop_ == Stop::kNone) {
                return failScan(scan);
            }
            if (stop_ == Stop::kNone) {
                if (!scan.done) {
                    line_.append(rest.substr(scan.complete));
                    break;
                }
                // The scanner saw the empty line, so llhttp must have finished the head (and
                // moved to the body) or the trailers (and completed the message).
                if (phase_ != Phase::kBody) return fail(wording_.status, wording_.malformed_head);
            }
        } else {
            used = execute(rest.data(), rest.size());
            if (phase_ == Phase::kFailed) return error_;
        }
        pos += used;
        switch (stop_) {
            case Stop::kNone:
                break;
            case Stop::kInterim:
                startHead();  // the final response follows on the same connection
                break;
            case Stop::kHeadPause:
            case Stop::kBodyPause:
                paused_ = true;
                result.kind = FeedResult::kPaused;
                result.consumed = pos;
                return result;
            case Stop::kComplete:
                paused_ = true;
                derived().messageEnded(Stop::kComplete);
                startHead();
                result.kind = FeedResult::kPaused;
                result.consumed = pos;
                return result;
            case Stop::kUpgrade:
                phase_ = Phase::kUpgraded;
                derived().messageEnded(Stop::kUpgrade);
                result.kind = FeedResult::kUpgraded;
                result.consumed = pos;
                return result;
            case Stop::kTrailers:
                llhttp_resume(&parser_);
                phase_ = Phase::kTrailers;
                scanner_.reset(HeadScanner::Mode::kTrailers, limits_.max_header_bytes,
                               limits_.max_fields);
                line_.clear();
                break;
            case Stop::kError:
                return error_;
        }
    }
    result.kind = FeedResult::kOk;
    result.consumed = bytes.size();
    return result;
}

template class MessageParser<RequestParser, RequestHead>;
template class MessageParser<ResponseParser, ResponseHead>;

}  // namespace sluice::http
