#include "plan/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "base/prng.h"

namespace ovl::plan {
namespace {

using topology::Catalogue;
using topology::ClientSpec;
using topology::FaultSpec;
using topology::kAccessNames;
using topology::kFaultKindNames;
using topology::LibvirtHost;
using topology::NameOf;
using topology::Need;
using topology::ScenarioInfo;
using topology::ServerSpec;
using topology::Topology;
using topology::Trigger;

// The access part of a case id: the access path, and a kernel mount's NFS version unless 3 (so
// that the ids of NFSv3 runs stay what they were).
std::string PathName(Access access, const std::string& nfs_version) {
  std::string out(NameOf(kAccessNames, access));
  if (!nfs_version.empty() && nfs_version != "3") out += "-v" + nfs_version;
  return out;
}

std::string CaseId(const std::string& server, const std::string& path, const std::string& scenario,
                   std::optional<FaultKind> fault) {
  std::string id = fmt::format("{}/{}/{}", server, path, scenario);
  if (fault) id += "@" + std::string(NameOf(kFaultKindNames, *fault));
  return id;
}

// Why `scenario` cannot run on `server` through `access` with `instances` clients, or "".
std::string UnsupportedReason(const ServerSpec& server, const ScenarioInfo& scenario, Access access,
                              const std::string& nfs_version, size_t instances,
                              std::optional<FaultKind> fault) {
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
  if (scenario.Needs(Need::kOpenState) && access == Access::kKernelMount &&
      !topology::IsNfs4(nfs_version)) {
    return "needs open state on the server: a file another client removes must stay readable "
           "through this client's open file, and an NFSv3 server knows no opens (mount NFSv4.1 "
           "or 4.2: nfs_versions)";
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

// The topology's libvirt hosts; a Topology built by hand, not loaded, may have none, and then
// has the one host of `libvirt.uri` that loading would have given it.
std::vector<LibvirtHost> HostsOf(const Topology& t) {
  if (!t.libvirt.hosts.empty()) return t.libvirt.hosts;
  return {LibvirtHost{.name = "default", .uri = t.libvirt.uri, .pos = {}}};
}

bool Reaches(const std::vector<std::string>& servers, const std::string& server) {
  return std::find(servers.begin(), servers.end(), server) != servers.end();
}

// The instances as declared, each reaching all of its client's servers: what the cases are
// weighed with before placement (a server sees as many instances of each access path as after
// the split, so the same cases are supported).
std::vector<ClientInstance> DeclaredInstances(const Topology& t) {
  std::vector<ClientInstance> out;
  for (const ClientSpec& c : t.clients) {
    for (const std::string& name : c.InstanceNames()) {
      out.push_back(ClientInstance{name, c.name, c.access, c.backend, c.servers, c});
    }
  }
  return out;
}

// The instances that run: declared ones, per server for per_server clients, and per host for a
// libvirt client whose servers are on several hosts. `host_of` maps each libvirt server to its
// host. Single-host clients keep their declared names, so single-host plans stay as they were.
std::vector<ClientInstance> Instances(const Topology& t, const std::vector<LibvirtHost>& hosts,
                                      const std::map<std::string, std::string>& host_of) {
  auto host = [&](const std::string& server) {
    auto it = host_of.find(server);
    return it == host_of.end() ? std::string() : it->second;
  };
  std::vector<ClientInstance> out;
  for (const ClientSpec& c : t.clients) {
    const std::vector<std::string> names = c.InstanceNames();
    if (c.backend != Backend::kLibvirt) {
      for (const std::string& name : names) {
        out.push_back(ClientInstance{name, c.name, c.access, c.backend, c.servers, c});
      }
    } else if (c.per_server) {
      for (const std::string& server : c.servers) {
        for (const std::string& name : names) {
          out.push_back(ClientInstance{
              name + "@" + server, c.name, c.access, c.backend, {server}, c, host(server)});
        }
      }
    } else {
      // The hosts its servers are on, in topology order.
      std::vector<std::string> used;
      for (const LibvirtHost& h : hosts) {
        if (std::any_of(c.servers.begin(), c.servers.end(),
                        [&](const std::string& s) { return host(s) == h.name; })) {
          used.push_back(h.name);
        }
      }
      if (used.size() <= 1) {
        const std::string where = used.empty() ? c.host : used.front();
        for (const std::string& name : names) {
          out.push_back(ClientInstance{name, c.name, c.access, c.backend, c.servers, c, where});
        }
        continue;
      }
      for (const std::string& h : used) {
        std::vector<std::string> here;
        for (const std::string& s : c.servers) {
          if (host(s) == h) here.push_back(s);
        }
        for (const std::string& name : names) {
          out.push_back(ClientInstance{name + "@" + h, c.name, c.access, c.backend, here, c, h});
        }
      }
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
    // The access paths reaching this server (a kernel mount once per NFS version), in
    // declaration order, each with its instances.
    struct Path {
      Access access;
      std::string nfs_version;
      std::vector<std::string> names;
    };
    std::vector<Path> paths;
    for (const ClientInstance& ci : instances) {
      if (std::find(ci.servers.begin(), ci.servers.end(), server.name) == ci.servers.end()) {
        continue;
      }
      std::vector<std::string> versions = ci.spec.nfs_versions;
      if (ci.access != Access::kKernelMount || versions.empty()) versions = {""};
      for (const std::string& version : versions) {
        auto path = std::find_if(paths.begin(), paths.end(), [&](const Path& p) {
          return p.access == ci.access && p.nfs_version == version;
        });
        if (path == paths.end()) path = paths.insert(paths.end(), {ci.access, version, {}});
        path->names.push_back(ci.name);
      }
    }
    for (const auto& [access, version, names] : paths) {
      for (const std::string& id : t.workloads.scenarios) {
        const ScenarioInfo* scenario = catalogue.Find(id);
        const size_t wanted = scenario->Needs(Need::kTwoClients) ? 2 : 1;
        for (std::optional<FaultKind> fault : FaultsOn(*scenario, server)) {
          Case c;
          c.id = CaseId(server.name, PathName(access, version), id, fault);
          c.server = server.name;
          c.variant = server.variant;
          c.backend = server.backend;
          c.scenario = id;
          c.fault = fault;
          c.access = access;
          c.nfs_version = version;
          c.clients.assign(names.begin(), names.begin() + std::min(wanted, names.size()));
          c.expect = server.expect;
          c.expect_source = ExpectSource(server);
          c.unsupported =
              UnsupportedReason(server, *scenario, access, version, names.size(), fault);
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
    for (const std::string& server : ci.servers) {
      out.push_back(Link{server, ci.name, 0, 0, ci.host});
    }
  }
  // The topology name is mixed in so that different topologies run side by side on one host
  // (each with the default seed) do not draw the same ports. Distinct over the whole run, not
  // per host: a run directory and a log then name each port once.
  Prng rng(seed, "ports/" + topology);
  std::vector<uint64_t> ports = rng.Distinct(2 * out.size(), kLinkPortMin, kLinkPortMax + 1);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].server_port = static_cast<uint16_t>(ports[2 * i]);
    out[i].client_port = static_cast<uint16_t>(ports[2 * i + 1]);
  }
  return out;
}

// The placement weight of each server: its supported `cases`, a restart counting double (a
// reboot or crash of a VM takes about as long again as the rest of a case).
std::map<std::string, uint64_t> Weights(const std::vector<Case>& cases) {
  std::map<std::string, uint64_t> out;
  for (const Case& c : cases) {
    if (!c.supported()) continue;
    out[c.server] += c.fault && topology::RestartsServer(*c.fault) ? 2 : 1;
  }
  return out;
}

struct Placement {
  std::map<std::string, std::string> host_of;  // libvirt server -> host name
  std::vector<uint64_t> load;                  // per host, in weight units
  std::vector<unsigned> cpus;                  // per host, at least 1
};

// Places every libvirt server on a host (see MakePlan in plan.h).
Placement Place(const Topology& t, const std::vector<LibvirtHost>& hosts,
                const std::map<std::string, uint64_t>& weights,
                const std::map<std::string, unsigned>& host_cpus) {
  Placement p;
  p.load.assign(hosts.size(), 0);
  for (const LibvirtHost& h : hosts) {
    auto it = host_cpus.find(h.name);
    p.cpus.push_back(it == host_cpus.end() ? 1u : std::max(1u, it->second));
  }
  auto index = [&](const std::string& name) -> std::optional<size_t> {
    for (size_t i = 0; i < hosts.size(); ++i) {
      if (hosts[i].name == name) return i;
    }
    return std::nullopt;
  };
  auto weight = [&](const std::string& server) {
    auto it = weights.find(server);
    return it == weights.end() ? uint64_t{0} : it->second;
  };
  std::vector<const ServerSpec*> free;
  for (const ServerSpec& s : t.servers) {
    if (s.backend != Backend::kLibvirt) continue;
    // Pinned by its own host:, else by the first pinned client reaching it (the topology
    // rejects two pinned clients on different hosts sharing it).
    std::string pin = s.host;
    for (const ClientSpec& c : t.clients) {
      if (!pin.empty()) break;
      if (c.backend == Backend::kLibvirt && !c.host.empty() && Reaches(c.servers, s.name)) {
        pin = c.host;
      }
    }
    if (std::optional<size_t> i = index(pin)) {
      p.host_of[s.name] = hosts[*i].name;
      p.load[*i] += weight(s.name);
    } else {
      free.push_back(&s);
    }
  }
  std::stable_sort(free.begin(), free.end(), [&](const ServerSpec* a, const ServerSpec* b) {
    const uint64_t wa = weight(a->name), wb = weight(b->name);
    return wa != wb ? wa > wb : a->name < b->name;
  });
  for (const ServerSpec* s : free) {
    const uint64_t w = weight(s->name);
    size_t best = 0;
    for (size_t i = 1; i < hosts.size(); ++i) {
      // (load_i + w) / cpus_i < (load_best + w) / cpus_best, in integers: exact, so the choice
      // never depends on rounding.
      if ((p.load[i] + w) * p.cpus[best] < (p.load[best] + w) * p.cpus[i]) best = i;
    }
    p.host_of[s->name] = hosts[best].name;
    p.load[best] += w;
  }
  return p;
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

const HostPlan* Plan::FindHost(std::string_view name) const {
  for (const HostPlan& h : hosts) {
    if (h.name == name) return &h;
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
  // Placement weighs the cases that will run; the instances are then made for the placement,
  // and the cases again with their names (the same cases: see DeclaredInstances).
  std::vector<Case> declared = Cases(t, catalogue, DeclaredInstances(t));
  std::erase_if(declared, [&](const Case& c) { return !Selected(c, options.only); });
  const std::vector<LibvirtHost> hosts = HostsOf(t);
  const Placement placement = Place(t, hosts, Weights(declared), options.host_cpus);

  for (const ServerSpec& s : t.servers) {
    PlannedServer ps{s.name, s.variant, s.backend, s.expect, std::nullopt, s};
    if (topology::InfoOf(s.variant).serves_nfs) {
      ps.port = s.backend == Backend::kLocal ? 0 : kGuestNfsPort;
    }
    if (auto it = placement.host_of.find(s.name); it != placement.host_of.end()) {
      ps.host = it->second;
    }
    plan.servers.push_back(ps);
  }
  plan.clients = Instances(t, hosts, placement.host_of);
  plan.links = Links(plan.seed, t.name, plan.clients);
  for (size_t i = 0; i < hosts.size(); ++i) {
    HostPlan h{.name = hosts[i].name,
               .uri = hosts[i].uri,
               .pool = hosts[i].pool,
               .pool_path = hosts[i].pool_path,
               .servers = {},
               .clients = {},
               .expected_seconds =
                   static_cast<double>(placement.load[i]) * kCaseSeconds / placement.cpus[i],
               .cpus = placement.cpus[i]};
    for (const PlannedServer& ps : plan.servers) {
      if (ps.host == h.name) h.servers.push_back(ps.name);
    }
    for (const ClientInstance& ci : plan.clients) {
      if (ci.host == h.name) h.clients.push_back(ci.name);
    }
    plan.hosts.push_back(std::move(h));
  }

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
    // Every instance of each listed client, whatever its name became (@host, @server).
    for (const std::string& name : t.workloads.mixed.clients) {
      for (const ClientInstance& ci : plan.clients) {
        if (ci.client == name) plan.mixed.clients.push_back(ci.name);
      }
    }
    plan.mixed.schedule = Schedule(t, plan.seed);
  }
  return plan;
}

}  // namespace ovl::plan
