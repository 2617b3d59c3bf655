#include "http/request_parser.h"

#include "http/request_validator.h"

namespace sluice::http {
namespace {

constexpr MessageWording kRequestWording{
    400,
    414,
    431,
    505,
    nullptr,
    nullptr,
    "malformed header section",
    "malformed trailer section",
    "chunk size line too long",
    "chunk extensions too long",
    "llhttp and the validator disagree on the framing",
    "malformed request",
};

}  // namespace

RequestParser::RequestParser(RequestHandler& handler, const RequestLimits& limits)
    : MessageParser(HTTP_REQUEST, &RequestHead::target, HeadScanner::Mode::kRequest,
                    kRequestWording,
                    {limits.max_header_bytes, limits.max_headers, limits.max_body_bytes}),
      handler_(&handler) {}

void RequestParser::reset(RequestHandler& handler, const RequestLimits& limits) {
    handler_ = &handler;
    limits_ = {limits.max_header_bytes, limits.max_headers, limits.max_body_bytes};
    restart();
}

int RequestParser::headersComplete(llhttp_t* p) {
    RequestHead& head = head_;
    head.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    Verdict v = validateRequestHead(head, limits_.max_body_bytes);
    if (!v.ok()) return onError(v.status, v.reason);
    // Cannot fail today: the validator refuses every head whose framing fields are repeated,
    // conflicting or malformed, and on what is left llhttp 8.1 (strict) reads Content-Length and
    // a final "chunked" as it does. It guards the day they part (an llhttp upgrade, a validator
    // change): llhttp would then frame the body one way while we forward it framed another,
    // which is a request smuggled past us.
    if (!framingAgrees(p->flags, p->content_length, head.framing, head.content_length)) {
        return onError(400, wording_.framing_mismatch);
    }
    head.keep_alive = head.keep_alive && llhttp_should_keep_alive(p) != 0;
    // llhttp treats any "Connection: upgrade" + "Upgrade" as a protocol switch; only
    // websocket is one for us. Clearing the flag here makes llhttp parse on as HTTP.
    p->upgrade = head.upgrade ? 1 : 0;
    phase_ = Phase::kBody;
    const Action action = handler_->onRequestHead(head);
    return afterHead(head.framing == BodyFraming::kNone ? Action::kContinue : action);
}

Action RequestParser::deliverBody(std::string_view decoded) {
    return handler_->onRequestBody(decoded);
}

int RequestParser::messageComplete(llhttp_t*) {
    handler_->onRequestComplete();
    if (head_.upgrade) {
        stop_ = Stop::kUpgrade;
        return 0;  // llhttp stops with HPE_PAUSED_UPGRADE
    }
    stop_ = Stop::kComplete;
    return HPE_PAUSED;
}

void RequestParser::failLlhttp(llhttp_errno_t err) {
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
        default:
            MessageParser::failLlhttp(err);
            break;
    }
}

FeedResult RequestParser::feed(std::string_view bytes) {
    if (auto refused = refusal()) return *refused;
    return feedBytes(bytes);
}

bool RequestParser::inHead() const { return phase_ == Phase::kHead && scanner_.started(); }

bool RequestParser::idle() const {
    return phase_ == Phase::kHead && !scanner_.started() && line_.empty();
}

}  // namespace sluice::http
