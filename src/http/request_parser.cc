#include "http/request_parser.h"

#include "http/request_validator.h"

namespace sluice::http {

struct RequestParserCallbacks {
    static RequestParser& self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }

    static int onMessageBegin(llhttp_t* p) {
        RequestParser& s = self(p);
        // The previous request's head stays readable until the next one starts.
        s.head_.clear();
        return 0;
    }

    static int onUrl(llhttp_t* p, const char* at, size_t len) {
        self(p).head_.target.append(at, len);
        return 0;
    }

    static int onHeaderField(llhttp_t* p, const char* at, size_t len) {
        RequestParser& s = self(p);
        if (s.phase_ == RequestParser::Phase::kHead) {
            s.head_.headers.appendName(std::string_view(at, len));
        }
        return 0;
    }

    static int onHeaderValue(llhttp_t* p, const char* at, size_t len) {
        RequestParser& s = self(p);
        if (s.phase_ == RequestParser::Phase::kHead) {
            s.head_.headers.appendValue(std::string_view(at, len));
        }
        return 0;
    }

    static int onHeaderValueComplete(llhttp_t* p) {
        RequestParser& s = self(p);
        if (s.phase_ != RequestParser::Phase::kHead) return 0;  // trailers are discarded
        // llhttp strips leading whitespace but keeps trailing whitespace; endField() trims both.
        s.head_.headers.endField();
        return 0;
    }

    static int onHeadersComplete(llhttp_t* p) {
        RequestParser& s = self(p);
        if (!s.scanner_.done()) return s.onError(400, "malformed header section");
        RequestHead& head = s.head_;
        head.version_major = p->http_major;
        head.version_minor = p->http_minor;
        head.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
        Verdict v = validateRequestHead(head, s.limits_.max_body_bytes);
        if (!v.ok()) return s.onError(v.status, v.reason);
        head.keep_alive = head.keep_alive && llhttp_should_keep_alive(p) != 0;
        // llhttp treats any "Connection: upgrade" + "Upgrade" as a protocol switch; only
        // websocket is one for us. Clearing the flag here makes llhttp parse on as HTTP.
        p->upgrade = head.upgrade ? 1 : 0;
        s.phase_ = RequestParser::Phase::kBody;
        s.body_bytes_ = 0;
        s.chunk_ext_bytes_ = 0;
        s.ext_bytes_ = 0;
        s.framing_gap_ = 0;
        if (s.handler_.onRequestHead(head) == Action::kPause &&
            head.framing != BodyFraming::kNone) {
            s.stop_ = RequestParser::Stop::kHeadPause;
            return HPE_PAUSED;
        }
        return 0;
    }

    static int onBody(llhttp_t* p, const char* at, size_t len) {
        RequestParser& s = self(p);
        if (s.head_.framing == BodyFraming::kChunked) {
            s.framing_gap_ += static_cast<uint64_t>(at - s.gap_mark_);
            if (s.framing_gap_ > kMaxChunkFramingBytes) {
                return s.onError(400, "chunk size line too long");
            }
            s.framing_gap_ = 0;
            s.gap_mark_ = at + len;
        }
        s.body_bytes_ += len;
        const uint64_t max = s.limits_.max_body_bytes;
        if (max != 0 && s.body_bytes_ > max) return s.onError(413, "body too large");
        if (s.handler_.onRequestBody(std::string_view(at, len)) == Action::kPause) {
            // The last Content-Length bytes complete the request without reading more input.
            if (s.head_.framing == BodyFraming::kContentLength && p->content_length == 0) return 0;
            s.stop_ = RequestParser::Stop::kBodyPause;
            return HPE_PAUSED;
        }
        return 0;
    }

    static int onChunkExtension(llhttp_t* p, const char*, size_t len) {
        RequestParser& s = self(p);
        s.chunk_ext_bytes_ += len;
        s.ext_bytes_ += len;
        if (s.chunk_ext_bytes_ > kMaxChunkExtensionBytes ||
            s.ext_bytes_ > s.limits_.max_header_bytes) {
            return s.onError(400, "chunk extensions too long");
        }
        return 0;
    }

    static int onChunkHeader(llhttp_t* p) {
        RequestParser& s = self(p);
        s.chunk_ext_bytes_ = 0;
        const uint64_t size = p->content_length;
        const uint64_t max = s.limits_.max_body_bytes;
        if (max != 0 && size > max - s.body_bytes_) return s.onError(413, "body too large");
        if (size == 0) {
            // Last chunk: the trailer section goes through the scanner like a head does.
            s.stop_ = RequestParser::Stop::kTrailers;
            return HPE_PAUSED;
        }
        return 0;
    }

    static int onMessageComplete(llhttp_t* p) {
        RequestParser& s = self(p);
        if (s.phase_ == RequestParser::Phase::kTrailers && !s.scanner_.done()) {
            return s.onError(400, "malformed trailer section");
        }
        s.handler_.onRequestComplete();
        if (s.head_.upgrade) {
            s.stop_ = RequestParser::Stop::kUpgrade;
            return 0;  // llhttp stops with HPE_PAUSED_UPGRADE
        }
        s.stop_ = RequestParser::Stop::kComplete;
        return HPE_PAUSED;
    }
};

RequestParser::RequestParser(RequestHandler& handler, const RequestLimits& limits)
    : handler_(handler), limits_(limits) {
    llhttp_settings_init(&settings_);
    settings_.on_message_begin = &RequestParserCallbacks::onMessageBegin;
    settings_.on_url = &RequestParserCallbacks::onUrl;
    settings_.on_header_field = &RequestParserCallbacks::onHeaderField;
    settings_.on_header_value = &RequestParserCallbacks::onHeaderValue;
    settings_.on_header_value_complete = &RequestParserCallbacks::onHeaderValueComplete;
    settings_.on_headers_complete = &RequestParserCallbacks::onHeadersComplete;
    settings_.on_body = &RequestParserCallbacks::onBody;
    settings_.on_chunk_extension_name = &RequestParserCallbacks::onChunkExtension;
    settings_.on_chunk_extension_value = &RequestParserCallbacks::onChunkExtension;
    settings_.on_chunk_header = &RequestParserCallbacks::onChunkHeader;
    settings_.on_message_complete = &RequestParserCallbacks::onMessageComplete;
    // Strict mode is compiled in (LLHTTP_STRICT_MODE=1); no lenient flag is ever set.
    llhttp_init(&parser_, HTTP_REQUEST, &settings_);
    parser_.data = this;
    startHead();
}

void RequestParser::startHead() {
    phase_ = Phase::kHead;
    scanner_.reset(HeadScanner::Mode::kRequest, limits_.max_header_bytes, limits_.max_headers);
    line_.clear();
}

int RequestParser::onError(int status, const char* reason) {
    stop_ = Stop::kError;
    error_.kind = FeedResult::kError;
    error_.status = status;
    error_.reason = reason;
    return HPE_USER;
}

FeedResult RequestParser::fail(int status, const char* reason) {
    phase_ = Phase::kFailed;
    error_.kind = FeedResult::kError;
    error_.consumed = 0;
    error_.status = status;
    error_.reason = reason;
    return error_;
}

size_t RequestParser::execute(const char* data, size_t len) {
    if (len == 0) return 0;
    stop_ = Stop::kNone;
    gap_mark_ = data;
    const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    size_t used = len;
    if (err == HPE_OK) {
        if (phase_ == Phase::kBody && head_.framing == BodyFraming::kChunked) {
            framing_gap_ += static_cast<uint64_t>(data + len - gap_mark_);
            if (framing_gap_ > kMaxChunkFramingBytes) fail(400, "chunk size line too long");
        }
        return used;
    }
    used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        // Only our callbacks pause llhttp, and only after saying why.
        if (stop_ == Stop::kNone || stop_ == Stop::kError ||
            (err == HPE_PAUSED_UPGRADE) != (stop_ == Stop::kUpgrade)) {
            fail(400, "unexpected parser pause");
            return used;
        }
        if (stop_ == Stop::kTrailers) {
            framing_gap_ += static_cast<uint64_t>(data + used - gap_mark_);
        }
        return used;
    }
    if (stop_ == Stop::kError) {
        fail(error_.status, error_.reason);
        return used;
    }
    switch (err) {
        case HPE_INVALID_METHOD:
            // A well-formed token llhttp does not know (QUERY, get) vs garbage.
            if (scanner_.methodIsToken()) {
                fail(501, "method not implemented");
            } else {
                fail(400, "invalid method");
            }
            break;
        case HPE_PAUSED_H2_UPGRADE:
            fail(505, "HTTP/2 preface not supported");
            break;
        case HPE_CLOSED_CONNECTION:
            fail(400, "data after Connection: close");
            break;
        default: {
            const char* reason = llhttp_get_error_reason(&parser_);
            fail(400, reason != nullptr ? reason : "malformed request");
            break;
        }
    }
    return used;
}

FeedResult RequestParser::feed(std::string_view bytes) {
    FeedResult result;
    if (phase_ == Phase::kFailed) return error_;
    if (phase_ == Phase::kUpgraded) {
        result.kind = FeedResult::kUpgraded;
        return result;
    }
    if (paused_) {
        result.kind = FeedResult::kPaused;
        return result;
    }
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
                switch (scan.error) {
                    case HeadScanner::Error::kLineTooLong:
                        return fail(414, scan.reason);
                    case HeadScanner::Error::kTooLarge:
                    case HeadScanner::Error::kTooManyFields:
                        return fail(431, scan.reason);
                    case HeadScanner::Error::kBadVersion:
                        return fail(505, scan.reason);
                    default:
                        return fail(400, scan.reason);
                }
            }
            if (stop_ == Stop::kNone) {
                if (!scan.done) {
                    line_.append(rest.substr(scan.complete));
                    pos = bytes.size();
                    break;
                }
                // The scanner saw the empty line, so llhttp must have finished the head (and
                // moved to the body) or the trailers (and completed the request).
                if (phase_ != Phase::kBody) return fail(400, "malformed header section");
            }
        } else {
            used = execute(rest.data(), rest.size());
            if (phase_ == Phase::kFailed) return error_;
        }
        pos += used;
        switch (stop_) {
            case Stop::kNone:
                break;
            case Stop::kHeadPause:
            case Stop::kBodyPause:
                paused_ = true;
                result.kind = FeedResult::kPaused;
                result.consumed = pos;
                return result;
            case Stop::kComplete:
                paused_ = true;
                startHead();
                result.kind = FeedResult::kPaused;
                result.consumed = pos;
                return result;
            case Stop::kUpgrade:
                phase_ = Phase::kUpgraded;
                result.kind = FeedResult::kUpgraded;
                result.consumed = pos;
                return result;
            case Stop::kTrailers:
                llhttp_resume(&parser_);
                phase_ = Phase::kTrailers;
                scanner_.reset(HeadScanner::Mode::kTrailers, limits_.max_header_bytes,
                               limits_.max_headers);
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

void RequestParser::resume() {
    if (!paused_) return;
    paused_ = false;
    llhttp_resume(&parser_);
}

bool RequestParser::inHead() const { return phase_ == Phase::kHead && scanner_.started(); }

bool RequestParser::idle() const {
    return phase_ == Phase::kHead && !scanner_.started() && line_.empty();
}

}  // namespace sluice::http
