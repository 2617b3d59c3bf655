#include "proxy/edge/keyed_hash.h"

#include <cstring>
#include <random>

namespace sluice::proxy::edge {
namespace {

uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
    uint64_t v0, v1, v2, v3;

    void round() {
        v0 += v1;
        v1 = rotl(v1, 13);
        v1 ^= v0;
        v0 = rotl(v0, 32);
        v2 += v3;
        v3 = rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rotl(v1, 17);
        v1 ^= v2;
        v2 = rotl(v2, 32);
    }
    void absorb(uint64_t m) {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

uint64_t loadLittleEndian64(const unsigned char* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

}  // namespace

KeyedHash KeyedHash::random() {
    std::random_device rd;
    auto draw = [&] { return (static_cast<uint64_t>(rd()) << 32) ^ rd(); };
    const uint64_t k0 = draw();
    return KeyedHash(k0, draw());
}

uint64_t KeyedHash::operator()(std::string_view bytes) const {
    SipState s{k0_ ^ 0x736f6d6570736575ull, k1_ ^ 0x646f72616e646f6dull,
               k0_ ^ 0x6c7967656e657261ull, k1_ ^ 0x7465646279746573ull};
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const size_t n = bytes.size();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) s.absorb(loadLittleEndian64(p + i));
    // The last word: the remaining bytes, and the length's low byte in the top byte.
    unsigned char tail[8] = {};
    if (n > i) std::memcpy(tail, p + i, n - i);
    tail[7] = static_cast<unsigned char>(n);
    s.absorb(loadLittleEndian64(tail));
    s.v2 ^= 0xff;
    for (int r = 0; r < 4; ++r) s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace sluice::proxy::edge
