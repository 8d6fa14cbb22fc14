#include <atomic>
#include <functional>
#include <thread>

#include "backend/libvirt/link_ports.h"
#include "backend/libvirt/vm_nodes.h"

namespace ovl::backend::libvirt {

Result<VmNodes> StartVmNodes(std::shared_ptr<LibvirtBackend> backend, const plan::Plan& plan) {
  const std::string& host = backend->host().name;
  const unsigned parallel = backend->cpus();
  std::vector<std::string> notes;
  OVL_ASSIGN_OR_RETURN(
      const std::vector<plan::Link> links,
      FreeLinkPorts(*backend->hypervisor(), !backend->remote(), plan.links, host, &notes));
  for (const std::string& n : notes) *backend->options().err << "harness: " << n << "\n";
  // One job per VM; each writes only its own result slot.
  std::vector<std::function<void()>> jobs;
  std::vector<std::pair<std::string, Result<std::unique_ptr<ServerNode>>>> servers;
  std::vector<std::pair<std::string, Result<std::unique_ptr<AgentNode>>>> agents;
  servers.reserve(plan.servers.size());
  agents.reserve(plan.clients.size());
  std::vector<topology::ServerSpec> server_specs;  // every server's, for the clients' mounts
  for (const auto& ps : plan.servers) {
    server_specs.push_back(ps.spec);
    if (ps.backend != topology::Backend::kLibvirt || ps.host != host) continue;
    auto* slot = &servers.emplace_back(ps.name, Status::Error(ECANCELED, "not started"));
    jobs.push_back([=, &links, &ps] { slot->second = StartVmServer(backend, ps.spec, links); });
  }
  for (const auto& ci : plan.clients) {
    if (ci.backend != topology::Backend::kLibvirt || ci.host != host) continue;
    auto* slot = &agents.emplace_back(ci.name, Status::Error(ECANCELED, "not started"));
    jobs.push_back([=, &links, &ci, &server_specs] {
      slot->second = StartVmAgent(backend, ci.spec, ci.name, server_specs, links);
    });
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < std::max(1u, parallel) && i < jobs.size(); ++i) {
    workers.emplace_back([&] {
      for (size_t j; (j = next.fetch_add(1)) < jobs.size();) jobs[j]();
    });
  }
  for (auto& w : workers) w.join();
  VmNodes nodes;
  for (auto& [name, r] : servers) {
    if (!r.ok()) return r.status();
    nodes.servers[name] = std::move(*r);
  }
  for (auto& [name, r] : agents) {
    if (!r.ok()) return r.status();
    nodes.agents[name] = std::move(*r);
  }
  return nodes;
}

}  // namespace ovl::backend::libvirt
