#include "http2/preface.h"

namespace sluice::http2 {

PrefaceMatch looksLikeH2Preface(std::string_view first_bytes) {
    const size_t n =
        first_bytes.size() < kClientPreface.size() ? first_bytes.size() : kClientPreface.size();
    if (first_bytes.substr(0, n) != kClientPreface.substr(0, n)) return PrefaceMatch::kNotHttp2;
    return n == kClientPreface.size() ? PrefaceMatch::kHttp2 : PrefaceMatch::kNeedMore;
}

}  // namespace sluice::http2
