#include "runner/runner.h"

#include <unistd.h>

#include <iostream>

#include "backend/nodes.h"
#include "ops/history_file.h"
#include "runner/mixed_phase.h"
#include "runner/results.h"
#include "runner/run_dir.h"
#include "runner/scenario_phase.h"
#include "runner/session.h"
#include "runner/throughput_runner.h"

namespace ovl::runner {
namespace {

// The throughput phase, when the plan has jobs and the run is still going.
ThroughputResults RunThroughputPhase(const RunRequest& request, const backend::Nodes& nodes,
                                     const backend::NodeOptions& node_options,
                                     const ops::HistoryWriter& history) {
  const plan::Plan& plan = request.plan;
  if (plan.throughput.empty() || Interrupted() || !history.ok()) return {};
  ThroughputContext tc;
  tc.jobs = plan.throughput;
  tc.catalogue = &request.workloads.jobs;
  tc.targets = ThroughputTargets(plan, nodes.servers, nodes.agents);
  tc.paths = node_options.paths;
  tc.log_dir = node_options.run_dir + "/logs";
  tc.work_dir = node_options.run_dir + "/throughput";
  tc.seed = plan.seed;
  tc.rounds = request.options.repeat;
  tc.keep = request.options.keep;
  tc.interrupted = &Interrupted();
  tc.progress = [](const std::string& line) { std::cout << "throughput: " << line << std::endl; };
  return RunThroughput(tc);
}

// The run's cases and measurements as the phases left them, before the judgement.
RunSummary Summarize(const RunDir& dir, const std::string& topology, uint64_t seed,
                     ScenarioPhaseResult scenarios, MixedPhaseResult mixed,
                     ThroughputResults throughput) {
  RunSummary run;
  run.run_id = dir.id;
  run.topology = topology;
  run.seed = seed;
  run.started = dir.started;
  run.cases = std::move(scenarios.cases);
  run.cases.insert(run.cases.end(), mixed.cases.begin(), mixed.cases.end());
  run.phases = std::move(mixed.phases);
  for (auto& [name, p] : scenarios.phases) run.phases.insert(run.phases.begin(), p);
  run.jobs = std::move(throughput.jobs);
  run.timeline = std::move(throughput.timeline);
  run.recovery = std::move(throughput.recovery);
  return run;
}

// Every libvirt host of the plan: where it is, what it runs, and what it is.
nlohmann::json HostsManifest(const plan::Plan& plan, const backend::Nodes& nodes) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const plan::HostPlan& h : plan.hosts) {
    nlohmann::json j = {{"name", h.name},       {"uri", h.uri},   {"servers", h.servers},
                        {"clients", h.clients}, {"pool", h.pool}, {"pool_path", h.pool_path}};
    auto b = nodes.hosts.find(h.name);
    if (b != nodes.hosts.end()) {
      const auto& vb = *b->second;
      j["hostname"] = vb.hostname();
      j["versions"] = vb.versions();
      j["kernel"] = vb.host_kernel().empty() ? "not reported by libvirt" : vb.host_kernel();
      j["accel"] = vb.accel_note();
      j["cpus"] = vb.cpus();
      j["remote"] = vb.remote();
    }
    for (const auto& [server, why] : nodes.host_failures) {
      if (std::find(h.servers.begin(), h.servers.end(), server) != h.servers.end()) {
        j["failure"] = why;
      }
    }
    hosts.push_back(std::move(j));
  }
  return hosts;
}

// The NFSv4 lease and grace times of every VM server that serves NFSv4 (topology servers[].nfs4;
// the kernel's own defaults are 90 s each): a restart's grace period shapes every case after it.
nlohmann::json Nfs4Manifest(const plan::Plan& plan) {
  nlohmann::json out = nlohmann::json::object();
  for (const plan::PlannedServer& s : plan.servers) {
    if (s.backend != topology::Backend::kLibvirt || !topology::InfoOf(s.variant).serves_nfs) {
      continue;
    }
    out[s.name] = {{"lease_seconds", s.spec.nfs4.lease.count()},
                   {"grace_seconds", s.spec.nfs4.grace.count()}};
  }
  return out;
}

}  // namespace

int ExecutePlan(const RunRequest& request) {
  InterruptGuard interrupt_guard;
  const RunOptions& options = request.options;
  const plan::Plan& plan = request.plan;
  Result<OpenedRun> opened = OpenRun(options.results_dir.string(), request.topology.name,
                                     options.topology.string(), plan.seed, OVL_SOURCE_DIR);
  if (!opened.ok()) {
    std::cerr << "harness: " << opened.status().ToString() << "\n";
    return 3;
  }
  const RunDir& dir = opened->dir;
  ops::HistoryWriter& history = *opened->history;

  // VMs: every libvirt node boots before the first case; a VM that does not boot is an
  // infrastructure error (exit 3) whose message holds its console tail.
  const backend::NodeOptions node_options = NodeOptionsFor(dir);
  Result<backend::Nodes> nodes = backend::StartNodes(plan, request.topology.libvirt, node_options);
  if (!nodes.ok()) {
    std::cerr << "harness: libvirt: " << nodes.status().ToString() << "\n";
    return 3;
  }
  if (!nodes->hosts.empty()) {
    opened->manifest["accel"] = nodes->hosts.begin()->second->accel_note();
    opened->manifest["libvirt_hosts"] = HostsManifest(plan, *nodes);
    opened->manifest["nfs4"] = Nfs4Manifest(plan);
    if (!WriteOutput(dir.path + "/manifest.json", opened->manifest.dump(2), std::cerr)) return 3;
  }

  RunClock clock;
  const bool tty = isatty(STDOUT_FILENO) == 1;
  ScenarioPhaseContext sc;
  sc.plan = &plan;
  sc.repeat = options.repeat;
  sc.keep = options.keep;
  sc.tty = tty;
  sc.nodes = &*nodes;
  sc.workloads = &request.workloads;
  sc.history = &history;
  sc.clock = &clock;
  sc.run_dir = dir.path;
  sc.interrupted = &Interrupted();
  ScenarioPhaseResult scenarios = RunScenarioPhase(sc);

  const MixedPhaseContext mc{.plan = &plan,
                             .nodes = &*nodes,
                             .baselines = &request.workloads.baselines,
                             .keep = options.keep,
                             .tty = tty,
                             .history = &history,
                             .clock = &clock,
                             .run_dir = dir.path,
                             .interrupted = &Interrupted()};
  MixedPhaseResult mixed = Interrupted() ? MixedPhaseResult{} : RunMixedPhase(mc);
  ThroughputResults tr = RunThroughputPhase(request, *nodes, node_options, history);
  nodes->Stop();  // stops servers and unmounts before the results are written

  RunSummary run = Summarize(dir, request.topology.name, plan.seed, std::move(scenarios),
                             std::move(mixed), std::move(tr));
  run.seconds = clock.Now();
  const OutputCopies copies{options.json ? options.json->string() : "",
                            options.junit ? options.junit->string() : ""};
  return FinishRun(dir, history, request.workloads.baselines, copies, std::move(run));
}

int RunGuestScript(const RunRequest& request, const std::string& server, const std::string& script,
                   std::chrono::seconds timeout) {
  InterruptGuard interrupt_guard;
  plan::Plan alone;
  alone.seed = request.plan.seed;
  for (const auto& ps : request.plan.servers) {
    if (ps.name == server && ps.backend == topology::Backend::kLibvirt) alone.servers.push_back(ps);
  }
  for (const auto& h : request.plan.hosts) {
    if (alone.servers.empty() || h.name != alone.servers.front().host) continue;
    plan::HostPlan only = h;
    only.servers = {server};
    only.clients.clear();
    alone.hosts.push_back(only);
  }
  if (alone.servers.empty()) {
    std::cerr << "harness: guest: " << server << " is not a server of " << request.topology.name
              << " that runs in a VM\n";
    return 2;
  }
  Result<OpenedRun> opened =
      OpenRun(request.options.results_dir.string(), request.topology.name + "-guest",
              request.options.topology.string(), alone.seed, OVL_SOURCE_DIR);
  if (!opened.ok()) {
    std::cerr << "harness: " << opened.status().ToString() << "\n";
    return 3;
  }
  Result<backend::Nodes> nodes =
      backend::StartNodes(alone, request.topology.libvirt, NodeOptionsFor(opened->dir));
  if (!nodes.ok()) {
    std::cerr << "harness: libvirt: " << nodes.status().ToString() << "\n";
    return 3;
  }
  if (Interrupted() || !nodes->servers.count(server)) {
    std::cerr << "harness: guest: interrupted before " << server << " booted\n";
    return 3;
  }
  Result<backend::ScriptRun> ran = nodes->servers.at(server)->RunScript(script, timeout);
  if (!ran.ok()) {
    std::cerr << "harness: guest: " << ran.status().ToString() << "\n";
    return 3;
  }
  std::cout << ran->output << std::flush;
  std::cerr << "harness: guest: the script exited " << ran->rc << "; console log in "
            << opened->dir.path << "/vm/" << server << "/console.log\n";
  return ran->rc;
}

int RenderReport(const std::string& run_dir, std::ostream& out, std::ostream& err) {
  Result<RunSummary> run = ReadResultsJson(run_dir);
  if (!run.ok()) {
    err << "harness: " << run_dir << "/results.json: " << run.status().message() << "\n";
    return 2;
  }
  bool written = WriteOutput(run_dir + "/junit.xml", JunitXml(*run), err);
  written &= WriteReportHtml(run_dir, err);
  PrintVerdictTable(*run, out);
  out << "harness: run " << run->run_id << ", seed " << run->seed << ", exit code "
      << run->exit_code << "\n";
  return written ? run->exit_code : 3;
}

}  // namespace ovl::runner
