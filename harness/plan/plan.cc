#include "plan/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "base/prng.h"

namespace ovl::plan {
namespace {

using topology::Catalogue;
using topology::ClientSpec;
using topology::FaultSpec;
using topology::kAccessNames;
using topology::kFaultKindNames;
using topology::NameOf;
using topology::Need;
using topology::ScenarioInfo;
using topology::ServerSpec;
using topology::Topology;
using topology::Trigger;

std::string CaseId(const std::string& server, Access access, const std::string& scenario,
                   std::optional<FaultKind> fault) {
  std::string id = fmt::format("{}/{}/{}", server, NameOf(kAccessNames, access), scenario);
  if (fault) id += "@" + std::string(NameOf(kFaultKindNames, *fault));
  return id;
}

// Why `scenario` cannot run on `server` through `access` with `instances` clients, or "".
std::string UnsupportedReason(const ServerSpec& server, const ScenarioInfo& scenario, Access access,
                              size_t instances, std::optional<FaultKind> fault) {
  if (fault == FaultKind::kUpgrade && !server.kernel_upgrade) {
    return "an upgrade boots the server into a second kernel: set servers[].kernel_upgrade "
           "(libvirt servers)";
  }
  if (topology::InfoOf(server.variant).kernel_overlay && server.overlay.nfs_export == "off") {
    return "nfs_export=off: overlayfs does not encode file handles (EOPNOTSUPP), so no handle "
           "can be held";
  }
  if (scenario.Needs(Need::kUpper) && !server.has_upper()) {
    return "needs an upper layer (the scenario changes the namespace or data); this server is a "
           "lower-only, read-only export (filesystems.upper: none)";
  }
  if (scenario.Needs(Need::kPowerLoss) && server.backend == Backend::kLocal) {
    return "needs power loss: on the local backend a crash kills a process and the host page "
           "cache survives it";
  }
  if (scenario.Needs(Need::kRawNfs) && access != Access::kLibnfs) {
    return fmt::format(
        "needs raw NFS procedures (a libnfs client); {} cannot choose the "
        "verifiers and cookies it sends",
        NameOf(kAccessNames, access));
  }
  if (scenario.Needs(Need::kServerHandles) && access == Access::kKernelMount) {
    return "needs the server's own handle bytes: a kernel NFS client wraps them in its own "
           "encoding and checks that itself (it ignores trailing bytes), so a corrupted handle "
           "would test the client, not the server";
  }
  if (scenario.Needs(Need::kOpenFiles) && access == Access::kLocalSyscalls && fault &&
      topology::RestartsServer(*fault)) {
    return "a restart of the host's overlay while a process on the host keeps files open in it: "
           "the old mount lives on with them and the kernel refuses a new mount of the same "
           "upper dir (\"upperdir is in-use\"); a real restart would end that process";
  }
  if (scenario.Needs(Need::kOpenFiles) && access == Access::kLibnfs) {
    return "needs a client that keeps files open: libnfs speaks stateless NFSv3, which has no "
           "open (a kernel NFS mount or local syscalls do)";
  }
  if (scenario.Needs(Need::kTwoClients) && instances < 2) {
    return fmt::format("needs two {} client instances on server '{}'; the topology has {}",
                       NameOf(kAccessNames, access), server.name, instances);
  }
  return "";
}

std::string ExpectSource(const ServerSpec& server) {
  if (server.expect == Expect::kPass) return "model";
  std::string_view why = topology::InfoOf(server.variant).control_reason;
  return "negative control: " + std::string(why.empty() ? "declared expect: fail" : why);
}

std::vector<ClientInstance> Instances(const Topology& t) {
  std::vector<ClientInstance> out;
  for (const ClientSpec& c : t.clients) {
    for (const std::string& name : c.InstanceNames()) {
      out.push_back(ClientInstance{name, c.name, c.access, c.backend, c.servers, c});
    }
  }
  return out;
}

// The fault kinds `scenario` expands into on `server` (nullopt: a case without a fault). An
// upgrade is a reboot into another kernel, so a server with kernel_upgrade adds it to every
// scenario that must survive a reboot.
std::vector<std::optional<FaultKind>> FaultsOn(const ScenarioInfo& scenario,
                                               const ServerSpec& server) {
  std::vector<std::optional<FaultKind>> faults(scenario.faults.begin(), scenario.faults.end());
  if (faults.empty()) faults.push_back(std::nullopt);
  const auto has = [&](FaultKind k) {
    return std::find(faults.begin(), faults.end(), k) != faults.end();
  };
  if (server.kernel_upgrade && has(FaultKind::kReboot) && !has(FaultKind::kUpgrade)) {
    faults.push_back(FaultKind::kUpgrade);
  }
  return faults;
}

std::vector<Case> Cases(const Topology& t, const Catalogue& catalogue,
                        const std::vector<ClientInstance>& instances) {
  std::vector<Case> out;
  for (const ServerSpec& server : t.servers) {
    // The access paths reaching this server, in declaration order, each with its instances.
    std::vector<std::pair<Access, std::vector<std::string>>> paths;
    for (const ClientInstance& ci : instances) {
      if (std::find(ci.servers.begin(), ci.servers.end(), server.name) == ci.servers.end()) {
        continue;
      }
      auto path = std::find_if(paths.begin(), paths.end(),
                               [&](const auto& p) { return p.first == ci.access; });
      if (path == paths.end()) path = paths.insert(paths.end(), {ci.access, {}});
      path->second.push_back(ci.name);
    }
    for (const auto& [access, names] : paths) {
      for (const std::string& id : t.workloads.scenarios) {
        const ScenarioInfo* scenario = catalogue.Find(id);
        const size_t wanted = scenario->Needs(Need::kTwoClients) ? 2 : 1;
        for (std::optional<FaultKind> fault : FaultsOn(*scenario, server)) {
          Case c;
          c.id = CaseId(server.name, access, id, fault);
          c.server = server.name;
          c.variant = server.variant;
          c.backend = server.backend;
          c.scenario = id;
          c.fault = fault;
          c.access = access;
          c.clients.assign(names.begin(), names.begin() + std::min(wanted, names.size()));
          c.expect = server.expect;
          c.expect_source = ExpectSource(server);
          c.unsupported = UnsupportedReason(server, *scenario, access, names.size(), fault);
          out.push_back(std::move(c));
        }
      }
    }
  }
  return out;
}

std::vector<Link> Links(uint64_t seed, const std::string& topology,
                        const std::vector<ClientInstance>& instances) {
  std::vector<Link> out;
  for (const ClientInstance& ci : instances) {
    if (ci.backend != Backend::kLibvirt) continue;
    for (const std::string& server : ci.servers) out.push_back(Link{server, ci.name, 0, 0});
  }
  // The topology name is mixed in so that different topologies run side by side on one host
  // (each with the default seed) do not draw the same ports.
  Prng rng(seed, "ports/" + topology);
  std::vector<uint64_t> ports = rng.Distinct(2 * out.size(), kLinkPortMin, kLinkPortMax + 1);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].server_port = static_cast<uint16_t>(ports[2 * i]);
    out[i].client_port = static_cast<uint16_t>(ports[2 * i + 1]);
  }
  return out;
}

std::vector<FaultEvent> Schedule(const Topology& t, uint64_t seed) {
  std::vector<FaultEvent> out;
  Prng rng(seed, "faults");
  const uint64_t duration_ms = static_cast<uint64_t>(t.duration.count());
  for (const FaultSpec& f : t.faults) {
    FaultEvent e;
    e.kind = f.kind;
    e.target = f.target;
    e.origin = f.path;
    switch (f.trigger) {
      case Trigger::kStep:
        e.at_step = true;
        e.step = f.step;
        out.push_back(e);
        break;
      case Trigger::kTime:
        e.time = f.time;
        out.push_back(e);
        break;
      case Trigger::kRandom: {
        // rate per minute over the duration, at least one: the fault was asked for.
        const double expected = f.rate * static_cast<double>(duration_ms) / 60000.0;
        const uint64_t n = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(expected)));
        e.drawn = true;
        for (uint64_t i = 0; i < n; ++i) {
          e.time = milliseconds(rng.Below(duration_ms));
          out.push_back(e);
        }
        break;
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const FaultEvent& a, const FaultEvent& b) {
    return std::tuple(a.at_step, a.step, a.time) < std::tuple(b.at_step, b.step, b.time);
  });
  return out;
}

// Checks `only` against the topology: each entry names one of its scenarios, optionally with
// one of the scenario's faults.
Status CheckOnly(const std::vector<std::string>& only, const Topology& t,
                 const Catalogue& catalogue) {
  for (const std::string& entry : only) {
    const size_t at = entry.find('@');
    const std::string id = entry.substr(0, at);
    const auto& ids = t.workloads.scenarios;
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
      return Status::Error(EINVAL, fmt::format("--only {}: topology '{}' does not run scenario "
                                               "'{}' (it runs: {})",
                                               entry, t.name, id, fmt::join(ids, ", ")));
    }
    if (at == std::string::npos) continue;
    const ScenarioInfo* s = catalogue.Find(id);
    std::vector<std::string> kinds;
    for (const ServerSpec& server : t.servers) {
      for (std::optional<FaultKind> k : FaultsOn(*s, server)) {
        if (!k) continue;
        std::string name(NameOf(kFaultKindNames, *k));
        if (std::find(kinds.begin(), kinds.end(), name) == kinds.end()) kinds.push_back(name);
      }
    }
    if (std::find(kinds.begin(), kinds.end(), entry.substr(at + 1)) == kinds.end()) {
      return Status::Error(EINVAL, fmt::format("--only {}: scenario '{}' expands into faults [{}]",
                                               entry, id, fmt::join(kinds, ", ")));
    }
  }
  return Status::Ok();
}

bool Selected(const Case& c, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  const std::string expansion =
      c.fault ? c.scenario + "@" + std::string(NameOf(kFaultKindNames, *c.fault)) : c.scenario;
  return std::find(only.begin(), only.end(), c.scenario) != only.end() ||
         std::find(only.begin(), only.end(), expansion) != only.end();
}

}  // namespace

const PlannedServer* Plan::FindServer(std::string_view name) const {
  for (const PlannedServer& s : servers) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

size_t Plan::UnsupportedCount() const {
  return std::count_if(cases.begin(), cases.end(), [](const Case& c) { return !c.supported(); });
}

Result<Plan> MakePlan(const Topology& t, const Catalogue& catalogue, const PlanOptions& options) {
  OVL_RETURN_IF_ERROR(CheckOnly(options.only, t, catalogue));
  Plan plan;
  plan.topology = t.name;
  plan.seed = options.seed.value_or(t.seed);
  plan.seed_from_topology = !options.seed.has_value();
  for (const ServerSpec& s : t.servers) {
    PlannedServer ps{s.name, s.variant, s.backend, s.expect, std::nullopt, s};
    if (topology::InfoOf(s.variant).serves_nfs) {
      ps.port = s.backend == Backend::kLocal ? 0 : kGuestNfsPort;
    }
    plan.servers.push_back(ps);
  }
  plan.clients = Instances(t);
  plan.links = Links(plan.seed, t.name, plan.clients);

  std::vector<Case> cases = Cases(t, catalogue, plan.clients);
  // Shuffle everything, then select: a case keeps its relative place whatever --only says.
  Prng(plan.seed, "cases").Shuffle(&cases);
  for (Case& c : cases) {
    if (Selected(c, options.only)) plan.cases.push_back(std::move(c));
  }

  if (options.only.empty()) {
    plan.mixed.enabled = t.workloads.mixed.enabled;
    plan.throughput = t.workloads.throughput;
  }
  if (plan.mixed.enabled) {
    plan.mixed.ops = t.workloads.mixed.ops;
    plan.mixed.duration = t.duration;
    for (const std::string& name : t.workloads.mixed.clients) {
      std::vector<std::string> names = t.FindClient(name)->InstanceNames();
      plan.mixed.clients.insert(plan.mixed.clients.end(), names.begin(), names.end());
    }
    plan.mixed.schedule = Schedule(t, plan.seed);
  }
  return plan;
}

}  // namespace ovl::plan
