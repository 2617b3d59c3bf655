#pragma once
// SipHash-2-4 (Aumasson and Bernstein, 2012): a 64-bit hash under a 128-bit secret key, for the
// client-keyed tables of the edge limiters. Keyed because the keys come from the network (client
// addresses, header values): with a random secret per table a client cannot choose keys that
// collide or that crowd one part of a table. Pure, thread-safe (const after construction).
// Hand-written (style rule 12): the layers that may include OpenSSL's SipHash are below tls/
// only, and the algorithm is 40 lines.

#include <cstdint>
#include <string_view>

namespace sluice::proxy::edge {

class KeyedHash {
  public:
    KeyedHash(uint64_t k0, uint64_t k1) : k0_(k0), k1_(k1) {}
    // A secret drawn from std::random_device.
    static KeyedHash random();

    uint64_t operator()(std::string_view bytes) const;

  private:
    uint64_t k0_, k1_;
};

// Maps a hash uniformly onto [0, n) (Lemire's multiply-shift, no division).
inline uint64_t reduceToRange(uint64_t hash, uint64_t n) {
    __extension__ typedef unsigned __int128 Wide;  // GCC and clang; __extension__: -Wpedantic
    return static_cast<uint64_t>((static_cast<Wide>(hash) * n) >> 64);
}

}  // namespace sluice::proxy::edge
