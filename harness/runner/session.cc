#include "runner/session.h"

#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "runner/analyze.h"

namespace ovl::runner {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) {
  g_interrupted = true;
}

std::string Env(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v && *v ? v : fallback;
}

// Judges every case run to its end from the history file the run wrote: the verdicts of the run
// come from there (the single source of truth, as `harness analyze` reads it later). A verdict
// that differs from the live one, judged from the events as they were recorded, means the file
// does not hold what happened: an infrastructure error.
void JudgeFromHistory(const std::string& history_path, const workload::Baselines& baselines,
                      RunSummary* run) {
  std::string error;
  std::optional<std::vector<ops::Event>> history = ops::ReadHistory(history_path, &error);
  if (!history) {
    std::cerr << "harness: cannot read back " << history_path << ": " << error << "\n";
    run->exit_code = 3;
    return;
  }
  std::vector<Verdict> live;
  for (const CaseReport& c : run->cases) live.push_back(c.verdict);
  bool agree = true;
  for (size_t i : JudgeRun(*history, baselines, run)) {
    if (live[i] == run->cases[i].verdict) continue;
    std::cerr << "harness: " << run->cases[i].id << ": " << VerdictName(live[i])
              << " as it ran, but " << VerdictName(run->cases[i].verdict) << " from "
              << history_path << "\n";
    agree = false;
  }
  if (!agree && run->exit_code == 0) run->exit_code = 3;
}

}  // namespace

struct InterruptGuard::Saved {
  struct sigaction old_int {
  }, old_term{};
};

InterruptGuard::InterruptGuard() : saved_(new Saved) {
  g_interrupted = false;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &saved_->old_int);
  sigaction(SIGTERM, &sa, &saved_->old_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &saved_->old_int, nullptr);
  sigaction(SIGTERM, &saved_->old_term, nullptr);
  delete saved_;
}

std::atomic<bool>& Interrupted() {
  return g_interrupted;
}

backend::NodeOptions NodeOptionsFor(const RunDir& dir) {
  backend::NodeOptions o;
  o.paths = {Env("OVL_OVLNFSD", OVL_OVLNFSD_PATH), Env("OVL_AGENT", OVL_AGENT_PATH)};
  o.guestd = Env("OVL_GUESTD", OVL_GUESTD_PATH);
  o.run_dir = dir.path;
  o.interrupted = &g_interrupted;
  return o;
}

int FinishRun(const RunDir& dir, const ops::HistoryWriter& history,
              const workload::Baselines& baselines, const OutputCopies& copies, RunSummary run) {
  JudgeFromHistory(dir.path + "/history.jsonl", baselines, &run);
  // An interrupted run did not finish what it was asked: never "as expected".
  if (g_interrupted && run.exit_code == 0) run.exit_code = 3;
  // A run whose history or results are incomplete cannot stand as a verdict.
  if (Status h = history.status(); !h.ok()) {
    std::cerr << "harness: " << h.ToString() << "; the run stopped there\n";
    run.exit_code = 3;
  }
  if (!WriteRunOutputs(dir.path, run, copies, std::cerr)) run.exit_code = 3;
  PrintRunSummary(run, dir.path, std::cout);
  if (g_interrupted) std::cout << "harness: interrupted\n";
  return run.exit_code;
}

}  // namespace ovl::runner
