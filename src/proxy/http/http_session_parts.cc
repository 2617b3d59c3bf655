#include "proxy/http/http_session_parts.h"

#include "proxy/pooled_string.h"

namespace sluice::proxy {
namespace {

// The parser's handler while the parts sit in the pool (never called: a pooled parser is fed
// nothing).
class IdleRequestHandler final : public http::RequestHandler {
    http::Action onRequestHead(http::RequestHead&) override { return http::Action::kPause; }
    http::Action onRequestBody(std::string_view) override { return http::Action::kPause; }
    void onRequestComplete() override {}
};
IdleRequestHandler idle_request_handler;

}  // namespace

HttpSessionParts::HttpSessionParts() : parser(idle_request_handler, http::RequestLimits{}) {}

void HttpSessionParts::clear() {
    // Not reset here: take() resets it for its next connection (one reset per request, not
    // two, on a keep-alive connection that gives its parts back between requests).
    parser.setHandler(idle_request_handler);
    clearPooledString(client_in);
    clearPooledString(response_head);
    clearPooledString(scratch);
}

std::unique_ptr<HttpSessionParts> HttpSessionPartsPool::take(http::RequestHandler& handler,
                                                             const http::RequestLimits& limits) {
    std::unique_ptr<HttpSessionParts> parts;
    if (spare_.empty()) {
        parts = std::make_unique<HttpSessionParts>();
    } else {
        parts = std::move(spare_.back());
        spare_.pop_back();
    }
    parts->parser.reset(handler, limits);
    return parts;
}

void HttpSessionPartsPool::give(std::unique_ptr<HttpSessionParts> parts) {
    if (!parts || spare_.size() >= kMaxSpare) return;
    parts->clear();
    spare_.push_back(std::move(parts));
}

void HttpSessionPartsPool::shrink(size_t keep) {
    if (spare_.size() <= keep) return;
    spare_.resize(keep);
    spare_.shrink_to_fit();
}

}  // namespace sluice::proxy
