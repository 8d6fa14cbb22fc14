#include "base/prng.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>

namespace ovl {
namespace {

// One SplitMix64 step: advances `*state` and returns its output. Its finalizer also spreads
// nearby seeds (1, 2, 3...) over the whole engine state space.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Mix(uint64_t x) {
  return SplitMix64(&x);
}

// FNV-1a of the stream name.
uint64_t Hash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

Prng::Prng(uint64_t seed, std::string_view stream) : engine_(Mix(seed ^ Mix(Hash(stream)))) {}

uint64_t Prng::Below(uint64_t n) {
  // Values at or above `limit` would favour small results; draw again.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

std::vector<uint64_t> Prng::Distinct(uint64_t count, uint64_t lo, uint64_t hi) {
  std::vector<uint64_t> out;
  std::set<uint64_t> seen;
  while (out.size() < count) {
    uint64_t v = lo + Below(hi - lo);
    if (seen.insert(v).second) out.push_back(v);
  }
  return out;
}

std::string Prng::Bytes(uint64_t state, uint64_t size) {
  std::string out(size, '\0');
  for (uint64_t i = 0; i < size; i += 8) {
    const uint64_t word = SplitMix64(&state);
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(out.data() + i, &word, std::min<uint64_t>(8, size - i));  // byte k = word >> 8k
    } else {
      for (uint64_t k = 0; k < 8 && i + k < size; ++k)
        out[i + k] = static_cast<char>(word >> (8 * k));
    }
  }
  return out;
}

}  // namespace ovl
