#pragma once
// Buffers that per-worker pools hand from one request to the next (exchange parts, session
// parts) keep their capacity, so a warm worker does not allocate per request; but one that grew
// for a large message is freed rather than kept, so a pool never holds more than
// kMaxPooledStringBytes per buffer.

#include <cstddef>
#include <string>

namespace sluice::proxy {

inline constexpr size_t kMaxPooledStringBytes = 16 * 1024;

inline void clearPooledString(std::string& s) {
    s.clear();
    if (s.capacity() > kMaxPooledStringBytes) std::string().swap(s);
}

}  // namespace sluice::proxy
