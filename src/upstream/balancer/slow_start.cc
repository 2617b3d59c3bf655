#include "upstream/balancer/slow_start.h"

#include <algorithm>
#include <chrono>

namespace sluice::upstream {

uint32_t slowStartShare(uint64_t now_ms, uint64_t since_ms, uint64_t slow_start_ms) {
    if (slow_start_ms == 0) return kFullShare;
    const uint64_t elapsed = now_ms > since_ms ? now_ms - since_ms : 0;
    if (elapsed >= slow_start_ms) return kFullShare;
    const uint64_t share = uint64_t{kFullShare} * elapsed / slow_start_ms;
    return static_cast<uint32_t>(std::max<uint64_t>(kMinShare, share));
}

uint64_t steadyNowMs() {
    using namespace std::chrono;
    return static_cast<uint64_t>(
        duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

}  // namespace sluice::upstream
