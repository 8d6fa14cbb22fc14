#include "backend/nodes.h"

#include <sys/utsname.h>

#include <algorithm>
#include <thread>

#include "backend/libvirt/vm_nodes.h"
#include "backend/local_ganesha.h"

namespace ovl::backend {
namespace {

bool UsesLibvirt(const plan::Plan& plan) {
  auto vm = [](const auto& node) { return node.backend == topology::Backend::kLibvirt; };
  return std::any_of(plan.servers.begin(), plan.servers.end(), vm) ||
         std::any_of(plan.clients.begin(), plan.clients.end(), vm);
}

// The local node of a planned server; null for a variant without a local backend here.
std::unique_ptr<ServerNode> MakeLocalServer(const plan::PlannedServer& ps,
                                            const NodeOptions& options, const std::string& logs) {
  switch (ps.variant) {
    case topology::Variant::kKernelOverlay:
      return MakeLocalKernelOverlay(ps.spec);
    case topology::Variant::kReference:
    case topology::Variant::kReferenceVolatile:
    case topology::Variant::kReferenceNoindex:
      return MakeLocalOvlnfsd(ps.spec, options.paths, logs);
    case topology::Variant::kGanesha:
      return MakeLocalGanesha(ps.spec, logs);
    default:
      return nullptr;
  }
}

}  // namespace

std::string Nodes::KernelOf(const plan::PlannedServer& server) const {
  const std::optional<topology::KernelSpec>& kernel = server.spec.kernel;
  if (server.backend != topology::Backend::kLibvirt || !kernel) {
    utsname host{};
    uname(&host);
    return host.release;
  }
  if (kernel->series.empty()) return "custom";
  if (!hosts.empty()) {
    for (const auto& k : hosts.begin()->second->image().kernels) {
      if (k.series == kernel->series) return k.release;
    }
  }
  return kernel->series;
}

void Nodes::Stop() {
  servers.clear();
  agents.clear();
}

namespace {

// One host's part of StartNodes: its backend and VMs, or why not.
struct HostStart {
  Status status = Status::Ok();
  // The connection worked and still works (a failure is then a VM's, not the host's).
  bool opened = false;
  std::shared_ptr<libvirt::LibvirtBackend> backend;
  libvirt::VmNodes vms;
};

HostStart StartHost(const plan::Plan& plan, const plan::HostPlan& host,
                    const libvirt::LibvirtOptions& base, const std::atomic<bool>* interrupted) {
  HostStart out;
  libvirt::LibvirtOptions lo = base;
  lo.host = {.name = host.name,
             .uri = host.uri,
             .pool = host.pool,
             .pool_path = host.pool_path,
             .pos = {}};
  auto backend = libvirt::LibvirtBackend::Open(lo);
  if (!backend.ok()) {
    out.status = backend.status();
    return out;
  }
  out.opened = true;
  out.backend = *backend;
  if (interrupted && *interrupted) return out;
  auto vms = libvirt::StartVmNodes(out.backend, plan);
  if (!vms.ok()) {
    out.status = vms.status();
    // A VM that failed because its host went away is the host's failure, not the VM's.
    out.opened = out.backend->hypervisor()->Alive();
    return out;
  }
  out.vms = std::move(*vms);
  return out;
}

}  // namespace

Result<Nodes> StartNodes(const plan::Plan& plan, const topology::LibvirtSettings& libvirt,
                         const NodeOptions& options) {
  Nodes nodes;
  const std::string logs = options.run_dir + "/logs";
  for (const auto& ps : plan.servers) {
    if (ps.backend != topology::Backend::kLocal) continue;
    if (auto node = MakeLocalServer(ps, options, logs)) nodes.servers[ps.name] = std::move(node);
  }
  for (const auto& ci : plan.clients) {
    if (ci.backend != topology::Backend::kLocal) continue;
    auto a = StartLocalAgent(ci.name, ci.access, options.paths, logs);
    if (!a.ok()) {
      nodes.agent_failure = ci.name + ": " + a.status().ToString();
      break;
    }
    nodes.agents[ci.name] = std::move(*a);
  }
  auto interrupted = [&] { return options.interrupted && *options.interrupted; };
  if (!UsesLibvirt(plan) || interrupted()) return nodes;
  libvirt::LibvirtOptions lo;
  lo.settings = libvirt;
  lo.run_dir = options.run_dir;
  lo.ovlnfsd = options.paths.ovlnfsd;
  lo.agent = options.paths.agent;
  lo.guestd = options.guestd;
  // Hosts start side by side: each uploads its image and boots its own VMs.
  std::vector<const plan::HostPlan*> used;
  for (const plan::HostPlan& h : plan.hosts) {
    if (!h.servers.empty() || !h.clients.empty()) used.push_back(&h);
  }
  std::vector<HostStart> started(used.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < used.size(); ++i) {
    threads.emplace_back(
        [&, i] { started[i] = StartHost(plan, *used[i], lo, options.interrupted); });
  }
  for (auto& t : threads) t.join();
  size_t unreachable = 0;
  for (size_t i = 0; i < used.size(); ++i) {
    HostStart& h = started[i];
    if (h.backend) nodes.hosts[used[i]->name] = h.backend;
    if (!h.status.ok() && h.opened) return h.status;  // a VM that did not boot: exit 3
    if (!h.status.ok()) {
      ++unreachable;
      const std::string why =
          "libvirt host " + used[i]->name + " (" + used[i]->uri + "): " + h.status.ToString();
      for (const std::string& s : used[i]->servers) nodes.host_failures[s] = why;
      if (unreachable == used.size()) return h.status;
      continue;
    }
    for (auto& [name, node] : h.vms.servers) nodes.servers[name] = std::move(node);
    for (auto& [name, node] : h.vms.agents) nodes.agents[name] = std::move(node);
  }
  return nodes;
}

}  // namespace ovl::backend
