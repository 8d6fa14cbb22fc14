#include "runner/analyze.h"

#include <map>
#include <set>

#include "model/model.h"
#include "ops/history_file.h"
#include "runner/judge.h"

namespace ovl::runner {

void JudgeCaseEvents(const std::vector<ops::Event>& events, const workload::Baselines& baselines,
                     CaseReport* r) {
  const std::vector<model::CaseVerdict> verdicts = model::Judge(events);
  if (verdicts.size() != 1) {
    r->verdict = Verdict::kUnresolved;
    r->explanation = "the case's events hold " + std::to_string(verdicts.size()) + " cases";
    return;
  }
  ApplyJudgement(*r, FromModel(verdicts.front()), baselines);
}

std::vector<size_t> JudgeRun(const std::vector<ops::Event>& history,
                             const workload::Baselines& baselines, RunSummary* run) {
  std::vector<size_t> judged;
  std::set<std::string> done;
  for (const ops::Event& e : history) {
    if (e.type == ops::Event::Type::kEnd && e.info.value("status", "") == "done") {
      done.insert(e.case_id);
    }
  }
  const std::vector<model::CaseVerdict> verdicts = model::Judge(history);
  std::map<std::string, const model::CaseVerdict*> by_id;
  for (const model::CaseVerdict& v : verdicts) by_id[v.case_id] = &v;
  for (size_t i = 0; i < run->cases.size(); ++i) {
    CaseReport& r = run->cases[i];
    auto v = by_id.find(r.id);
    if (!done.count(r.id) || v == by_id.end()) continue;
    ApplyJudgement(r, FromModel(*v->second), baselines);
    judged.push_back(i);
  }
  const int before = run->exit_code;
  run->blind_controls = BlindControls(run->cases);
  run->exit_code = ExitCode(run->cases, run->blind_controls);
  if (run->exit_code == 0 && before == 3) run->exit_code = 3;
  return judged;
}

int AnalyzeRunDir(const std::string& run_dir, const workload::Baselines& baselines,
                  std::ostream& out, std::ostream& err) {
  Result<RunSummary> run = ReadResultsJson(run_dir);
  if (!run.ok()) {
    err << "harness: " << run_dir << "/results.json: " << run.status().message() << "\n";
    return 2;
  }
  std::string error;
  std::optional<std::vector<ops::Event>> history =
      ops::ReadHistory(run_dir + "/history.jsonl", &error);
  if (!history) {
    err << "harness: " << run_dir << "/history.jsonl: " << error << "\n";
    return 2;
  }
  (void)JudgeRun(*history, baselines, &*run);
  if (!WriteRunOutputs(run_dir, *run, {}, err)) run->exit_code = 3;
  PrintRunSummary(*run, run_dir, out);
  return run->exit_code;
}

}  // namespace ovl::runner
