#include "runner/recorder.h"

#include "runner/case_runner.h"

namespace ovl::runner {

ops::Event Recorder::Make(ops::Event::Type type) const {
  ops::Event e;
  e.type = type;
  e.case_id = case_id_;
  e.t = clock_->Now();
  return e;
}

void Recorder::Record(ops::Event e) {
  std::lock_guard<std::mutex> g(mu_);
  if (holding_) {
    held_.push_back(std::move(e));
    return;
  }
  Store(std::move(e));
}

void Recorder::Store(ops::Event e) {
  history_->Append(e).IgnoreError();  // kept by the writer: see status()
  if (events_) events_->push_back(std::move(e));
}

double Recorder::BeginFault() {
  std::lock_guard<std::mutex> g(mu_);
  holding_ = true;
  return clock_->Now();
}

void Recorder::EndFault(double t_start, nlohmann::json info) {
  ops::Event e = Make(ops::Event::Type::kFault);
  info["t_end"] = e.t;
  e.t = t_start;
  e.info = std::move(info);
  std::lock_guard<std::mutex> g(mu_);
  holding_ = false;
  Store(std::move(e));
  for (auto& h : held_) Store(std::move(h));
  held_.clear();
}

void Recorder::Append(ops::Event::Type type, nlohmann::json info) {
  ops::Event e = Make(type);
  e.info = std::move(info);
  Record(std::move(e));
}

void Recorder::Invoke(const ops::Op& op) {
  ops::Event e = Make(ops::Event::Type::kInvoke);
  e.op = op;
  Record(std::move(e));
}

void Recorder::Complete(uint64_t seq, const ops::Result& result) {
  ops::Event e = Make(ops::Event::Type::kComplete);
  e.seq = seq;
  e.result = result;
  Record(std::move(e));
}

}  // namespace ovl::runner
