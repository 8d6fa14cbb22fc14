// Plan: everything a run will do, decided before anything starts. A pure function of the
// topology, the scenario catalogue and the seed: the same inputs give a byte-identical plan
// (ToJson), so a run can be repeated exactly, and a dry run shows exactly what a run would do.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "topology/catalogue.h"
#include "topology/topology.h"

namespace ovl::plan {

using std::chrono::milliseconds;
using topology::Access;
using topology::Backend;
using topology::Expect;
using topology::FaultKind;
using topology::Variant;

// Ports of libvirt links are drawn from [kLinkPortMin, kLinkPortMax].
inline constexpr uint16_t kLinkPortMin = 20000;
inline constexpr uint16_t kLinkPortMax = 29999;
// NFS port of a server inside its VM (reached over the VM's own link).
inline constexpr uint16_t kGuestNfsPort = 2049;
// A rough mean duration of a VM case without a server restart, to balance hosts (a case whose
// fault restarts the server counts double). An estimate for placement, not a prediction.
inline constexpr double kCaseSeconds = 15.0;

struct PlannedServer {
  std::string name;
  Variant variant = Variant::kReference;
  Backend backend = Backend::kLocal;
  Expect expect = Expect::kPass;
  // NFS port: 0 on the local backend (ephemeral: chosen by the kernel when the server starts,
  // then read back), kGuestNfsPort in a VM, none for kernel-overlay (no NFS).
  std::optional<uint16_t> port;
  // The server as the topology resolved it, so nothing after the plan looks a node up by name.
  topology::ServerSpec spec;
  // The libvirt host (HostPlan::name) its VM runs on; empty on the local backend. The new
  // fields carry initializers, so positional {...} of the older ones stays warning-free.
  std::string host{};
};

// One running client: a harness-agent process (local) or a client VM (libvirt).
struct ClientInstance {
  // "c" or "c-2" as declared; "c-2@<server>" for a per_server client; "c-2@<host>" for a
  // libvirt client whose servers run on several hosts (one instance per host). Match a
  // topology client through `client`, never by name prefix.
  std::string name;
  std::string client;  // the topology client it comes from
  Access access = Access::kLibnfs;
  Backend backend = Backend::kLocal;
  std::vector<std::string> servers;  // all on `host`
  topology::ClientSpec spec;         // the topology client it comes from, as resolved
  std::string host{};                // the libvirt host of its VM; empty on the local backend
};

// A point-to-point qemu UDP socket link between a client VM and a server VM, both ends on the
// 127.0.0.1 of their one host: one per (client instance, server) pair of VMs.
struct Link {
  std::string server;
  std::string client;  // instance name
  uint16_t server_port = 0;
  uint16_t client_port = 0;
  std::string host{};  // the libvirt host both VMs run on
};

// How many lanes of one libvirt host run cases at a time: two per CPU. Under TCG a lane is mostly
// waiting on its guests (vm-compare ran four lanes on 2 cores in 39 min, docs/vms.md); more would
// only slow every lane's guests down.
inline unsigned LaneBudget(unsigned cpus) {
  return 2 * std::max(1u, cpus);
}

// What one libvirt host of the topology runs (libvirt.hosts, or the one "default" host).
struct HostPlan {
  std::string name;
  std::string uri;  // the libvirt connection
  std::string pool, pool_path;
  std::vector<std::string> servers;  // server VMs placed here, in topology order
  std::vector<std::string> clients;  // client instances (VMs) here, in plan order
  // Its servers' supported cases (restarts double) x kCaseSeconds / cpus: the load the
  // placement balanced, in seconds; a rough estimate, not a prediction.
  double expected_seconds = 0;
  unsigned cpus = 1;  // PlanOptions::host_cpus, at least 1
};

// One scenario run: a scenario on one server through one access path, with one fault kind
// from the scenario's expansion.
struct Case {
  // "<server>/<access>/<scenario>[@<fault>]"; a kernel mount of another NFS version than 3 names
  // it in the access part: "knfsd/kernel-mount-v4.2/rename-file@crash".
  std::string id;
  std::string server;
  Variant variant = Variant::kReference;
  Backend backend = Backend::kLocal;
  std::string scenario;
  std::optional<FaultKind> fault;
  Access access = Access::kLibnfs;
  // The NFS version its kernel mounts use ("3", "4.2": ClientSpec::nfs_versions); empty for the
  // other access paths.
  std::string nfs_version{};
  std::vector<std::string> clients;  // instances taking part: one, or two for two-clients
  Expect expect = Expect::kPass;
  // Where the expectation comes from: "model" (every MUST of the model holds), or
  // "negative control: <why the variant must fail>" for expect: fail servers, which must fail
  // at least one case (their passing cases are reported, not failed).
  std::string expect_source;
  std::string unsupported;  // non-empty: the case is reported UNSUPPORTED with this reason

  bool supported() const { return unsupported.empty(); }
};

// A fault of the mixed workload, with its moment fixed.
struct FaultEvent {
  FaultKind kind = FaultKind::kCrash;
  std::string target;  // server, or client (client-evict: every instance of it)
  bool at_step = false;
  uint64_t step = 0;     // at_step: after this many completed operations
  milliseconds time{0};  // otherwise: offset from the start of the mixed workload
  bool drawn = false;    // the time was drawn from the seed (at: random)
  std::string origin;    // "faults[2]"
};

struct MixedPlan {
  bool enabled = false;
  uint64_t ops = 0;
  milliseconds duration{0};
  std::vector<std::string> clients;  // instances
  std::vector<FaultEvent> schedule;  // timed events by time, then step events by step
};

struct Plan {
  std::string topology;  // topology name
  uint64_t seed = 0;
  bool seed_from_topology = true;  // false when overridden (--seed)
  std::vector<PlannedServer> servers;
  std::vector<ClientInstance> clients;
  std::vector<Link> links;
  // One per libvirt host of the topology, in topology order, also when it runs nothing.
  std::vector<HostPlan> hosts;
  std::vector<Case> cases;  // in run order
  MixedPlan mixed;
  std::vector<topology::ThroughputJob> throughput;

  size_t UnsupportedCount() const;
  // The planned server `name`, or null.
  const PlannedServer* FindServer(std::string_view name) const;
  // The planned host `name`, or null.
  const HostPlan* FindHost(std::string_view name) const;
};

struct PlanOptions {
  std::optional<uint64_t> seed;  // overrides the topology's seed
  // When non-empty: only cases of these scenarios ("rename-file") or scenario expansions
  // ("rename-file@crash"); the mixed and throughput workloads are left out.
  std::vector<std::string> only;
  // Libvirt host name -> the CPUs its libvirt reports; a host left out counts as 1. Weighs the
  // placement of servers without `host:`, so the plan stays a pure function of its inputs.
  std::map<std::string, unsigned> host_cpus{};
};

// Builds the plan. Fails (EINVAL) only when `options.only` names something the topology does
// not run.
//
// Placement: a lane is a server VM plus the client VMs linked to it. Each libvirt server
// weighs its supported selected cases, double for a fault that restarts the server. Servers
// pinned by `host:` (their own, or a pinned client's) load their host first; the others go,
// heaviest first (ties by name), to the host with the least (load + weight) / cpus (ties: the
// earlier host). A libvirt client whose servers land on several hosts gets one instance per
// host ("<instance>@<host>"), a per_server one an instance per server ("<instance>@<server>").
Result<Plan> MakePlan(const topology::Topology& topology, const topology::Catalogue& catalogue,
                      const PlanOptions& options);

}  // namespace ovl::plan
