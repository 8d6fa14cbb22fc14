#include "throughput/sequence.h"

#include <cstdio>

namespace ovl::throughput {
namespace {

std::string Numbered(char prefix, uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%06llu", prefix, static_cast<unsigned long long>(i));
  return buf;
}

}  // namespace

std::string CreatedName(uint64_t i) {
  return Numbered('n', i);
}
std::string PhaseName(uint64_t i) {
  return Numbered('u', i);
}

OpSequence::OpSequence(const LoadSpec& spec, uint64_t seed) : spec_(spec), prng_(seed) {
  for (const MixEntry& m : spec_.mix) total_weight_ += m.weight;
}

PlannedOp OpSequence::Next() {
  switch (spec_.pattern) {
    case Pattern::kSequential:
    case Pattern::kRandom:
      return NextData();
    case Pattern::kMix:
      return NextMix();
    case Pattern::kPhases:
      return NextPhase();
  }
  return {};
}

uint64_t OpSequence::RandomOffset() {
  const uint64_t slots = spec_.size / spec_.request_size;
  return slots == 0 ? 0 : prng_.Below(slots) * spec_.request_size;
}

PlannedOp OpSequence::NextData() {
  const LoadOp op = spec_.mix.front().op;
  if (op == LoadOp::kWrite && spec_.stable == ops::Stable::kUnstable && unflushed_ >= spec_.size) {
    unflushed_ = 0;
    return {LoadOp::kCommit, 0, 0};
  }
  PlannedOp p{op, 0, 0};
  if (spec_.pattern == Pattern::kRandom) {
    p.offset = RandomOffset();
  } else {
    if (next_offset_ + spec_.request_size > spec_.size) next_offset_ = 0;
    p.offset = next_offset_;
    next_offset_ += spec_.request_size;
  }
  if (op == LoadOp::kWrite) unflushed_ += spec_.request_size;
  return p;
}

PlannedOp OpSequence::NextMix() {
  uint64_t r = prng_.Below(total_weight_);
  LoadOp op = spec_.mix.back().op;
  for (const MixEntry& m : spec_.mix) {
    if (r < m.weight) {
      op = m.op;
      break;
    }
    r -= m.weight;
  }
  if (op == LoadOp::kRemove && created_.empty()) op = LoadOp::kCreate;
  switch (op) {
    case LoadOp::kCreate:
      created_.push_back(next_created_);
      return {op, next_created_++, 0};
    case LoadOp::kRemove: {
      const uint64_t name = created_.front();
      created_.pop_front();
      return {op, name, 0};
    }
    case LoadOp::kReadlink:
      return {op, prng_.Below(spec_.symlinks), 0};
    case LoadOp::kFsstat:
    case LoadOp::kReaddir:
    case LoadOp::kReaddirplus:
      return {op, 0, 0};
    case LoadOp::kRead:
    case LoadOp::kWrite: {
      const uint64_t file = prng_.Below(spec_.files);
      return {op, file, RandomOffset()};
    }
    default:
      return {op, prng_.Below(spec_.files), 0};
  }
}

PlannedOp OpSequence::NextPhase() {
  PlannedOp p{spec_.phases[phase_], phase_index_, 0};
  if (++phase_index_ == spec_.files) {
    phase_index_ = 0;
    phase_ = (phase_ + 1) % spec_.phases.size();
  }
  return p;
}

}  // namespace ovl::throughput
