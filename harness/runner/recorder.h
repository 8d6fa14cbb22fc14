// Recorder: appends a case's events to the run's history file, stamped with the run clock, and
// to the case's own event list for the live judgement printed as the case ends. The file is the
// record the verdicts come from (runner/analyze.h). Thread-safe: the mixed workload records from
// several client threads at once.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ops/history_file.h"
#include "ops/ops.h"

namespace ovl::runner {

class RunClock;

class Recorder {
 public:
  // `events` may be null (no live judgement).
  Recorder(std::string case_id, ops::HistoryWriter* history, std::vector<ops::Event>* events,
           const RunClock* clock)
      : case_id_(std::move(case_id)), history_(history), events_(events), clock_(clock) {}

  // A case, fault or end event with its fields.
  void Append(ops::Event::Type type, nlohmann::json info = nlohmann::json::object());
  void Invoke(const ops::Op& op);
  void Complete(uint64_t seq, const ops::Result& result);

  // A fault is written once it is over, with `t` when it began and `t_end` when it ended, but at
  // the position where it began (the model applies its effect there): events recorded between
  // BeginFault and EndFault are held back and follow it. Returns the start time.
  double BeginFault();
  void EndFault(double t_start, nlohmann::json info);

  // OK while every event so far reached the history file; else why not (naming the file). A
  // case whose history is incomplete cannot be judged: callers stop it as UNRESOLVED.
  Status status() const { return history_->status(); }

 private:
  ops::Event Make(ops::Event::Type type) const;
  void Record(ops::Event e);
  // Appends `e` to the history file and the event list; a write failure is kept by the
  // HistoryWriter (status()).
  void Store(ops::Event e);

  std::string case_id_;
  ops::HistoryWriter* history_;
  std::vector<ops::Event>* events_;
  const RunClock* clock_;
  std::mutex mu_;
  bool holding_ = false;
  std::vector<ops::Event> held_;
};

}  // namespace ovl::runner
