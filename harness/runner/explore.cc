#include "runner/explore.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "backend/nodes.h"
#include "explore/differential.h"
#include "explore/shrink.h"
#include "ops/history_file.h"
#include "runner/results.h"
#include "runner/run_dir.h"
#include "runner/scenario_phase.h"
#include "runner/session.h"

namespace ovl::runner {
namespace {

using Clock = std::chrono::steady_clock;
using explore::CaseDoc;
using nlohmann::json;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The first MUST finding of a judged case; an empty object when it has none.
json FirstMust(const CaseReport& r) {
  for (const json& f : r.findings) {
    if (f.is_object() && f.value("must", false)) return f;
  }
  return json::object();
}

// The rule of the first MUST finding of a judged case; "" when it has none.
std::string FirstRule(const CaseReport& r) {
  return FirstMust(r).value("rule", "");
}

// What a shrink must keep failing: the first MUST finding's rule and the kind of operation it
// was found on ("stale-handle getattr"), so that a candidate failing the same rule elsewhere, a
// different bug perhaps, is not taken for the same one.
std::string FailureKey(const CaseReport& r) {
  const json f = FirstMust(r);
  const std::string op = f.value("op", "");
  return f.value("rule", "") + " " + op.substr(0, op.find(' '));
}

// A failure found in a generated case, and what its shrink made of it.
struct Found {
  std::string server;
  std::string variant;
  std::string case_id;  // the generated case that failed
  std::string rule;
  std::string finding;     // its explanation
  double found_after = 0;  // seconds spent running generated cases until then
  uint64_t generated = 0;  // generated cases run until then, this one included
  explore::ShrinkResult shrink;
  uint64_t steps_before = 0;
  std::string file;  // of the shrunk case, relative to the run directory
  std::string replay_verdict;
  std::string replay_rule;
};

class Explorer {
 public:
  Explorer(const RunRequest& request, const ExploreOptions& options, const RunDir& dir,
           ops::HistoryWriter* history, const backend::Nodes* nodes)
      : request_(request),
        options_(options),
        dir_(dir),
        history_(history),
        nodes_(nodes),
        workloads_(request.workloads) {
    for (const plan::PlannedServer& s : request.plan.servers) {
      if (options.servers.empty() ||
          std::count(options.servers.begin(), options.servers.end(), s.name) > 0) {
        servers_.push_back(s.name);
      }
    }
  }

  // The topology's catalogue cases on the servers explored (--catalogue), before the generated
  // ones: one run then shows what each catches, for the mutation score.
  void RunCatalogue() {
    plan::Plan p = request_.plan;
    KeepServers(servers_, &p);
    ScenarioPhaseResult result = RunScenarioPhase(PhaseContext(p, false));
    AddPhases(result);
    for (CaseReport& r : result.cases) cases_.push_back(std::move(r));
  }

  // Generates and runs cases until the budget is spent, shrinking each new failure: the first
  // of each server that must fail (a negative control shows one bug), the first of each rule on
  // a server that must pass.
  void Explore() {
    const uint64_t seed = request_.plan.seed;
    for (uint64_t i = 0; options_.max_cases == 0 || i < options_.max_cases; ++i) {
      if (generating_ >= Seconds(options_.budget) || Interrupted()) break;
      const CaseDoc doc = explore::GenerateCase(options_.generator, seed, i);
      WriteDoc(doc, "explore/cases/" + doc.id + ".yaml");
      const Clock::time_point start = Clock::now();
      std::vector<CaseReport> reports = Run(doc, servers_, false);
      generating_ += Seconds(Clock::now() - start);
      ++generated_;
      for (CaseReport& r : reports) {
        places_[r.id] = {r.scenario, r.server};
        const std::string rule = FirstRule(r);
        const std::string key = r.expect == "fail" ? r.server : r.server + "\n" + rule;
        if (r.model_failed && !rule.empty() && shrunk_.insert(key).second &&
            found_.size() < options_.max_shrinks) {
          ShrinkFailure(doc, r, rule);
        }
        cases_.push_back(std::move(r));
      }
    }
  }

  RunSummary Summary(double seconds) {
    RunSummary run;
    run.run_id = dir_.id;
    run.topology = request_.topology.name;
    run.seed = request_.plan.seed;
    run.started = dir_.started;
    run.seconds = seconds;
    run.cases = std::move(cases_);
    for (auto& [name, p] : phases_) run.phases.push_back(p);
    run.explore = ExploreJson();
    return run;
  }

 private:
  // Runs `doc` on `servers`: the reports of its cases (none when it is not a valid scenario or
  // the plan has no case of it there).
  std::vector<CaseReport> Run(const CaseDoc& doc, const std::vector<std::string>& servers,
                              bool quiet) {
    topology::Checked<scenario::Scenario> parsed =
        explore::Parse(doc, dir_.path + "/explore/" + doc.id + ".yaml");
    if (!parsed.ok() || !AddScenario(&workloads_, std::move(parsed).value()).ok()) return {};
    topology::Topology t = request_.topology;
    t.workloads.scenarios = {doc.id};
    plan::PlanOptions po;
    po.seed = request_.plan.seed;
    po.only = {doc.id};
    Result<plan::Plan> p = plan::MakePlan(t, workloads_.catalogue, po);
    if (!p.ok()) return {};
    KeepServers(servers, &*p);
    ScenarioPhaseResult result = RunScenarioPhase(PhaseContext(*p, quiet));
    if (!quiet) AddPhases(result);
    return std::move(result.cases);
  }

  // Leaves in `p` only the cases of `servers`.
  static void KeepServers(const std::vector<std::string>& servers, plan::Plan* p) {
    std::erase_if(p->cases, [&](const plan::Case& c) {
      return std::find(servers.begin(), servers.end(), c.server) == servers.end();
    });
  }

  ScenarioPhaseContext PhaseContext(const plan::Plan& p, bool quiet) {
    ScenarioPhaseContext sc;
    sc.plan = &p;
    sc.tty = isatty(STDOUT_FILENO) == 1;
    sc.quiet = quiet;
    sc.nodes = nodes_;
    sc.workloads = &workloads_;
    sc.history = history_;
    sc.clock = &clock_;
    sc.run_dir = dir_.path;
    sc.interrupted = &Interrupted();
    return sc;
  }

  void AddPhases(const ScenarioPhaseResult& result) {
    for (const auto& [name, phase] : result.phases) {
      PhaseThroughput& sum = phases_[name];
      sum.name = name;
      sum.ops += phase.ops;
      sum.bytes += phase.bytes;
      sum.seconds += phase.seconds;
    }
  }

  void ShrinkFailure(const CaseDoc& doc, const CaseReport& failed, const std::string& rule) {
    Found f;
    f.server = failed.server;
    f.variant = failed.variant;
    f.case_id = failed.id;
    f.rule = rule;
    f.finding = failed.explanation;
    f.found_after = generating_;
    f.generated = generated_;
    f.steps_before = explore::StepCount(doc);
    std::cout << "explore: " << failed.id << " failed " << rule << " after " << generated_
              << " generated cases (" << static_cast<int>(generating_) << " s); shrinking on "
              << failed.server << "\n";
    CaseDoc start = doc;
    start.id = doc.id + "-" + failed.server;
    const std::string server = failed.server;
    const explore::Oracle oracle = [&](const CaseDoc& c) -> std::optional<std::string> {
      if (Interrupted()) return std::nullopt;
      std::vector<CaseReport> r = Run(c, {server}, true);
      if (r.size() != 1 || !r[0].model_failed) return std::nullopt;
      return FailureKey(r[0]);
    };
    f.shrink =
        explore::Shrink(start, FailureKey(failed), oracle, {.budget = options_.shrink_budget});
    f.shrink.smallest.summary =
        failed.id + " shrunk: fails " + rule + " on " + server + " (" + failed.variant + ")";
    f.shrink.smallest.comments = {
        "Shrunk by `harness explore --seed " + std::to_string(request_.plan.seed) + "` from " +
            doc.id + " (" + std::to_string(f.steps_before) + " steps), on server " + server + ".",
        "Replay: harness run TOPOLOGY --scenario FILE --seed " +
            std::to_string(request_.plan.seed) + "; as a regression test: copy it into",
        "workloads/scenarios/ with a summary that says what it checks."};
    f.file = "explore/" + f.shrink.smallest.id + ".yaml";
    WriteDoc(f.shrink.smallest, f.file);
    std::vector<CaseReport> replay = Run(f.shrink.smallest, {server}, false);
    if (replay.size() == 1) {
      f.replay_verdict = VerdictName(replay[0].verdict);
      f.replay_rule = FirstRule(replay[0]);
      places_[replay[0].id] = {replay[0].scenario, replay[0].server};
      cases_.push_back(std::move(replay[0]));
    }
    std::cout << "explore: shrunk to " << explore::StepCount(f.shrink.smallest) << " steps in "
              << static_cast<int>(f.shrink.seconds) << " s (" << f.shrink.candidates
              << " candidates" << (f.shrink.stopped_early ? ", stopped early" : "")
              << "): " << dir_.path << "/" << f.file << "\n";
    found_.push_back(std::move(f));
  }

  void WriteDoc(const CaseDoc& doc, const std::string& relative) {
    const std::string path = dir_.path + "/" + relative;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    if (Status s = WriteFileAtomic(path, explore::ToYaml(doc)); !s.ok()) {
      std::cerr << "harness: explore: " << s.ToString() << "\n";
    }
  }

  json ExploreJson() const {
    json shrunk = json::array();
    for (const Found& f : found_) {
      shrunk.push_back({{"server", f.server},
                        {"variant", f.variant},
                        {"case", f.case_id},
                        {"rule", f.rule},
                        {"finding", f.finding},
                        {"found_after_seconds", f.found_after},
                        {"generated_before", f.generated},
                        {"steps_before", f.steps_before},
                        {"steps_after", explore::StepCount(f.shrink.smallest)},
                        {"shrink_seconds", f.shrink.seconds},
                        {"candidates", f.shrink.candidates},
                        {"kept", f.shrink.kept},
                        {"stopped_early", f.shrink.stopped_early},
                        {"file", f.file},
                        {"scenario", explore::ToYaml(f.shrink.smallest)},
                        {"replay", "harness run " + request_.options.topology.string() +
                                       " --scenario " + dir_.path + "/" + f.file + " --seed " +
                                       std::to_string(request_.plan.seed)},
                        {"replay_verdict", f.replay_verdict},
                        {"replay_rule", f.replay_rule}});
    }
    json disagreements = json::array();
    std::string error;
    if (std::optional<std::vector<ops::Event>> h =
            ops::ReadHistory(dir_.path + "/history.jsonl", &error)) {
      for (const explore::Disagreement& d : explore::Disagreements(*h, places_, 200)) {
        disagreements.push_back(
            {{"scenario", d.scenario}, {"step", d.step}, {"op", d.op}, {"answers", d.answers}});
      }
    }
    return {{"seed", request_.plan.seed},    {"budget_seconds", Seconds(options_.budget)},
            {"generated", generated_},       {"generating_seconds", generating_},
            {"servers", servers_},           {"shrunk", shrunk},
            {"disagreements", disagreements}};
  }

  const RunRequest& request_;
  const ExploreOptions& options_;
  const RunDir& dir_;
  ops::HistoryWriter* history_;
  const backend::Nodes* nodes_;
  workload::Workloads workloads_;  // the catalogue plus every generated case and candidate
  std::vector<std::string> servers_;
  RunClock clock_;
  double generating_ = 0;  // seconds spent running generated cases (not shrinking them)
  uint64_t generated_ = 0;
  std::vector<CaseReport> cases_;
  std::map<std::string, PhaseThroughput> phases_;
  std::map<std::string, explore::CasePlace> places_;  // generated cases and replays, by case id
  std::set<std::string> shrunk_;                      // "<server>\n<rule>" already shrunk
  std::vector<Found> found_;
};

}  // namespace

int ExploreTopology(const RunRequest& request, const ExploreOptions& options) {
  InterruptGuard interrupt_guard;
  const Clock::time_point start = Clock::now();
  Result<OpenedRun> opened =
      OpenRun(request.options.results_dir.string(), request.topology.name + "-explore",
              request.options.topology.string(), request.plan.seed, OVL_SOURCE_DIR);
  if (!opened.ok()) {
    std::cerr << "harness: " << opened.status().ToString() << "\n";
    return 3;
  }
  Result<backend::Nodes> nodes =
      backend::StartNodes(request.plan, request.topology.libvirt, NodeOptionsFor(opened->dir));
  if (!nodes.ok()) {
    std::cerr << "harness: libvirt: " << nodes.status().ToString() << "\n";
    return 3;
  }
  Explorer explorer(request, options, opened->dir, opened->history.get(), &*nodes);
  if (options.catalogue) explorer.RunCatalogue();
  explorer.Explore();
  nodes->Stop();
  return FinishRun(opened->dir, *opened->history, request.workloads.baselines, {},
                   explorer.Summary(Seconds(Clock::now() - start)));
}

}  // namespace ovl::runner
