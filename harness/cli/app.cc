#include "cli/app.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <optional>

#include "base/file_text.h"
#include "topology/loader.h"
#include "topology/yaml_reader.h"
#include "workload/workloads.h"

namespace ovl::cli {
namespace {

using topology::Catalogue;
using topology::Checked;
using topology::NameOf;
using topology::Topology;

std::optional<workload::Workloads> LoadWorkloadsOrReport(const workload::WorkloadPaths& paths,
                                                         std::ostream& err) {
  Checked<workload::Workloads> w = workload::LoadWorkloads(paths);
  if (w.ok()) return std::move(w).value();
  err << topology::FormatDiagnostics(w.errors());
  err << fmt::format("harness: the workloads ({}, {}) have {} error{}\n", paths.workloads.string(),
                     paths.baselines.string(), w.errors().size(),
                     w.errors().size() == 1 ? "" : "s");
  return std::nullopt;
}

// Where the baselines are unless --baselines says: $OVL_BASELINES, else the source tree's.
std::string DefaultBaselines() {
  const char* env = std::getenv("OVL_BASELINES");
  return env && *env ? env : std::string(OVL_SOURCE_DIR) + "/baselines";
}

std::optional<Topology> LoadTopologyOrReport(const std::filesystem::path& file,
                                             const Catalogue& catalogue, std::ostream& err) {
  Checked<Topology> t = topology::LoadTopology(file, catalogue);
  if (t.ok()) return std::move(t).value();
  err << topology::FormatDiagnostics(t.errors());
  err << fmt::format("harness: {}: {} error{}\n", file.string(), t.errors().size(),
                     t.errors().size() == 1 ? "" : "s");
  return std::nullopt;
}

void ListScenarios(const Catalogue& catalogue, std::ostream& out) {
  out << "scenarios (" << catalogue.scenarios.size() << "):\n";
  for (const topology::ScenarioInfo& s : catalogue.scenarios) {
    std::vector<std::string> faults;
    for (topology::FaultKind f : s.faults)
      faults.push_back(topology::NameString(topology::kFaultKindNames, f));
    std::vector<std::string> needs;
    for (topology::Need n : s.needs) needs.push_back(topology::NameString(topology::kNeedNames, n));
    out << fmt::format("  {:<24} faults [{}]{}\n  {:<24} {}\n", s.id, fmt::join(faults, ", "),
                       needs.empty() ? "" : fmt::format(", needs [{}]", fmt::join(needs, ", ")), "",
                       s.summary);
  }
}

void ListVariants(std::ostream& out) {
  out << "variants:\n";
  for (const auto& [name, variant] : topology::kVariantNames) {
    const topology::VariantInfo& info = topology::InfoOf(variant);
    std::string where = info.libvirt_only ? "libvirt" : info.local_only ? "local" : "local|libvirt";
    out << fmt::format("  {:<20} {:<14} {}{}\n", name, where, info.summary,
                       info.control_reason.empty() ? "" : ": must declare expect: fail");
  }
}

void ListBackends(std::ostream& out) {
  out << "backends:\n";
  for (const auto& [name, backend] : topology::kBackendNames) {
    out << fmt::format("  {:<10} {}\n", name, topology::SummaryOf(backend));
  }
  out << "client access paths:\n";
  for (const auto& [name, access] : topology::kAccessNames) {
    out << fmt::format("  {:<16} {}\n", name, topology::SummaryOf(access));
  }
}

// A subcommand listed in --help whose arguments, --help included, all go to its ForwardFunction.
// `harness explore`'s own options, parsed into `o` (the seed and --results are the run's).
struct ExploreArgs {
  std::string topology;
  std::string budget = "10m";
  std::string shrink_budget = "5m";
  std::vector<std::string> faults = {"evict", "reboot", "crash"};
  bool one_client = false;
  bool no_raw_nfs = false;
  runner::ExploreOptions options;
};

CLI::App* AddExplore(CLI::App& app, ExploreArgs* a, uint64_t* seed, CLI::Option** seed_opt,
                     std::string* results) {
  CLI::App* cmd = app.add_subcommand(
      "explore",
      "run generated cases (seeded steps and faults) on every server of a topology for a time "
      "budget; shrink each failure to a small scenario file; exit code as for run");
  cmd->add_option("topology", a->topology, "topology YAML file")->required();
  *seed_opt = cmd->add_option("--seed", *seed,
                              "seed of the generated cases (default: the "
                              "topology's)");
  cmd->add_option("--budget", a->budget, "time spent running generated cases (90s, 10m)")
      ->capture_default_str();
  cmd->add_option("--cases", a->options.max_cases, "generated cases at most (0: until the budget)")
      ->capture_default_str();
  cmd->add_option("--shrink-budget", a->shrink_budget, "time per failure shrunk")
      ->capture_default_str();
  cmd->add_option("--max-shrinks", a->options.max_shrinks, "failures shrunk at most")
      ->capture_default_str();
  cmd->add_option("--steps", a->options.generator.steps, "steps per generated case")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1000}))
      ->capture_default_str();
  cmd->add_option("--faults", a->faults, "fault kinds drawn (evict reboot crash client-evict)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--fault-percent", a->options.generator.fault_percent,
                  "chance that a step is a fault")
      ->check(CLI::Range(uint32_t{0}, uint32_t{100}))
      ->capture_default_str();
  cmd->add_flag("--catalogue", a->options.catalogue,
                "run the topology's catalogue cases first, in the same run (mutation score)");
  cmd->add_flag("--one-client", a->one_client, "no second client");
  cmd->add_flag("--no-raw-nfs", a->no_raw_nfs,
                "no READDIR in pages and no exclusive creates (which need a raw NFS client)");
  cmd->add_option("--server", a->options.servers, "explore only this server; repeatable");
  cmd->add_option("--results", *results, "directory the run directory is created in")
      ->capture_default_str();
  return cmd;
}

// Turns the parsed texts of ExploreArgs into its options; false (with the reason on `err`) when
// a value is not valid.
bool ResolveExplore(ExploreArgs* a, std::ostream& err) {
  std::optional<std::chrono::milliseconds> budget = topology::ParseDuration(a->budget);
  std::optional<std::chrono::milliseconds> shrink = topology::ParseDuration(a->shrink_budget);
  if (!budget || !shrink) {
    err << "harness: explore: --budget and --shrink-budget take durations (90s, 10m)\n";
    return false;
  }
  a->options.budget = *budget;
  a->options.shrink_budget = *shrink;
  a->options.generator.faults.clear();
  for (const std::string& f : a->faults) {
    std::optional<topology::FaultKind> kind = topology::FromName(topology::kFaultKindNames, f);
    if (!kind || *kind == topology::FaultKind::kUpgrade) {
      err << "harness: explore: --faults: " << f
          << " is not one of evict, reboot, crash, client-evict\n";
      return false;
    }
    a->options.generator.faults.push_back(*kind);
  }
  a->options.generator.two_clients = !a->one_client;
  a->options.generator.raw_nfs = !a->no_raw_nfs;
  return true;
}

// Adds the scenario files of `harness run --scenario` to the workloads; false (with every
// problem on `err`) when one does not parse or its id is already in the catalogue.
bool AddScenarioFiles(const std::vector<std::string>& files, workload::Workloads* w,
                      std::vector<std::string>* ids, std::ostream& err) {
  for (const std::string& file : files) {
    Checked<scenario::Scenario> s = workload::ReadScenarioFile(file);
    if (!s.ok()) {
      err << topology::FormatDiagnostics(s.errors());
      return false;
    }
    ids->push_back(s->info.id);
    if (Status added = workload::AddScenario(w, std::move(s).value()); !added.ok()) {
      err << "harness: " << added.message() << "\n";
      return false;
    }
  }
  return true;
}

CLI::App* AddForwarded(CLI::App& app, const std::string& name, const std::string& summary) {
  CLI::App* sub = app.add_subcommand(name, summary);
  sub->prefix_command();
  sub->set_help_flag();
  sub->fallthrough(false);
  return sub;
}

// Runs `function` on what followed the subcommand `name`.
int Forward(const ForwardFunction& function, const std::string& name, CLI::App* sub,
            std::ostream& out, std::ostream& err) {
  if (!function) {
    err << "harness: " << name << " is not available in this build\n";
    return kExitUsage;
  }
  return function(sub->remaining(), out, err);
}

}  // namespace

int HarnessMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                const Commands& commands) {
  CLI::App app(
      "Runs NFS-export-of-overlayfs scenarios against server variants under crash, "
      "reboot and eviction, as described by a topology file.",
      "harness");
  app.require_subcommand(1);
  app.fallthrough();
  std::string workloads = std::string(OVL_SOURCE_DIR) + "/workloads";
  app.add_option("--workloads", workloads,
                 "directory holding scenarios/ and fixtures/ (the scenario catalogue)")
      ->capture_default_str();
  std::string baselines = DefaultBaselines();
  app.add_option("--baselines", baselines,
                 "directory of known failures, <variant>.txt (default: $OVL_BASELINES, else the "
                 "source tree's)")
      ->capture_default_str();

  std::string validate_path;
  CLI::App* validate = app.add_subcommand("validate", "check a topology file; exit 2 on errors");
  validate->add_option("topology", validate_path, "topology YAML file")->required();

  std::string what;
  CLI::App* list = app.add_subcommand("list", "list scenarios, variants or backends");
  list->add_option("what", what, "scenarios | variants | backends (default: all)")
      ->check(CLI::IsMember({"scenarios", "variants", "backends"}));

  std::string report_dir;
  CLI::App* report_cmd =
      app.add_subcommand("report", "re-render the report of a finished run directory");
  report_cmd->add_option("run_dir", report_dir, "results/<run-id>")->required();

  std::string analyze_dir;
  CLI::App* analyze_cmd = app.add_subcommand(
      "analyze",
      "re-judge a finished run's history.jsonl with the current model and baselines; rewrite "
      "its results.json, junit.xml and report.html");
  analyze_cmd->add_option("run_dir", analyze_dir, "results/<run-id>")->required();

  std::string diff_a, diff_b;
  CLI::App* diff_cmd = app.add_subcommand(
      "diff",
      "compare two finished runs: new failures, fixes, flaky cases, throughput changes beyond "
      "the repeats' noise; exit 1 on a regression");
  diff_cmd->add_option("run_a", diff_a, "the earlier run (results/<run-id>)")->required();
  diff_cmd->add_option("run_b", diff_b, "the later run")->required();

  runner::RunOptions options;
  std::string topology_path, results = options.results_dir.string(), junit, json;
  uint64_t seed = 0;
  CLI::App* run_cmd = app.add_subcommand("run", "run a topology (or print its plan: --dry-run)");
  run_cmd->add_option("topology", topology_path, "topology YAML file")->required();
  CLI::Option* seed_opt = run_cmd->add_option("--seed", seed,
                                              "seed for case order, fault times and ports "
                                              "(default: the topology's seed)");
  run_cmd->add_option("--results", results, "directory the run directory is created in")
      ->capture_default_str();
  run_cmd
      ->add_option("--only", options.only,
                   "run only this scenario (id, or id@fault); repeatable; leaves out the "
                   "mixed and throughput workloads")
      ->allow_extra_args(false);
  std::vector<std::string> scenario_files;
  run_cmd
      ->add_option("--scenario", scenario_files,
                   "run this scenario file (e.g. a shrunk case of `harness explore`) on every "
                   "server of the topology, and only it; repeatable")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);
  run_cmd->add_flag("--dry-run", options.dry_run, "print the resolved plan and exit");
  run_cmd->add_flag("--keep", options.keep, "leave nodes and work directories after the run");
  CLI::Option* junit_opt = run_cmd->add_option("--junit", junit, "also write JUnit XML here");
  CLI::Option* json_opt = run_cmd->add_option(
      "--json", json, "also write results JSON here (with --dry-run: the plan as JSON)");
  run_cmd->add_option("--repeat", options.repeat, "run the plan N times")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10000}))
      ->capture_default_str();

  std::string guest_topology, guest_server, guest_script;
  uint64_t guest_timeout = 600;
  CLI::App* guest_cmd = app.add_subcommand(
      "guest",
      "boot one server VM of a topology alone and run a shell script in it, as root, before "
      "anything is served (reductions by hand); exit code: the script's");
  guest_cmd->add_option("topology", guest_topology, "topology YAML file")->required();
  guest_cmd->add_option("server", guest_server, "a server of the topology on libvirt")->required();
  guest_cmd->add_option("script", guest_script, "shell script file, run with sh")
      ->required()
      ->check(CLI::ExistingFile);
  guest_cmd->add_option("--timeout", guest_timeout, "seconds the script may take")
      ->check(CLI::Range(uint64_t{1}, uint64_t{86400}))
      ->capture_default_str();
  guest_cmd->add_option("--results", results, "directory the run directory is created in")
      ->capture_default_str();

  ExploreArgs explore;
  CLI::Option* explore_seed = nullptr;
  CLI::App* explore_cmd = AddExplore(app, &explore, &seed, &explore_seed, &results);

  CLI::App* image_cmd =
      AddForwarded(app, "image", "image build|list|clean: the libvirt backend's guest image");
  CLI::App* clean_cmd = AddForwarded(
      app, "clean", "remove what killed runs left: overlay mounts, VM domains, disks, sockets");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }

  auto unavailable = [&](const std::string& name) {
    err << "harness: " << name << " is not available in this build\n";
    return kExitUsage;
  };
  if (image_cmd->parsed()) return Forward(commands.image, "image", image_cmd, out, err);
  if (clean_cmd->parsed()) return Forward(commands.clean, "clean", clean_cmd, out, err);
  if (report_cmd->parsed()) {
    return commands.report ? commands.report(report_dir, out, err) : unavailable("report");
  }
  if (diff_cmd->parsed()) {
    return commands.diff ? commands.diff(diff_a, diff_b, out, err) : unavailable("diff");
  }

  if (list->parsed() && (what == "variants" || what == "backends")) {
    if (what == "variants") ListVariants(out);
    if (what == "backends") ListBackends(out);
    return kExitOk;
  }
  std::optional<workload::Workloads> loaded = LoadWorkloadsOrReport({workloads, baselines}, err);
  if (!loaded) return kExitUsage;
  std::vector<std::string> file_ids;  // of --scenario files
  if (!AddScenarioFiles(scenario_files, &*loaded, &file_ids, err)) return kExitUsage;
  if (explore_cmd->parsed() && !ResolveExplore(&explore, err)) return kExitUsage;
  if (analyze_cmd->parsed()) {
    return commands.analyze ? commands.analyze(analyze_dir, loaded->baselines, out, err)
                            : unavailable("analyze");
  }
  if (list->parsed()) {
    ListScenarios(loaded->catalogue, out);
    if (what.empty()) {
      ListVariants(out);
      ListBackends(out);
    }
    return kExitOk;
  }
  const std::string& path = validate->parsed()      ? validate_path
                            : guest_cmd->parsed()   ? guest_topology
                            : explore_cmd->parsed() ? explore.topology
                                                    : topology_path;
  std::optional<Topology> topology = LoadTopologyOrReport(path, loaded->catalogue, err);
  if (!topology) return kExitUsage;
  for (const std::string& id : file_ids) {
    auto& listed = topology->workloads.scenarios;
    if (std::find(listed.begin(), listed.end(), id) == listed.end()) listed.push_back(id);
    options.only.push_back(id);
  }

  const bool seeded = seed_opt->count() > 0 || explore_seed->count() > 0;
  plan::PlanOptions plan_options;
  if (seeded) plan_options.seed = seed;
  plan_options.only = options.only;
  // Unpinned servers spread over several hosts by their CPUs, which only libvirt knows.
  if (topology->libvirt.hosts.size() > 1 && commands.host_cpus && !validate->parsed() &&
      !options.dry_run) {
    plan_options.host_cpus = commands.host_cpus(*topology, err);
  }
  Result<plan::Plan> plan = plan::MakePlan(*topology, loaded->catalogue, plan_options);
  if (!plan.ok()) {
    err << "harness: " << plan.status().message() << "\n";
    return kExitUsage;
  }

  if (validate->parsed()) {
    out << fmt::format("{}: ok: {}; {} cases ({} unsupported); seed {}\n", path,
                       topology->Summary(), plan->cases.size(), plan->UnsupportedCount(),
                       plan->seed);
    return kExitOk;
  }

  options.topology = path;
  if (seeded) options.seed = seed;
  options.results_dir = results;
  if (junit_opt->count() > 0) options.junit = junit;
  if (json_opt->count() > 0) options.json = json;
  out << fmt::format("harness: topology {} ({}), seed {} ({})\n", topology->name, path, plan->seed,
                     options.seed ? "from --seed" : "from the topology");
  if (guest_cmd->parsed()) {
    std::optional<std::string> script = ReadFileText(guest_script);
    if (!script) {
      err << "harness: guest: cannot read " << guest_script << "\n";
      return kExitUsage;
    }
    if (!commands.guest) return unavailable("guest");
    return commands.guest(runner::RunRequest{std::move(options), std::move(*topology),
                                             std::move(*loaded), std::move(*plan)},
                          guest_server, *script, std::chrono::seconds(guest_timeout));
  }
  if (explore_cmd->parsed()) {
    if (!commands.explore) return unavailable("explore");
    return commands.explore(runner::RunRequest{std::move(options), std::move(*topology),
                                               std::move(*loaded), std::move(*plan)},
                            explore.options);
  }
  if (!commands.run) return unavailable("run");
  return commands.run(runner::RunRequest{std::move(options), std::move(*topology),
                                         std::move(*loaded), std::move(*plan)});
}

}  // namespace ovl::cli
