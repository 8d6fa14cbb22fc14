#include "cli/dry_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "image/image.h"
#include "plan/plan_json.h"

namespace ovl::cli {
namespace {

using topology::NameOf;

// "12.345s": fault times to the millisecond.
std::string Seconds(std::chrono::milliseconds t) {
  return fmt::format("{}.{:03}s", t.count() / 1000, t.count() % 1000);
}

std::string PortText(const plan::PlannedServer& s) {
  if (!s.port) return "no NFS (host syscalls)";
  if (*s.port == 0) return "NFS port 0 (ephemeral: chosen when the server starts)";
  return fmt::format("NFS port {} in the guest", *s.port);
}

// Width of the name column: the longest server or client instance name.
size_t NameWidth(const plan::Plan& plan) {
  size_t width = 12;
  for (const plan::PlannedServer& s : plan.servers) width = std::max(width, s.name.size());
  for (const plan::ClientInstance& c : plan.clients) width = std::max(width, c.name.size());
  return width;
}

void AppendServers(const plan::Plan& plan, std::string* out) {
  const size_t w = NameWidth(plan);
  *out += fmt::format("servers ({}):\n", plan.servers.size());
  for (const plan::PlannedServer& ps : plan.servers) {
    const topology::ServerSpec& s = ps.spec;
    const topology::VariantInfo& info = topology::InfoOf(s.variant);
    *out += fmt::format("  {:<{}} {:<18} {:<8} expect {:<4}  {}\n", s.name, w,
                        topology::NameString(topology::kVariantNames, s.variant),
                        topology::NameString(topology::kBackendNames, s.backend),
                        topology::NameString(topology::kExpectNames, s.expect), PortText(ps));
    std::string details = s.DescribeLayers() + ", fixture " + s.fixture.Describe();
    if (info.kernel_overlay) details += ", overlay " + s.overlay.MountOptions();
    if (info.has_threads) details += fmt::format(", {} threads", s.threads);
    if (info.serves_nfs) details += ", export " + s.export_path;
    if (s.kernel) details += ", kernel " + s.kernel->Describe();
    if (s.plant) details += fmt::format(", planted bug {}", PlantName(*s.plant));
    *out += fmt::format("  {:<{}} {}\n", "", w, details);
  }
}

void AppendClients(const topology::Topology& t, const plan::Plan& plan, std::string* out) {
  const size_t w = NameWidth(plan);
  *out += fmt::format("client instances ({}):\n", plan.clients.size());
  for (const plan::ClientInstance& c : plan.clients) {
    const topology::ClientSpec& spec = c.spec;
    std::string notes = spec.implicit ? " (implicit)" : "";
    if (c.access == topology::Access::kKernelMount) {
      for (const std::string& version : spec.nfs_versions) {
        notes +=
            (version == spec.nfs_versions.front() ? " mount " : "; ") + spec.MountOptions(version);
      }
    }
    if (spec.kernel) notes += ", kernel " + spec.kernel->Describe();
    *out += fmt::format("  {:<{}} {:<14} {:<8} -> {}{}\n", c.name, w,
                        topology::NameString(topology::kAccessNames, c.access),
                        topology::NameString(topology::kBackendNames, c.backend),
                        fmt::join(c.servers, ", "), notes);
  }
  if (!t.UsesLibvirt()) {
    *out += "links: none (no VMs)\n";
    return;
  }
  *out += fmt::format("links ({}, qemu UDP sockets on 127.0.0.1):\n", plan.links.size());
  for (const plan::Link& l : plan.links) {
    *out += fmt::format("  {:<{}} <-> {:<{}} on {}, server port {}, client port {}\n", l.client, w,
                        l.server, w, l.host, l.server_port, l.client_port);
  }
  // Placement (plan.h): a dry run does not ask libvirt, so every host counts its CPUs as 1.
  *out += fmt::format("libvirt hosts ({}):\n", plan.hosts.size());
  auto names = [](const std::vector<std::string>& v) {
    return v.empty() ? std::string("none") : fmt::format("{}", fmt::join(v, ", "));
  };
  for (const plan::HostPlan& h : plan.hosts) {
    *out += fmt::format(
        "  {:<{}} {} (pool {} at {}), {} cpu{}, ~{:.0f} s of cases: servers {}; "
        "clients {}\n",
        h.name, w, h.uri, h.pool, h.pool_path, h.cpus, h.cpus == 1 ? "" : "s", h.expected_seconds,
        names(h.servers), names(h.clients));
  }
  const topology::LibvirtSettings& lv = t.libvirt;
  *out += fmt::format(
      "libvirt: {}, accel {}, cache {}, image {} from {} (kernels {}; size {}), {} memory and {} "
      "vcpu per VM, boot timeout {}\n",
      lv.uri, topology::NameString(topology::kAccelNames, lv.accel),
      lv.cache_dir.empty() ? std::string(image::kDefaultCacheDir) : lv.cache_dir.string(),
      lv.image.suite, lv.image.mirror,
      lv.image.kernels.empty() ? fmt::format("{}", fmt::join(topology::kKernelSeries, ", "))
                               : fmt::format("{}", fmt::join(lv.image.kernels, ", ")),
      topology::FormatSize(lv.image.size), topology::FormatSize(lv.memory), lv.vcpus,
      topology::FormatDuration(lv.boot_timeout));
}

void AppendWorkloads(const plan::Plan& plan, std::string* out) {
  const plan::MixedPlan& m = plan.mixed;
  if (!m.enabled) {
    *out += "mixed workload: off\n";
  } else {
    *out += fmt::format("mixed workload: up to {} ops within {}, clients {}\n", m.ops,
                        topology::FormatDuration(m.duration), fmt::join(m.clients, ", "));
    *out += fmt::format("fault schedule ({} events):\n", m.schedule.size());
    for (const plan::FaultEvent& e : m.schedule) {
      std::string when =
          e.at_step ? fmt::format("step {}", e.step) : fmt::format("t={}", Seconds(e.time));
      *out += fmt::format("  {:<12} {:<12} {:<{}} {}{}\n", when,
                          topology::NameString(topology::kFaultKindNames, e.kind), e.target,
                          NameWidth(plan), e.origin, e.drawn ? ", time drawn from the seed" : "");
    }
  }
  if (plan.throughput.empty()) return;
  *out += fmt::format("throughput jobs ({}):\n", plan.throughput.size());
  for (const topology::ThroughputJob& j : plan.throughput) {
    std::string amount = topology::IsDataJob(j.kind) ? "size " + topology::FormatSize(j.size)
                                                     : fmt::format("{} files", j.files);
    *out += fmt::format("  {:<20} {}, {} client{}, {}\n",
                        topology::NameString(topology::kJobKindNames, j.kind), amount, j.clients,
                        j.clients == 1 ? "" : "s", topology::FormatDuration(j.duration));
  }
}

void AppendCases(const plan::Plan& plan, std::string* out) {
  *out += fmt::format("cases ({}, {} unsupported), in run order:\n", plan.cases.size(),
                      plan.UnsupportedCount());
  size_t width = 0;
  for (const plan::Case& c : plan.cases) width = std::max(width, c.id.size());
  for (size_t i = 0; i < plan.cases.size(); ++i) {
    const plan::Case& c = plan.cases[i];
    std::string what = !c.supported()                        ? "UNSUPPORTED: " + c.unsupported
                       : c.expect == topology::Expect::kFail ? "expect fail (negative control)"
                                                             : "expect pass";
    *out += fmt::format("  {:>4}  {:<{}}  {}  [{}]\n", i + 1, c.id, width, what,
                        fmt::join(c.clients, ", "));
  }
}

}  // namespace

std::string FormatPlan(const runner::RunOptions& options, const topology::Topology& topology,
                       const plan::Plan& plan) {
  std::string out = "dry run: nothing is started\n";
  out += fmt::format("topology: {} ({})\n", topology.name, topology.file);
  out += fmt::format("seed: {} ({})\n", plan.seed,
                     plan.seed_from_topology ? "from the topology" : "from --seed");
  out += fmt::format("repeat: {}, results under {}/<run-id>{}\n", options.repeat,
                     options.results_dir.string(), options.keep ? ", nodes kept (--keep)" : "");
  if (!options.only.empty()) {
    out += fmt::format("only: {} (mixed and throughput workloads left out)\n",
                       fmt::join(options.only, ", "));
  }
  AppendServers(plan, &out);
  AppendClients(topology, plan, &out);
  AppendWorkloads(plan, &out);
  AppendCases(plan, &out);
  return out;
}

int PrintDryRun(const runner::RunOptions& options, const topology::Topology& topology,
                const plan::Plan& plan, std::ostream& out, std::ostream& err) {
  out << FormatPlan(options, topology, plan);
  if (!options.json) return 0;
  std::ofstream json(*options.json);
  json << plan::ToJson(plan).dump(2) << "\n";
  json.close();
  if (!json) {
    err << "harness: cannot write " << options.json->string() << "\n";
    return 2;
  }
  out << "plan JSON written to " << options.json->string() << "\n";
  return 0;
}

}  // namespace ovl::cli
