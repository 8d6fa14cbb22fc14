#include "backend/nodes.h"

#include <sys/utsname.h>

#include <algorithm>

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
  if (vms) {
    for (const auto& k : vms->image().kernels) {
      if (k.series == kernel->series) return k.release;
    }
  }
  return kernel->series;
}

void Nodes::Stop() {
  servers.clear();
  agents.clear();
}

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
  OVL_ASSIGN_OR_RETURN(nodes.vms, libvirt::LibvirtBackend::Open(lo));
  if (interrupted()) return nodes;
  OVL_ASSIGN_OR_RETURN(libvirt::VmNodes vm,
                       libvirt::StartVmNodes(nodes.vms, plan, options.parallel));
  for (auto& [name, node] : vm.servers) nodes.servers[name] = std::move(node);
  for (auto& [name, node] : vm.agents) nodes.agents[name] = std::move(node);
  return nodes;
}

}  // namespace ovl::backend
