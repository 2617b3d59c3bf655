#include "upstream/balancer/key_hash.h"

#include <cstddef>

namespace sluice::upstream {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// Little-endian assembly keeps the hash the same on every architecture; compilers turn it into
// one load on little-endian machines.
uint64_t load64(const unsigned char* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
    return v;
}

}  // namespace

uint64_t keyHash(std::string_view bytes, uint64_t seed) {
    // Eight bytes per round through a bijective mixer; the length goes in first so that keys
    // differing only by trailing zero bytes differ, and the seed is mixed before any data.
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    size_t n = bytes.size();
    uint64_t h = mix64(seed + kGolden) ^ (uint64_t{n} * kGolden);
    for (; n >= 8; n -= 8, p += 8) h = mix64(h ^ load64(p, 8)) + kGolden;
    return mix64(h ^ load64(p, n));
}

}  // namespace sluice::upstream
