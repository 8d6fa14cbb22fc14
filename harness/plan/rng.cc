#include "plan/rng.h"

#include <set>

namespace ovl::plan {
namespace {

// SplitMix64 finalizer: spreads nearby seeds (1, 2, 3...) over the whole state space.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a of the stream name.
uint64_t Hash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

Rng::Rng(uint64_t seed, std::string_view stream) : engine_(Mix(seed ^ Mix(Hash(stream)))) {}

uint64_t Rng::Below(uint64_t n) {
  // Values at or above `limit` would favour small results; draw again.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

std::vector<uint64_t> Rng::Distinct(uint64_t count, uint64_t lo, uint64_t hi) {
  std::vector<uint64_t> out;
  std::set<uint64_t> seen;
  while (out.size() < count) {
    uint64_t v = lo + Below(hi - lo);
    if (seen.insert(v).second) out.push_back(v);
  }
  return out;
}

}  // namespace ovl::plan
