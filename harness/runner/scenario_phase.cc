#include "runner/scenario_phase.h"

#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "runner/analyze.h"

namespace ovl::runner {
namespace {

// Union-find over node names.
class Groups {
 public:
  size_t Of(const std::string& name) {
    auto [it, added] = ids_.emplace(name, parent_.size());
    if (added) parent_.push_back(parent_.size());
    return Root(it->second);
  }
  void Join(const std::string& a, const std::string& b) { parent_[Of(a)] = Of(b); }

 private:
  size_t Root(size_t i) {
    while (parent_[i] != i) i = parent_[i] = parent_[parent_[i]];
    return i;
  }
  std::map<std::string, size_t> ids_;
  std::vector<size_t> parent_;
};

constexpr char kLocalLane[] = "\x01local";  // not a node name: names are [a-z0-9-]

class Phase {
 public:
  explicit Phase(const ScenarioPhaseContext& ctx)
      : ctx_(ctx), total_(ctx.plan->cases.size() * ctx.repeat) {
    result_.cases.resize(total_);
  }

  ScenarioPhaseResult Run() {
    const std::vector<std::vector<size_t>> lanes = CaseLanes(*ctx_.plan);
    for (const auto& [name, host] : ctx_.nodes->hosts) {
      free_lanes_[name] = plan::LaneBudget(host->cpus());
    }
    std::vector<std::thread> threads;
    for (size_t l = 1; l < lanes.size(); ++l) threads.emplace_back([&, l] { RunLane(lanes[l]); });
    if (!lanes.empty()) RunLane(lanes[0]);
    for (auto& t : threads) t.join();
    if (ctx_.tty && !ctx_.quiet) std::cout << "\r\033[K" << std::flush;
    return std::move(result_);
  }

 private:
  void RunLane(const std::vector<size_t>& lane) {
    // A lane of VMs waits for a place in its host's budget (a local lane has none to wait for).
    const plan::PlannedServer* server = ctx_.plan->FindServer(ctx_.plan->cases[lane[0]].server);
    const std::string host = server ? server->host : "";
    {
      std::unique_lock<std::mutex> g(lanes_mu_);
      // Bounded: every lane that holds a place gives it back when its cases are done.
      lanes_cv_.wait(g, [&] { return !free_lanes_.count(host) || free_lanes_[host] > 0; });
      if (free_lanes_.count(host)) --free_lanes_[host];
    }
    RunLaneCases(lane);
    std::lock_guard<std::mutex> g(lanes_mu_);
    if (free_lanes_.count(host)) ++free_lanes_[host];
    lanes_cv_.notify_all();
  }

  void RunLaneCases(const std::vector<size_t>& lane) {
    const size_t n = ctx_.plan->cases.size();
    for (uint64_t round = 0; round < ctx_.repeat; ++round) {
      for (size_t i : lane) {
        const size_t slot = round * n + i;
        result_.cases[slot] = RunOne(ctx_.plan->cases[i], round, slot + 1);
      }
    }
  }

  // Runs and judges one case; `number` (1-based, plan order) names its layers directory.
  CaseReport RunOne(const plan::Case& pc, uint64_t round, size_t number) {
    CaseReport r;
    r.id = ctx_.repeat > 1 ? pc.id + "#" + std::to_string(round + 1) : pc.id;
    r.server = pc.server;
    r.variant = topology::NameString(topology::kVariantNames, pc.variant);
    r.scenario = pc.scenario;
    r.fault = pc.fault ? topology::NameString(topology::kFaultKindNames, *pc.fault) : "";
    r.access = topology::NameString(topology::kAccessNames, pc.access);
    r.nfs_version = pc.nfs_version;
    r.expect = topology::NameString(topology::kExpectNames, pc.expect);
    r.seed = ctx_.plan->seed + round;
    Progress(r.id);

    const auto& servers = ctx_.nodes->servers;
    auto server = servers.find(pc.server);
    std::string unsupported = pc.unsupported;
    if (unsupported.empty() && server == servers.end() &&
        !ctx_.nodes->host_failures.count(pc.server)) {
      unsupported = "variant " + r.variant + " has no " +
                    topology::NameString(topology::kBackendNames, pc.backend) +
                    " backend in this build";
    }
    if (unsupported.empty() && server != servers.end()) {
      unsupported = server->second->Unsupported();
    }
    const scenario::Scenario* scenario = ctx_.workloads->FindScenario(pc.scenario);
    if (*ctx_.interrupted) {
      r.verdict = Verdict::kUnresolved;
      r.explanation = "interrupted";
    } else if (ovl::Status h = ctx_.history->status(); !h.ok()) {
      r.verdict = Verdict::kUnresolved;
      r.explanation = "not run: the history cannot be written: " + h.ToString();
    } else if (auto lost = ctx_.nodes->host_failures.find(pc.server);
               lost != ctx_.nodes->host_failures.end()) {
      r.verdict = Verdict::kUnresolved;
      r.explanation = lost->second;
    } else if (!unsupported.empty()) {
      r.verdict = Verdict::kUnsupported;
      r.explanation = unsupported;
    } else if (!ctx_.nodes->agent_failure.empty()) {
      r.verdict = Verdict::kUnresolved;
      r.explanation = "agent did not start: " + ctx_.nodes->agent_failure;
    } else if (scenario == nullptr) {
      r.verdict = Verdict::kUnresolved;
      r.explanation = "scenario " + pc.scenario + " has no steps file";
    } else {
      r.kernel = ctx_.nodes->KernelOf(*ctx_.plan->FindServer(pc.server));
      std::vector<ops::Event> events;  // of this case, for the live judgement
      CaseContext cc;
      cc.plan_case = &pc;
      cc.case_id = r.id;
      cc.scenario = scenario;
      cc.seed = r.seed;
      cc.server = server->second.get();
      const auto& agents = ctx_.nodes->agents;
      for (size_t i = 0; i < cc.scenario->clients.size() && i < pc.clients.size(); ++i) {
        auto a = agents.find(pc.clients[i]);
        if (a != agents.end()) cc.agents[cc.scenario->clients[i]] = a->second.get();
      }
      cc.frame = HandleFrameOf(pc.access, pc.nfs_version);
      cc.layers_dir = ctx_.run_dir + "/servers/" + pc.server + "/" + std::to_string(number);
      cc.keep = ctx_.keep;
      cc.history = ctx_.history;
      cc.events = &events;
      cc.clock = ctx_.clock;
      CaseRun cr = RunCase(cc);
      r.seconds = cr.seconds;
      r.ops = cr.ops;
      CountPhase(pc.server, cr);
      if (cr.status == CaseRun::Status::kUnsupported) {
        r.verdict = Verdict::kUnsupported;
        r.explanation = cr.reason;
      } else if (cr.status == CaseRun::Status::kUnresolved) {
        r.verdict = Verdict::kUnresolved;
        r.explanation = cr.reason;
        r.log_tail = server->second->LogTail();
      } else {
        r.log_tail = server->second->LogTail();
        JudgeCaseEvents(events, ctx_.workloads->baselines, &r);
      }
    }
    Report(r);
    return r;
  }

  void CountPhase(const std::string& server, const CaseRun& cr) {
    std::lock_guard<std::mutex> lock(mu_);
    PhaseThroughput& phase = result_.phases["scenarios:" + server];
    phase.name = "scenarios:" + server;
    phase.ops += cr.ops;
    phase.bytes += cr.bytes;
    phase.seconds += cr.seconds;
  }

  void Progress(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    ++started_;
    if (ctx_.tty && !ctx_.quiet)
      std::cout << "\r\033[K[" << started_ << "/" << total_ << "] " << id << std::flush;
  }

  void Report(const CaseReport& r) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ctx_.quiet) PrintCaseLine(r, ctx_.tty, std::cout);
  }

  const ScenarioPhaseContext& ctx_;
  const size_t total_;
  std::mutex lanes_mu_;
  std::condition_variable lanes_cv_;
  std::map<std::string, unsigned> free_lanes_;  // GUARDED_BY(lanes_mu_): by libvirt host
  std::mutex mu_;                               // guards started_, result_.phases and stdout
  size_t started_ = 0;
  ScenarioPhaseResult result_;  // each lane writes only its own slots of cases
};

}  // namespace

std::vector<std::vector<size_t>> CaseLanes(const plan::Plan& plan) {
  Groups groups;
  for (const plan::Case& pc : plan.cases) {
    if (pc.backend != topology::Backend::kLibvirt) groups.Join(pc.server, kLocalLane);
    for (const std::string& c : pc.clients) groups.Join(pc.server, c);
  }
  std::map<size_t, size_t> lane_of_group;  // group -> lane, lanes numbered by first case
  std::vector<std::vector<size_t>> lanes;
  for (size_t i = 0; i < plan.cases.size(); ++i) {
    const size_t g = groups.Of(plan.cases[i].server);
    auto [it, added] = lane_of_group.emplace(g, lanes.size());
    if (added) lanes.emplace_back();
    lanes[it->second].push_back(i);
  }
  return lanes;
}

ScenarioPhaseResult RunScenarioPhase(const ScenarioPhaseContext& ctx) {
  return Phase(ctx).Run();
}

}  // namespace ovl::runner
