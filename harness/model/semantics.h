// What each operation of the ops vocabulary may return in a given State, and what it changes. This
// is where the rules of the oracle live (docs/design.md, "The oracle: MUST and MAY"): each
// expectation is a MUST (a violation fails the case) or a MAY (a difference is reported, not
// failed).
#pragma once

#include <string>
#include <vector>

#include "model/state.h"
#include "ops/ops.h"

namespace ovl::model {

enum class Severity { kMust, kMay };

// One broken expectation of one operation.
struct Issue {
  Severity severity = Severity::kMust;
  std::string rule;  // short id: "stale-handle", "data", "handle-changed", ...
  std::string expected;
  std::string got;
};

// Judges `result` (ok or error) of `op` against `s`, and moves `s` to the state after the
// operation as the server reported it (an operation that failed changes nothing). The result
// fits `s` when no returned Issue is a MUST.
std::vector<Issue> Step(State& s, const ops::Op& op, const ops::Result& result);

// For an operation whose outcome is unknown: applies it to `s` as it would have happened, if
// the model allows it to succeed. Returns whether `s` changed.
bool Happen(State& s, const ops::Op& op);

// True for operations a retransmission after a server restart can answer with an error although
// the first transmission succeeded (REMOVE -> NOENT, CREATE -> EXIST, ...).
bool NonIdempotent(ops::Kind kind);

// "read var=H offset=0 count=64": one line naming the operation, for findings.
std::string DescribeOp(const ops::Op& op);

}  // namespace ovl::model
