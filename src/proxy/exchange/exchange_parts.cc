#include "proxy/exchange/exchange_parts.h"

#include "proxy/pooled_string.h"

namespace sluice::proxy {
namespace {

// The parser's handler while the parts sit in the pool (never called: a pooled parser is fed
// nothing).
class NoHandler final : public http::ResponseHandler {
    void onInterimResponse(const http::ResponseHead&) override {}
    http::Action onResponseHead(http::ResponseHead&) override { return http::Action::kPause; }
    http::Action onResponseBody(std::string_view) override { return http::Action::kPause; }
    void onResponseComplete() override {}
};
NoHandler no_handler;

}  // namespace

ExchangeParts::ExchangeParts(uv_loop_t* loop)
    : parser(no_handler), timer(loop, [this] {
          if (owner) owner->onResponseTimeout();
      }) {}

void ExchangeParts::attach(Owner& new_owner, http::ResponseHandler& handler) {
    owner = &new_owner;
    parser.setHandler(handler);
}

void ExchangeParts::clear() {
    owner = nullptr;
    parser.reset();
    parser.setHandler(no_handler);
    timer.stop();  // a deadline only: the libuv timer stays armed (see the header)
    clearPooledString(head_out);
    clearPooledString(request_end);
    clearPooledString(upstream_in);
    clearPooledString(extra);
    clearPooledString(request_id);
}

std::unique_ptr<ExchangeParts> ExchangePartsPool::take() {
    if (spare_.empty()) return std::make_unique<ExchangeParts>(loop_);
    std::unique_ptr<ExchangeParts> parts = std::move(spare_.back());
    spare_.pop_back();
    return parts;
}

void ExchangePartsPool::give(std::unique_ptr<ExchangeParts> parts) {
    if (!parts || closed_ || spare_.size() >= kMaxSpare) return;
    parts->clear();
    spare_.push_back(std::move(parts));
}

void ExchangePartsPool::close() {
    closed_ = true;
    spare_.clear();
}

}  // namespace sluice::proxy
