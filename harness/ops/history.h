// history.jsonl: every event of a run, one JSON object per line, Jepsen style. The model replays
// it; reporters read it; nothing re-runs anything. This is the event codec, pure; the file is
// written and read by ops/history_file.h.
//
//   {"type":"case", "case":ID, "scenario":S, "variant":V, "server":NAME, "fault":F,
//    "fixture":{...}, "seed":N, "disjoint_clients":B}  a test case begins; the model's initial
//                                                      state is the fixture; disjoint_clients
//                                                      (optional): each client works in its own
//                                                      subtree (scenario/mixed.h)
//   {"type":"invoke", "case":ID, "t":SECONDS, "op":{...}}
//   {"type":"complete", "case":ID, "t":SECONDS, "seq":N, "result":{...}}
//                                                      outcome ok | error | unknown
//   {"type":"fault", "case":ID, "t":SECONDS, "kind":"crash|reboot|evict|client-evict",
//    "target":NAME, "ok":BOOL, "detail":..., "t_end":SECONDS}
//                                                      a fault was injected (or failed to be):
//                                                      t when it began, t_end (optional) when
//                                                      the target answered again
//   {"type":"check", "case":ID, "t":SECONDS, "what":W, "ok":BOOL, "detail":...}
//                                                      a check made outside the protocol by the
//                                                      harness (e.g. "lower-unchanged": the lower
//                                                      layers still hold the fixture's bytes)
//   {"type":"kernel", "case":ID, "t":SECONDS, "node":NAME, "lines":[...], "dropped":N,
//    "error":...}                                     what the kernel of server NAME printed
//                                                      from the case's start until its server
//                                                      was torn down (backend/kernel_log.h; the
//                                                      model judges the lines:
//                                                      model/kernel_log.h); dropped: lines
//                                                      beyond the bound; error: the log could not
//                                                      be read
//   {"type":"end", "case":ID, "t":SECONDS, "status":"done|unresolved", "reason":...}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/ops.h"

namespace ovl::ops {

struct Event {
  enum class Type { kCase, kInvoke, kComplete, kFault, kEnd, kCheck, kKernel };
  Type type = Type::kInvoke;
  std::string case_id;
  double t = 0;                  // seconds since the run started
  std::optional<Op> op;          // kInvoke
  uint64_t seq = 0;              // kComplete: the op it completes
  std::optional<Result> result;  // kComplete
  nlohmann::json info;           // the other types: their fields beyond the common ones
};

// The JSON object of `e`: one line of history.jsonl, which EventFromJson reads back.
nlohmann::json EventToJson(const Event& e);
// Error text naming what is wrong when `j` is not an event.
std::optional<Event> EventFromJson(const nlohmann::json& j, std::string* error);

}  // namespace ovl::ops
