// Nodes: every server and client agent of a plan, brought up on its backend before the first
// case (local processes first, then the libvirt VMs, booted in parallel), and stopped in order,
// servers before agents, on every way out.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "backend/libvirt/backend.h"
#include "backend/local_nodes.h"
#include "backend/node.h"
#include "plan/plan.h"

namespace ovl::backend {

struct NodeOptions {
  LocalPaths paths;     // ovlnfsd and harness-agent on this host
  std::string guestd;   // ovl-guestd, carried into every VM
  std::string run_dir;  // results/<run-id>: logs/ and the VMs' consoles go there
  // Once set, no VM boots (an image build can take minutes): the cases come out "interrupted".
  const std::atomic<bool>* interrupted = nullptr;
};

class Nodes {
 public:
  Nodes() = default;
  Nodes(Nodes&&) = default;
  Nodes& operator=(Nodes&&) = default;
  ~Nodes() { Stop(); }

  std::map<std::string, std::unique_ptr<ServerNode>> servers;  // by server name
  std::map<std::string, std::unique_ptr<AgentNode>> agents;    // by client instance name
  // Non-empty: a local agent did not start, and why; the cases that need it are UNRESOLVED.
  std::string agent_failure;
  // The libvirt backend of each host of the plan that runs a VM (HostPlan::name).
  std::map<std::string, std::shared_ptr<libvirt::LibvirtBackend>> hosts;
  // Server name -> why the libvirt host it is placed on could not run it (the connection
  // failed): its cases are UNRESOLVED with this, while the other hosts run theirs.
  std::map<std::string, std::string> host_failures;

  // The kernel release `server` runs on: the host's for local servers; in a VM, its Debian
  // series' release from the guest image, or "custom" for a user-supplied kernel.
  std::string KernelOf(const plan::PlannedServer& server) const;
  // Stops the servers (unmounting their layers), then the agents. Idempotent.
  void Stop();
};

// Starts every node of `plan`: local servers and agents, then, unless interrupted, the VMs
// through the libvirt backend with `libvirt` settings, on every host of plan.hosts at once. A
// local agent that fails to start is kept in Nodes::agent_failure; a host that cannot be reached
// (while another can) in Nodes::host_failures; a VM that does not boot is an error holding its
// console tail (the nodes already up are stopped).
Result<Nodes> StartNodes(const plan::Plan& plan, const topology::LibvirtSettings& libvirt,
                         const NodeOptions& options);

}  // namespace ovl::backend
