#include "http/response_parser.h"

#include "http/field_rules.h"

namespace sluice::http {

namespace {

constexpr unsigned kMaxResponseFields = 256;

constexpr MessageWording kResponseWording{
    502,
    502,
    502,
    502,
    "upstream response head too large",
    "upstream sent a malformed response head",
    "upstream sent a malformed header section",
    "upstream sent a malformed trailer section",
    "upstream sent a chunk size line too long",
    "upstream sent chunk extensions too long",
    "llhttp and the validator disagree on the upstream's framing",
    "upstream sent a malformed response",
};

bool bodiless(const ResponseHead& head, bool head_request) {
    return head_request || head.status < 200 || head.status == 204 || head.status == 304;
}

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
    if (bodiless(head, head_request)) return nullptr;
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

ResponseParser::ResponseParser(ResponseHandler& handler, uint64_t max_header_bytes)
    : MessageParser(HTTP_RESPONSE, &ResponseHead::reason, HeadScanner::Mode::kResponse,
                    kResponseWording, {max_header_bytes, kMaxResponseFields, 0}),
      handler_(&handler) {}

int ResponseParser::headersComplete(llhttp_t* p) {
    ResponseHead& head = head_;
    head.status = p->status_code;
    if (head.version_major != 1 || head.version_minor > 1) {
        return onError(502, "upstream HTTP version not supported");
    }
    if (head.status < 100 || head.status > 599) return onError(502, "upstream sent bad status");
    if (const char* bad = checkResponseFraming(head, head_request_)) return onError(502, bad);
    // As for requests (RequestParser::headersComplete): cannot fail today, guards an llhttp
    // whose reading of the framing fields parts from ours. A bodiless response has none to read.
    if (!bodiless(head, head_request_) &&
        !framingAgrees(p->flags, p->content_length, head.framing, head.content_length)) {
        return onError(502, wording_.framing_mismatch);
    }
    head.keep_alive = responseKeepAlive(head) && llhttp_should_keep_alive(p) != 0;
    if (head.status == 101) {
        p->upgrade = 1;  // whatever the headers: the upstream now speaks something else
        handler_->onResponseHead(head);
        return 1;  // no body; llhttp completes and stops with HPE_PAUSED_UPGRADE
    }
    p->upgrade = 0;
    if (head.status < 200) {
        if (++interim_responses_ > kMaxInterimResponses) {
            return onError(502, "upstream sent too many interim responses");
        }
        handler_->onInterimResponse(head);
        return 1;
    }
    phase_ = Phase::kBody;
    const Action action = handler_->onResponseHead(head);
    if (head.framing == BodyFraming::kNone) return 1;  // HEAD, 204, 304, CL: 0
    return afterHead(action);
}

Action ResponseParser::deliverBody(std::string_view decoded) {
    return handler_->onResponseBody(decoded);
}

int ResponseParser::messageComplete(llhttp_t*) {
    if (head_.status == 101) {
        stop_ = Stop::kUpgrade;
        return 0;
    }
    if (head_.status < 200) {
        stop_ = Stop::kInterim;
        return 0;
    }
    handler_->onResponseComplete();
    stop_ = Stop::kComplete;
    return HPE_PAUSED;
}

void ResponseParser::messageEnded(Stop how) {
    expecting_ = false;
    if (how == Stop::kComplete) {
        started_ = false;
        interim_responses_ = 0;
    }
}

void ResponseParser::setRequestMethod(std::string_view method) {
    head_request_ = method == "HEAD";
    expecting_ = true;
}

FeedResult ResponseParser::feed(std::string_view bytes) {
    if (phase_ == Phase::kClosed) return fail(502, "response parser fed after EOF");
    if (auto refused = refusal()) return *refused;
    if (!bytes.empty()) started_ = true;
    return feedBytes(bytes);
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
                if (expecting_) return fail(502, "upstream closed before responding");
                return result;
            }
            return fail(502, "upstream closed mid-response");
        case Phase::kTrailers:
            return fail(502, "upstream closed mid-response");
        case Phase::kBody:
            break;
    }
    if (head_.framing != BodyFraming::kUntilClose) return fail(502, "upstream closed mid-response");
    // A pending handler pause would make llhttp_finish a no-op.
    paused_ = false;
    llhttp_resume(&parser_);
    stop_ = Stop::kNone;
    const llhttp_errno_t err = llhttp_finish(&parser_);
    if (stop_ != Stop::kComplete || (err != HPE_OK && err != HPE_PAUSED)) {
        return fail(502, "upstream closed mid-response");
    }
    phase_ = Phase::kClosed;
    expecting_ = false;
    started_ = false;
    return result;
}

void ResponseParser::reset() {
    head_request_ = false;
    expecting_ = false;
    started_ = false;
    interim_responses_ = 0;
    restart();
}

}  // namespace sluice::http
