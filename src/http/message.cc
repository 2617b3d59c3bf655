#include "http/message.h"

namespace sluice::http {

std::string_view RequestHead::host() const {
    size_t i = headers.find(FieldName::kHost);
    return i == HeaderList::npos ? std::string_view() : headers.value(i);
}

void RequestHead::clear() {
    // clear() keeps every buffer's capacity so a keep-alive connection does not allocate.
    method.clear();
    target.clear();
    version_major = 1;
    version_minor = 1;
    headers.clear();
    framing = BodyFraming::kNone;
    content_length = 0;
    keep_alive = true;
    upgrade = false;
    expect_continue = false;
}

void ResponseHead::clear() {
    status = 0;
    reason.clear();
    version_major = 1;
    version_minor = 1;
    headers.clear();
    framing = BodyFraming::kNone;
    content_length = 0;
    keep_alive = true;
}

}  // namespace sluice::http
