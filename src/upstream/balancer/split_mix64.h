#pragma once
// SplitMix64: a tiny, fast, seedable PRNG (Steele, Lea, Flood 2014). The same seed always yields
// the same sequence, which keeps the random balancers reproducible in tests. Not cryptographic.

#include <cstdint>

namespace sluice::upstream {

class SplitMix64 {
  public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}

    uint64_t next() {
        state_ += 0x9e3779b97f4a7c15ULL;
        uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    // Uniform in [0, n); n must be > 0. The modulo bias is below n / 2^64: nothing for weights.
    uint64_t below(uint64_t n) { return next() % n; }

  private:
    uint64_t state_;
};

}  // namespace sluice::upstream
