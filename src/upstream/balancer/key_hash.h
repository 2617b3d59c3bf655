#pragma once
// Hashing for consistent hashing: fast, well mixed, and identical on every machine and process
// (no per-process seed), so all workers and all sluice instances map a key to the same server.

#include <cstdint>
#include <string_view>

namespace sluice::upstream {

// The splitmix64 finalizer: a bijection on 64 bits with full avalanche.
constexpr uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// 64-bit hash of `bytes`; different seeds give independent-looking hashes of the same bytes.
uint64_t keyHash(std::string_view bytes, uint64_t seed = 0);

}  // namespace sluice::upstream
