// OpSequence: the order in which a load issues its operations, decided from the spec and a seed
// alone (no I/O), so the same request replays the same sequence on every variant.
//
// - kSequential: the data op at offsets 0, r, 2r, ... (r = request_size) up to `size`, then
//   from 0 again. kRandom: the data op at uniformly drawn r-aligned offsets below `size`.
//   Unstable writes get a COMMIT after every `size` bytes, as a client flushing its file would.
// - kMix: each op drawn by weight; file ops pick a uniform file (readlink: a symlink), reads and
//   writes a uniform r-aligned offset below `size`. CREATE makes a new name CreatedName(k);
//   REMOVE takes the oldest created name still there, and becomes a CREATE when there is none.
// - kPhases: phases[0] on PhaseName(0..files-1), then phases[1] on the same names, ..., and
//   round again.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "base/prng.h"
#include "throughput/load_spec.h"

namespace ovl::throughput {

struct PlannedOp {
  LoadOp op = LoadOp::kGetattr;
  uint64_t index = 0;   // the file (FileName), symlink (LinkName) or name (Created/PhaseName)
  uint64_t offset = 0;  // read and write
};

std::string CreatedName(uint64_t i);  // "n000042"
std::string PhaseName(uint64_t i);    // "u000042"

class OpSequence {
 public:
  // `spec` must have passed LoadRequestFromJson's checks.
  OpSequence(const LoadSpec& spec, uint64_t seed);

  PlannedOp Next();

 private:
  PlannedOp NextData();
  PlannedOp NextMix();
  PlannedOp NextPhase();
  uint64_t RandomOffset();

  const LoadSpec spec_;
  Prng prng_;
  uint64_t total_weight_ = 0;
  // kSequential / kRandom.
  uint64_t next_offset_ = 0;
  uint64_t unflushed_ = 0;  // bytes written since the last COMMIT
  // kMix.
  uint64_t next_created_ = 0;
  std::deque<uint64_t> created_;
  // kPhases.
  size_t phase_ = 0;
  uint64_t phase_index_ = 0;
};

}  // namespace ovl::throughput
