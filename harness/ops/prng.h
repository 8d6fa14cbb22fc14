// Seeded randomness for fixtures and generated workloads. std::mt19937_64's sequence is fixed by
// the standard but std's distributions are not, so draws are made here: the same seed gives the
// same fixture and workload with any standard library. Nothing reads entropy from the system.
#pragma once

#include <cstdint>
#include <random>

namespace ovl::ops {

class Prng {
 public:
  explicit Prng(uint64_t seed) : engine_(seed) {}

  uint64_t Next() { return engine_(); }
  // Uniform in [0, n); n must be > 0. Rejection sampling, so no modulo bias.
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do {
      v = engine_();
    } while (v >= limit);
    return v % n;
  }
  // True with probability percent / 100.
  bool Percent(uint64_t percent) { return Below(100) < percent; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace ovl::ops
