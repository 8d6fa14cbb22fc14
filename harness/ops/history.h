// history.jsonl: every event of a run, one JSON object per line, Jepsen style. The model replays
// it; reporters read it; nothing re-runs anything.
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
//   {"type":"end", "case":ID, "t":SECONDS, "status":"done|unresolved", "reason":...}
#pragma once

#include <cstdint>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/ops.h"

namespace ovl::ops {

struct Event {
  enum class Type { kCase, kInvoke, kComplete, kFault, kEnd, kCheck };
  Type type = Type::kInvoke;
  std::string case_id;
  double t = 0;                  // seconds since the run started
  std::optional<Op> op;          // kInvoke
  uint64_t seq = 0;              // kComplete: the op it completes
  std::optional<Result> result;  // kComplete
  nlohmann::json info;           // kCase / kFault / kEnd / kCheck fields beyond the common ones
};

nlohmann::json EventToJson(const Event& e);
// Error text naming what is wrong when `j` is not an event.
std::optional<Event> EventFromJson(const nlohmann::json& j, std::string* error);

// Appends events to a history file; thread-safe, flushed per event so a killed run keeps what
// happened up to the kill.
class HistoryWriter {
 public:
  // Creates (truncates) `path`; status() says whether that worked.
  explicit HistoryWriter(const std::string& path);
  bool ok() const { return status().ok(); }
  // OK while the file was opened and every append so far was written; else the first failure,
  // naming the file.
  Status status() const;
  // Appends `e` and flushes. After a failure this writes nothing more and returns that failure
  // again, so the file never has a gap in its middle.
  [[nodiscard]] Status Append(const Event& e);

 private:
  const std::string path_;
  mutable std::mutex mu_;
  std::ofstream out_;
  Status status_;
};

// Reads a whole history file; on a malformed line, returns nullopt and the line number + reason.
std::optional<std::vector<Event>> ReadHistory(const std::string& path, std::string* error);

}  // namespace ovl::ops
