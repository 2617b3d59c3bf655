#include "http/message.h"

namespace sluice::http {

std::string_view RequestHead::host() const {
    size_t i = headers.find(FieldName::kHost);
    return i == HeaderList::npos ? std::string_view() : headers.value(i);
}

void MessageHead::clearMessage() {
    version_major = 1;
    version_minor = 1;
    headers.clear();
    framing = BodyFraming::kNone;
    content_length = 0;
    keep_alive = true;
}

void RequestHead::clear() {
    clearMessage();
    method.clear();
    target.clear();
    upgrade = false;
    expect_continue = false;
}

void ResponseHead::clear() {
    clearMessage();
    status = 0;
    reason.clear();
}

}  // namespace sluice::http
