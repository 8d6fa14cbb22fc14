#include "runner/runner.h"

#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "backend/libvirt/backend.h"
#include "backend/libvirt/vm_nodes.h"
#include "backend/local_ganesha.h"
#include "backend/local_nodes.h"
#include "ops/history_file.h"
#include "report/html_report.h"
#include "runner/baseline.h"
#include "runner/case_runner.h"
#include "runner/judge.h"
#include "runner/mixed_runner.h"
#include "runner/results.h"
#include "runner/run_dir.h"
#include "runner/scenario_phase.h"
#include "runner/throughput_runner.h"
#include "scenario/mixed.h"
#include "scenario/scenario.h"

namespace ovl::runner {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) {
  g_interrupted = true;
}

// Ctrl-C and SIGTERM stop the run between steps; everything started is then torn down in order
// by the destructors, and the results so far are written.
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

std::string Env(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v && *v ? v : fallback;
}

backend::LocalPaths BinaryPaths() {
  return {Env("OVL_OVLNFSD", OVL_OVLNFSD_PATH), Env("OVL_AGENT", OVL_AGENT_PATH)};
}

std::string Name(topology::Variant v) {
  return std::string(topology::NameOf(topology::kVariantNames, v));
}

bool IsTty() {
  return isatty(STDOUT_FILENO) == 1;
}

unsigned NumCpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

// The servers the mixed workload runs against: those its faults target, or every server when
// it has no faults.
std::vector<std::string> MixedServers(const plan::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& f : plan.mixed.schedule) {
    for (const auto& s : plan.servers) {
      if (s.name == f.target && std::find(out.begin(), out.end(), s.name) == out.end()) {
        out.push_back(s.name);
      }
    }
  }
  if (out.empty()) {
    for (const auto& s : plan.servers) out.push_back(s.name);
  }
  return out;
}

// The mixed workload's client instances on `server`: the planned mixed clients that reach it,
// or, when none does (a kernel-overlay server's implicit client), every instance that does.
std::vector<std::string> MixedClients(const plan::Plan& plan, const std::string& server) {
  std::vector<std::string> planned, reaching;
  for (const auto& ci : plan.clients) {
    if (std::find(ci.servers.begin(), ci.servers.end(), server) == ci.servers.end()) continue;
    reaching.push_back(ci.name);
    if (std::find(plan.mixed.clients.begin(), plan.mixed.clients.end(), ci.name) !=
        plan.mixed.clients.end()) {
      planned.push_back(ci.name);
    }
  }
  return planned.empty() ? reaching : planned;
}

// Writes one output file of a run; a failure is said on `err`, naming the file. Returns
// whether it was written.
bool WriteOutput(const std::string& path, const std::string& text, std::ostream& err) {
  Status st = WriteFileAtomic(path, text);
  if (!st.ok()) err << "harness: cannot write " << path << ": " << st.ToString() << "\n";
  return st.ok();
}

// Renders report.html from the run directory's files and writes it there. A page that cannot
// be rendered is said on `err` and is not a write failure; returns whether nothing failed to
// be written.
bool WriteReportHtml(const std::string& dir, std::ostream& err) {
  std::string chart_note;
  auto html = report::RenderRunDirectory(dir, &chart_note);
  bool ok = true;
  if (html.ok()) {
    ok = WriteOutput(dir + "/report.html", *html, err);
  } else {
    err << "harness: report.html: " << html.status().message() << "\n";
  }
  if (!chart_note.empty()) err << "harness: report.html without charts: " << chart_note << "\n";
  return ok;
}

// Writes results.json, junit.xml (and their copies asked for by --json/--junit), then
// report.html rendered from them. Every file is tried; returns whether all were written.
bool WriteRunOutputs(const cli::RunOptions& options, const std::string& dir,
                     const RunSummary& run) {
  const std::string results = ResultsJson(run).dump(2);
  const std::string junit = JunitXml(run);
  bool ok = WriteOutput(dir + "/results.json", results, std::cerr);
  ok &= WriteOutput(dir + "/junit.xml", junit, std::cerr);
  if (options.json) ok &= WriteOutput(options.json->string(), results, std::cerr);
  if (options.junit) ok &= WriteOutput(options.junit->string(), junit, std::cerr);
  // report.html is rendered from the files just written, as `harness report` does later.
  return WriteReportHtml(dir, std::cerr) && ok;
}

}  // namespace

int ExecutePlan(const cli::RunOptions& options, const topology::Topology& topology,
                const plan::Plan& plan) {
  InterruptGuard interrupt_guard;
  g_interrupted = false;
  auto dir = MakeRunDir(options.results_dir.string(), topology.name, plan.seed);
  if (!dir.ok()) {
    std::cerr << "harness: " << dir.status().ToString() << "\n";
    return 3;
  }
  const std::string command =
      "harness run " + options.topology.string() + " --seed " + std::to_string(plan.seed);
  nlohmann::json manifest =
      Manifest(*dir, options.topology.string(), plan.seed, OVL_SOURCE_DIR, command);
  if (!WriteOutput(dir->path + "/manifest.json", manifest.dump(2), std::cerr)) return 3;
  const std::string history_path = dir->path + "/history.jsonl";
  ops::HistoryWriter history(history_path);
  if (!history.ok()) {
    std::cerr << "harness: cannot write " << history_path << ": " << history.status().ToString()
              << "\n";
    return 3;
  }

  auto scenarios = scenario::LoadScenarios(options.workloads_dir);
  if (!scenarios.ok()) {
    std::cerr << "harness: scenario catalogue: " << scenarios.status().ToString() << "\n";
    return 2;
  }
  auto baselines =
      Baselines::Load(Env("OVL_BASELINES", std::string(OVL_SOURCE_DIR) + "/baselines"));
  if (!baselines.ok()) {
    std::cerr << "harness: baselines: " << baselines.status().message() << "\n";
    return 2;
  }
  utsname host{};
  uname(&host);
  const std::string host_kernel = host.release;
  // The kernel release a server runs on: the host's for local servers, its guest's in a VM
  // (a Debian series' release from the image; "custom" for a user-supplied kernel).
  std::shared_ptr<backend::libvirt::LibvirtBackend> vms;
  auto kernel_of = [&](const std::string& server) {
    const topology::ServerSpec* spec = topology.FindServer(server);
    if (!spec || spec->backend != topology::Backend::kLibvirt || !spec->kernel) return host_kernel;
    if (spec->kernel->series.empty()) return std::string("custom");
    if (vms) {
      for (const auto& k : vms->image().kernels) {
        if (k.series == spec->kernel->series) return k.release;
      }
    }
    return spec->kernel->series;
  };
  std::map<std::string, const scenario::Scenario*> by_id;
  for (const auto& s : *scenarios) by_id[s.id] = &s;

  const backend::LocalPaths paths = BinaryPaths();
  const std::string logs = dir->path + "/logs";
  std::map<std::string, std::unique_ptr<backend::ServerNode>> servers;
  for (const auto& ps : plan.servers) {
    const topology::ServerSpec* spec = topology.FindServer(ps.name);
    if (ps.backend != topology::Backend::kLocal) continue;  // VMs are booted below
    if (ps.variant == topology::Variant::kKernelOverlay) {
      servers[ps.name] = backend::MakeLocalKernelOverlay(*spec);
    } else if (ps.variant == topology::Variant::kReference ||
               ps.variant == topology::Variant::kReferenceVolatile ||
               ps.variant == topology::Variant::kReferenceNoindex) {
      servers[ps.name] = backend::MakeLocalOvlnfsd(*spec, paths, logs);
    } else if (ps.variant == topology::Variant::kGanesha) {
      servers[ps.name] = backend::MakeLocalGanesha(*spec, logs);
    }
  }
  std::map<std::string, std::unique_ptr<backend::AgentNode>> agents;
  std::string agent_failure;
  for (const auto& ci : plan.clients) {
    if (ci.backend != topology::Backend::kLocal) continue;
    auto a = backend::StartLocalAgent(ci.name, ci.access, paths, logs);
    if (!a.ok()) {
      agent_failure = ci.name + ": " + a.status().ToString();
      break;
    }
    agents[ci.name] = std::move(*a);
  }
  // VMs: every libvirt node boots before the first case; a VM that does not boot is an
  // infrastructure error (exit 3) whose message holds its console tail. Once interrupted
  // (an image build can take minutes), nothing boots: the cases come out "interrupted".
  if (topology.UsesLibvirt() && !g_interrupted) {
    backend::libvirt::LibvirtOptions lo;
    lo.settings = topology.libvirt;
    lo.run_dir = dir->path;
    lo.ovlnfsd = paths.ovlnfsd;
    lo.agent = paths.agent;
    lo.guestd = Env("OVL_GUESTD", OVL_GUESTD_PATH);
    auto opened = backend::libvirt::LibvirtBackend::Open(lo);
    auto nodes = !opened.ok() ? Result<backend::libvirt::VmNodes>(opened.status())
                 : g_interrupted
                     ? Result<backend::libvirt::VmNodes>(backend::libvirt::VmNodes{})
                     : backend::libvirt::StartVmNodes(*opened, topology, plan, NumCpus());
    if (!nodes.ok()) {
      std::cerr << "harness: libvirt: " << nodes.status().ToString() << "\n";
      return 3;
    }
    vms = *opened;
    manifest["accel"] = vms->accel_note();
    if (!WriteOutput(dir->path + "/manifest.json", manifest.dump(2), std::cerr)) return 3;
    for (auto& [name, node] : nodes->servers) servers[name] = std::move(node);
    for (auto& [name, node] : nodes->agents) agents[name] = std::move(node);
  }

  RunClock clock;
  RunSummary run;
  run.run_id = dir->id;
  run.topology = topology.name;
  run.seed = plan.seed;
  run.started = dir->started;
  const bool tty = IsTty();
  ScenarioPhaseContext sc;
  sc.plan = &plan;
  sc.repeat = options.repeat;
  sc.keep = options.keep;
  sc.tty = tty;
  sc.servers = &servers;
  sc.agents = &agents;
  sc.scenarios = &by_id;
  sc.agent_failure = agent_failure;
  sc.baselines = &*baselines;
  sc.kernel_of = kernel_of;
  sc.history = &history;
  sc.clock = &clock;
  sc.run_dir = dir->path;
  sc.interrupted = &g_interrupted;
  ScenarioPhaseResult scenario_phase = RunScenarioPhase(sc);
  run.cases = std::move(scenario_phase.cases);
  std::map<std::string, PhaseThroughput>& phases = scenario_phase.phases;
  std::vector<ops::Event> events;  // of the mixed workload on one server, for the model

  if (plan.mixed.enabled && !g_interrupted) {
    for (const auto& name : MixedServers(plan)) {
      if (!history.ok()) break;
      CaseReport r;
      r.id = name + "/mixed";
      r.server = name;
      r.scenario = scenario::kMixedScenario;
      r.fault = "random";
      r.seed = plan.seed;
      const plan::PlannedServer* ps = nullptr;
      for (const auto& s : plan.servers) {
        if (s.name == name) ps = &s;
      }
      r.variant = Name(ps->variant);
      auto server = servers.find(name);
      std::string unsupported = server == servers.end() ? "no backend for this server in this build"
                                                        : server->second->Unsupported();
      std::vector<backend::AgentNode*> mixed_agents;
      for (const auto& c : MixedClients(plan, name)) {
        auto a = agents.find(c);
        if (a != agents.end()) mixed_agents.push_back(a->second.get());
      }
      if (unsupported.empty() && mixed_agents.empty()) unsupported = "no client reaches it";
      if (tty) std::cout << "\r\033[K[mixed] " << r.id << std::flush;
      if (!unsupported.empty()) {
        r.verdict = Verdict::kUnsupported;
        r.explanation = unsupported;
      } else {
        r.access = std::string(topology::NameOf(
            topology::kAccessNames,
            plan.clients.empty() ? topology::Access::kLibnfs : plan.clients.front().access));
        MixedContext mc;
        mc.case_id = r.id;
        mc.server_name = name;
        mc.variant = ps->variant;
        mc.seed = plan.seed;
        mc.ops = plan.mixed.ops;
        mc.duration = plan.mixed.duration;
        mc.layers = static_cast<int>(topology.FindServer(name)->layers);
        for (const auto& f : plan.mixed.schedule) {
          if (f.target == name) mc.faults.push_back(f);
        }
        mc.server = server->second.get();
        mc.agents = mixed_agents;
        mc.layers_dir = dir->path + "/servers/" + name + "/mixed";
        mc.keep = options.keep;
        events.clear();
        mc.history = &history;
        mc.events = &events;
        mc.clock = &clock;
        MixedRun mr = RunMixed(mc);
        r.seconds = mr.run.seconds;
        r.ops = mr.run.ops;
        run.phases.push_back({"mixed:" + name, mr.run.ops, mr.run.bytes, mr.run.seconds});
        if (mr.run.status != CaseRun::Status::kDone) {
          r.verdict = mr.run.status == CaseRun::Status::kUnsupported ? Verdict::kUnsupported
                                                                     : Verdict::kUnresolved;
          r.explanation = mr.run.reason;
        } else {
          r.explanation = std::to_string(mr.faults_injected) + " faults injected, " +
                          std::to_string(mr.faults_not_reached) + " after the end";
          ApplyJudgement(r, JudgeCase(events), ps->expect, *baselines, kernel_of(name),
                         *server->second);
        }
      }
      if (!tty || r.verdict == Verdict::kFail || r.verdict == Verdict::kUnresolved) {
        if (tty) std::cout << "\r\033[K";
        std::cout << VerdictName(r.verdict) << ": " << r.id << " -- "
                  << r.explanation.substr(0, r.explanation.find('\n')) << std::endl;
      }
      run.cases.push_back(std::move(r));
    }
    if (tty) std::cout << "\r\033[K";
  }
  if (!plan.throughput.empty() && !g_interrupted && history.ok()) {
    ThroughputContext tc{
        plan.throughput,
        options.workloads_dir / "throughput",
        ThroughputTargets(plan, servers, agents),
        paths,
        logs,
        dir->path + "/throughput",
        plan.seed,
        options.repeat,
        options.keep,
        &g_interrupted,
        [](const std::string& line) { std::cout << "throughput: " << line << std::endl; }};
    ThroughputResults tr = RunThroughput(tc);
    if (!tr.error.empty()) std::cerr << "harness: " << tr.error << "\n";
    run.jobs = std::move(tr.jobs);
    run.timeline = std::move(tr.timeline);
    run.recovery = std::move(tr.recovery);
  }
  servers.clear();  // stops servers and unmounts before the results are written
  agents.clear();

  for (auto& [name, p] : phases) run.phases.insert(run.phases.begin(), p);
  run.seconds = clock.Now();
  run.blind_controls = BlindControls(run.cases, topology);
  run.exit_code = ExitCode(run.cases, run.blind_controls);
  // An interrupted run did not finish what it was asked: never "as expected".
  if (g_interrupted && run.exit_code == 0) run.exit_code = 3;
  // A run whose history or results are incomplete cannot stand as a verdict.
  if (Status h = history.status(); !h.ok()) {
    std::cerr << "harness: cannot write " << history_path << ": " << h.ToString()
              << "; the run stopped there\n";
    run.exit_code = 3;
  }
  if (!WriteRunOutputs(options, dir->path, run)) run.exit_code = 3;

  std::cout << "\n";
  PrintVerdictTable(run, std::cout);
  std::map<std::string, int> counts;
  for (const auto& c : run.cases) counts[VerdictName(c.verdict)]++;
  std::cout << "\n";
  for (const auto& [v, n] : counts) std::cout << v << ": " << n << "  ";
  std::cout << "\nharness: seed " << plan.seed << ", " << run.seconds << " s, exit code "
            << run.exit_code << "\nharness: results in " << dir->path << "\n";
  if (g_interrupted) std::cout << "harness: interrupted\n";
  return run.exit_code;
}

int RenderReport(const std::string& run_dir, std::ostream& out, std::ostream& err) {
  std::ifstream in(run_dir + "/results.json");
  auto j = nlohmann::json::parse(in, nullptr, false);
  auto run =
      j.is_discarded() ? Result<RunSummary>(Status::Error(EINVAL, "not JSON")) : SummaryFromJson(j);
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
