// Seeded randomness for plans, workloads and fixtures: one generator, so that a seed recorded in
// docs/findings.md reproduces the same plan, workload and fixture bytes with any standard
// library. std::mt19937_64's sequence is fixed by the standard but std's distributions and
// std::shuffle are not, so every draw is made here. Nothing here reads entropy from the system.
// harness/ops/seed_stability_test.cc pins the output of every constructor and of Bytes.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ovl {

class Prng {
 public:
  // The engine seeded with `seed` itself (workloads, fixture generation).
  explicit Prng(uint64_t seed) : engine_(seed) {}
  // A generator for one decision (`stream`: "cases", "ports/<topology>", ...). Streams of one
  // seed are independent, so e.g. adding a fault to a topology does not reorder its cases.
  Prng(uint64_t seed, std::string_view stream);

  uint64_t Next() { return engine_(); }
  // Uniform in [0, n); n must be > 0. Rejection sampling, so no modulo bias.
  uint64_t Below(uint64_t n);
  // True with probability percent / 100.
  bool Percent(uint64_t percent) { return Below(100) < percent; }
  // `count` distinct values from [lo, hi), in draw order; requires count <= hi - lo.
  std::vector<uint64_t> Distinct(uint64_t count, uint64_t lo, uint64_t hi);

  // Fisher-Yates shuffle of `v`.
  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[Below(i)]);
  }

  // `size` bytes of the SplitMix64 sequence that starts at `state`, each 64-bit word
  // little-endian whatever the host. Independent of any Prng object: it costs no engine
  // set-up, which matters for fixtures of many small files, each with its own state.
  static std::string Bytes(uint64_t state, uint64_t size);

 private:
  std::mt19937_64 engine_;
};

}  // namespace ovl
