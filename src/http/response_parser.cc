#include "http/response_parser.h"

#include "http/field_rules.h"

namespace sluice::http {

namespace {

constexpr unsigned kMaxResponseFields = 256;

// The upstream's framing must be as unambiguous as a client's: we re-frame the body for the
// client, so any doubt about where it ends would let one response bleed into the next.
const char* checkResponseFraming(ResponseHead& head, bool head_request) {
    const HeaderList& h = head.headers;
    const size_t cl_index = h.find(FieldName::kContentLength);
    const size_t te_index = h.find(FieldName::kTransferEncoding);
    head.framing = BodyFraming::kNone;
    head.content_length = 0;
    if (te_index != HeaderList::npos && cl_index != HeaderList::npos) {
        return "upstream sent both Content-Length and Transfer-Encoding";
    }
    if (cl_index != HeaderList::npos) {
        if (h.find(FieldName::kContentLength, cl_index + 1) != HeaderList::npos) {
            return "upstream sent repeated Content-Length";
        }
        uint64_t length = 0;
        if (!parseContentLength(h.value(cl_index), length)) {
            return "upstream sent invalid Content-Length";
        }
        head.content_length = length;
    }
    if (te_index != HeaderList::npos) {
        if (h.find(FieldName::kTransferEncoding, te_index + 1) != HeaderList::npos) {
            return "upstream sent repeated Transfer-Encoding";
        }
        if (head.version_minor == 0) return "upstream sent Transfer-Encoding in HTTP/1.0";
        if (parseTransferEncoding(h.value(te_index)) != CodingVerdict::kChunked) {
            return "upstream sent unsupported Transfer-Encoding";
        }
    }
    const bool bodiless =
        head_request || head.status < 200 || head.status == 204 || head.status == 304;
    if (bodiless) return nullptr;
    if (te_index != HeaderList::npos) {
        head.framing = BodyFraming::kChunked;
    } else if (cl_index != HeaderList::npos) {
        head.framing = head.content_length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
    } else {
        head.framing = BodyFraming::kUntilClose;
    }
    return nullptr;
}

bool responseKeepAlive(const ResponseHead& head) {
    const HeaderList& h = head.headers;
    bool close = false, keep_alive = false;
    for (size_t i = h.find(FieldName::kConnection); i != HeaderList::npos;
         i = h.find(FieldName::kConnection, i + 1)) {
        close = close || listHasToken(h.value(i), "close");
        keep_alive = keep_alive || listHasToken(h.value(i), "keep-alive");
    }
    if (close || head.framing == BodyFraming::kUntilClose) return false;
    return head.version_minor == 1 || keep_alive;
}

}  // namespace

struct ResponseParserCallbacks {
    using Phase = ResponseParser::Phase;
    using Stop = ResponseParser::Stop;

    static ResponseParser& self(llhttp_t* p) { return *static_cast<ResponseParser*>(p->data); }

    static int onMessageBegin(llhttp_t* p) {
        ResponseParser& s = self(p);
        s.head_.clear();
        return 0;
    }

    static int onStatus(llhttp_t* p, const char* at, size_t len) {
        self(p).head_.reason.append(at, len);
        return 0;
    }

    static int onHeaderField(llhttp_t* p, const char* at, size_t len) {
        ResponseParser& s = self(p);
        if (s.phase_ == Phase::kHead) s.head_.headers.appendName(std::string_view(at, len));
        return 0;
    }

    static int onHeaderValue(llhttp_t* p, const char* at, size_t len) {
        ResponseParser& s = self(p);
        if (s.phase_ == Phase::kHead) s.head_.headers.appendValue(std::string_view(at, len));
        return 0;
    }

    static int onHeaderValueComplete(llhttp_t* p) {
        ResponseParser& s = self(p);
        if (s.phase_ != Phase::kHead) return 0;  // trailers are discarded
        s.head_.headers.endField();              // trims the value
        return 0;
    }

    static int onHeadersComplete(llhttp_t* p) {
        ResponseParser& s = self(p);
        if (!s.scanner_.done()) return s.onError("upstream sent a malformed header section");
        ResponseHead& head = s.head_;
        head.version_major = p->http_major;
        head.version_minor = p->http_minor;
        head.status = p->status_code;
        if (head.version_major != 1 || head.version_minor > 1) {
            return s.onError("upstream HTTP version not supported");
        }
        if (head.status < 100 || head.status > 599) return s.onError("upstream sent bad status");
        if (const char* bad = checkResponseFraming(head, s.head_request_)) return s.onError(bad);
        head.keep_alive = responseKeepAlive(head) && llhttp_should_keep_alive(p) != 0;
        if (head.status == 101) {
            p->upgrade = 1;  // whatever the headers: the upstream now speaks something else
            s.handler_.onResponseHead(head);
            return 1;  // no body; llhttp completes and stops with HPE_PAUSED_UPGRADE
        }
        p->upgrade = 0;
        if (head.status < 200) {
            if (++s.interim_responses_ > kMaxInterimResponses) {
                return s.onError("upstream sent too many interim responses");
            }
            s.handler_.onInterimResponse(head);
            return 1;
        }
        s.phase_ = Phase::kBody;
        s.chunk_ext_bytes_ = 0;
        s.ext_bytes_ = 0;
        s.framing_gap_ = 0;
        const Action action = s.handler_.onResponseHead(head);
        if (head.framing == BodyFraming::kNone) return 1;  // HEAD, 204, 304, CL: 0
        if (action == Action::kPause) {
            s.stop_ = Stop::kHeadPause;
            return HPE_PAUSED;
        }
        return 0;
    }

    static int onBody(llhttp_t* p, const char* at, size_t len) {
        ResponseParser& s = self(p);
        if (s.head_.framing == BodyFraming::kChunked) {
            s.framing_gap_ += static_cast<uint64_t>(at - s.gap_mark_);
            if (s.framing_gap_ > kMaxChunkFramingBytes) {
                return s.onError("upstream sent a chunk size line too long");
            }
            s.framing_gap_ = 0;
            s.gap_mark_ = at + len;
        }
        if (s.handler_.onResponseBody(std::string_view(at, len)) == Action::kPause) {
            if (s.head_.framing == BodyFraming::kContentLength && p->content_length == 0) return 0;
            s.stop_ = Stop::kBodyPause;
            return HPE_PAUSED;
        }
        return 0;
    }

    static int onChunkExtension(llhttp_t* p, const char*, size_t len) {
        ResponseParser& s = self(p);
        s.chunk_ext_bytes_ += len;
        s.ext_bytes_ += len;
        if (s.chunk_ext_bytes_ > kMaxChunkExtensionBytes || s.ext_bytes_ > s.max_header_bytes_) {
            return s.onError("upstream sent chunk extensions too long");
        }
        return 0;
    }

    static int onChunkHeader(llhttp_t* p) {
        ResponseParser& s = self(p);
        s.chunk_ext_bytes_ = 0;
        if (p->content_length == 0) {
            s.stop_ = Stop::kTrailers;
            return HPE_PAUSED;
        }
        return 0;
    }

    static int onMessageComplete(llhttp_t* p) {
        ResponseParser& s = self(p);
        if (s.phase_ == Phase::kTrailers && !s.scanner_.done()) {
            return s.onError("upstream sent a malformed trailer section");
        }
        if (s.head_.status == 101) {
            s.stop_ = Stop::kUpgrade;
            return 0;
        }
        if (s.head_.status < 200) {
            s.stop_ = Stop::kInterim;
            return 0;
        }
        s.handler_.onResponseComplete();
        s.stop_ = Stop::kComplete;
        return HPE_PAUSED;
    }
};

ResponseParser::ResponseParser(ResponseHandler& handler, uint64_t max_header_bytes)
    : handler_(handler), max_header_bytes_(max_header_bytes) {
    llhttp_settings_init(&settings_);
    settings_.on_message_begin = &ResponseParserCallbacks::onMessageBegin;
    settings_.on_status = &ResponseParserCallbacks::onStatus;
    settings_.on_header_field = &ResponseParserCallbacks::onHeaderField;
    settings_.on_header_value = &ResponseParserCallbacks::onHeaderValue;
    settings_.on_header_value_complete = &ResponseParserCallbacks::onHeaderValueComplete;
    settings_.on_headers_complete = &ResponseParserCallbacks::onHeadersComplete;
    settings_.on_body = &ResponseParserCallbacks::onBody;
    settings_.on_chunk_extension_name = &ResponseParserCallbacks::onChunkExtension;
    settings_.on_chunk_extension_value = &ResponseParserCallbacks::onChunkExtension;
    settings_.on_chunk_header = &ResponseParserCallbacks::onChunkHeader;
    settings_.on_message_complete = &ResponseParserCallbacks::onMessageComplete;
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
    startHead();
}

void ResponseParser::setRequestMethod(std::string_view method) {
    head_request_ = method == "HEAD";
    expecting_ = true;
}

void ResponseParser::startHead() {
    phase_ = Phase::kHead;
    scanner_.reset(HeadScanner::Mode::kResponse, max_header_bytes_, kMaxResponseFields);
    line_.clear();
}

int ResponseParser::onError(const char* reason) {
    stop_ = Stop::kError;
    error_.kind = FeedResult::kError;
    error_.status = 502;
    error_.reason = reason;
    return HPE_USER;
}

FeedResult ResponseParser::fail(const char* reason) {
    phase_ = Phase::kFailed;
    error_.kind = FeedResult::kError;
    error_.consumed = 0;
    error_.status = 502;
    error_.reason = reason;
    return error_;
}

size_t ResponseParser::execute(const char* data, size_t len) {
    if (len == 0) return 0;
    stop_ = Stop::kNone;
    gap_mark_ = data;
    const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    if (err == HPE_OK) {
        if (phase_ == Phase::kBody && head_.framing == BodyFraming::kChunked) {
            framing_gap_ += static_cast<uint64_t>(data + len - gap_mark_);
            if (framing_gap_ > kMaxChunkFramingBytes) {
                fail("upstream sent a chunk size line too long");
            }
        }
        return len;
    }
    const size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        // Only our callbacks pause llhttp, and only after saying why.
        if (stop_ == Stop::kNone || stop_ == Stop::kError ||
            (err == HPE_PAUSED_UPGRADE) != (stop_ == Stop::kUpgrade)) {
            fail("unexpected parser pause");
            return used;
        }
        if (stop_ == Stop::kTrailers) {
            framing_gap_ += static_cast<uint64_t>(data + used - gap_mark_);
        }
        return used;
    }
    if (stop_ == Stop::kError) {
        fail(error_.reason);
    } else {
        const char* reason = llhttp_get_error_reason(&parser_);
        fail(reason != nullptr ? reason : "upstream sent a malformed response");
    }
    return used;
}

FeedResult ResponseParser::feed(std::string_view bytes) {
    FeedResult result;
    if (phase_ == Phase::kFailed) return error_;
    if (phase_ == Phase::kClosed) return fail("response parser fed after EOF");
    if (phase_ == Phase::kUpgraded) {
        result.kind = FeedResult::kUpgraded;
        return result;
    }
    if (paused_) {
        result.kind = FeedResult::kPaused;
        return result;
    }
    if (!bytes.empty()) started_ = true;
    size_t pos = 0;
    while (pos < bytes.size()) {
        const std::string_view rest = bytes.substr(pos);
        size_t used = 0;
        stop_ = Stop::kNone;
        if (phase_ == Phase::kHead || phase_ == Phase::kTrailers) {
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
                return fail(scan.error == HeadScanner::Error::kTooLarge ||
                                    scan.error == HeadScanner::Error::kTooManyFields
                                ? "upstream response head too large"
                                : "upstream sent a malformed response head");
            }
            if (stop_ == Stop::kNone) {
                if (!scan.done) {
                    line_.append(rest.substr(scan.complete));
                    break;
                }
                if (phase_ != Phase::kBody) return fail("upstream sent a malformed header section");
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
                expecting_ = false;
                started_ = false;
                interim_responses_ = 0;
                startHead();
                result.kind = FeedResult::kPaused;
                result.consumed = pos;
                return result;
            case Stop::kUpgrade:
                phase_ = Phase::kUpgraded;
                expecting_ = false;
                result.kind = FeedResult::kUpgraded;
                result.consumed = pos;
                return result;
            case Stop::kTrailers:
                llhttp_resume(&parser_);
                phase_ = Phase::kTrailers;
                scanner_.reset(HeadScanner::Mode::kTrailers, max_header_bytes_, kMaxResponseFields);
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

FeedResult ResponseParser::finish() {
    FeedResult result;
    switch (phase_) {
        case Phase::kFailed:
            return error_;
        case Phase::kUpgraded:
            result.kind = FeedResult::kUpgraded;
            return result;
        case Phase::kClosed:
            return result;
        case Phase::kHead:
            if (!started_) {
                phase_ = Phase::kClosed;
                if (expecting_) return fail("upstream closed before responding");
                return result;
            }
            return fail("upstream closed mid-response");
        case Phase::kTrailers:
            return fail("upstream closed mid-response");
        case Phase::kBody:
            break;
    }
    if (head_.framing != BodyFraming::kUntilClose) return fail("upstream closed mid-response");
    // A pending handler pause would make llhttp_finish a no-op.
    paused_ = false;
    llhttp_resume(&parser_);
    stop_ = Stop::kNone;
    const llhttp_errno_t err = llhttp_finish(&parser_);
    if (stop_ != Stop::kComplete || (err != HPE_OK && err != HPE_PAUSED)) {
        return fail("upstream closed mid-response");
    }
    phase_ = Phase::kClosed;
    expecting_ = false;
    started_ = false;
    return result;
}

void ResponseParser::resume() {
    if (!paused_) return;
    paused_ = false;
    llhttp_resume(&parser_);
}

void ResponseParser::reset() {
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
    head_.clear();
    stop_ = Stop::kNone;
    head_request_ = false;
    expecting_ = false;
    started_ = false;
    paused_ = false;
    interim_responses_ = 0;
    chunk_ext_bytes_ = 0;
    ext_bytes_ = 0;
    framing_gap_ = 0;
    gap_mark_ = nullptr;
    error_ = FeedResult{};
    startHead();
}

bool ResponseParser::started() const { return started_; }

}  // namespace sluice::http
