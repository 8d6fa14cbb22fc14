// Seeded randomness for the plan. std::mt19937_64's output sequence is fixed by the standard, but
// std's distributions and std::shuffle are not, so every draw is made here: the same seed gives
// the same plan with any standard library. Nothing here reads entropy from the system.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace ovl::plan {

class Rng {
 public:
  // A generator for one decision (`stream`: "cases", "ports", ...). Streams of one seed are
  // independent, so e.g. adding a fault to a topology does not reorder its cases.
  Rng(uint64_t seed, std::string_view stream);

  uint64_t Next() { return engine_(); }
  // Uniform in [0, n); n must be > 0. Rejection sampling, so no modulo bias.
  uint64_t Below(uint64_t n);
  // `count` distinct values from [lo, hi), in draw order; requires count <= hi - lo.
  std::vector<uint64_t> Distinct(uint64_t count, uint64_t lo, uint64_t hi);

  // Fisher-Yates shuffle of `v`.
  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[Below(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace ovl::plan
