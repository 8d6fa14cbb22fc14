#include "agent/executor.h"

#include <algorithm>
#include <utility>

namespace ovl::agent {
namespace {

// A position is stored as "pos:" and 16 bytes (cookie, verifier; little endian), so that a
// handle variable is never taken for one.
constexpr std::string_view kPositionTag = "pos:";

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetU64(const std::string& in, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

}  // namespace

ops::Result Executor::Execute(const ops::Op& op, VarTable& vars) {
  Outcome out = Run(op, vars);
  if (out.result.outcome == ops::Result::Outcome::kOk && !op.save.empty() && !out.saved.empty()) {
    vars[op.save] = std::move(out.saved);
  }
  return std::move(out.result);
}

std::string EncodePosition(const Position& p) {
  std::string out(kPositionTag);
  PutU64(&out, p.cookie);
  PutU64(&out, p.verifier);
  return out;
}

std::optional<Position> StartPosition(const ops::Op& op, const VarTable& vars, std::string* error) {
  if (op.resume.empty()) return Position{op.cookie, 0};
  auto it = vars.find(op.resume);
  const size_t size = kPositionTag.size() + 16;
  if (it == vars.end() || it->second.size() != size || !it->second.starts_with(kPositionTag)) {
    *error = kErrNoVar;
    return std::nullopt;
  }
  return Position{GetU64(it->second, kPositionTag.size()), GetU64(it->second, size - 8)};
}

std::optional<std::string> HeldHandle(const ops::Target& target, const VarTable& vars,
                                      std::string* error) {
  if (target.raw) return *target.raw;
  if (target.var.empty()) return std::nullopt;
  auto it = vars.find(target.var);
  if (it == vars.end()) {
    *error = kErrNoVar;
    return std::nullopt;
  }
  if (target.mutate.empty()) return it->second;
  std::optional<std::string> mutated = ops::MutateHandle(it->second, target.mutate);
  if (!mutated) *error = kErrBadMutation;
  return mutated;
}

ops::Result ErrorResult(std::string name) {
  ops::Result r;
  r.outcome = ops::Result::Outcome::kError;
  r.error = std::move(name);
  return r;
}

ops::Result UnknownResult(std::string why) {
  ops::Result r;
  r.outcome = ops::Result::Outcome::kUnknown;
  r.error = std::move(why);
  return r;
}

uint32_t PageEntries(const ops::Op& op) {
  return op.max_entries == 0 ? kDefaultPageEntries : std::min(op.max_entries, kMaxPageEntries);
}

}  // namespace ovl::agent
