// Nodes of the libvirt backend: servers and harness-agents in VMs, joined by the plan's UDP
// socket links on 127.0.0.1. Link i (its index in the plan) is the guest subnet 10.200.0.0/16's
// i-th /30: the server end is .1, the client end .2 of it; those addresses exist only inside
// the two guests.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/libvirt/backend.h"
#include "backend/node.h"
#include "ops/offline.h"
#include "plan/plan.h"
#include "topology/topology.h"

namespace ovl::backend::libvirt {

// The guest address of the server (or client) end of link `index`.
std::string LinkAddress(size_t index, bool server_end);

// Boots a server VM for `spec` (variants knfsd, knfsd-fuse, reference, reference-volatile,
// reference-noindex) with one NIC per link of `links` that names it. Its layers live on the
// VM's own data disk, which survives Crash (power cut) and Reboot (clean guest reboot); Setup's
// `dir` is not used. Setup returns kErrNotSupp when the export cannot encode file handles
// (overlay nfs_export=off: name_to_handle_at gives EOPNOTSUPP). A VM that does not boot is an
// error holding its console tail.
Result<std::unique_ptr<ServerNode>> StartVmServer(std::shared_ptr<LibvirtBackend> backend,
                                                  const topology::ServerSpec& spec,
                                                  const std::vector<plan::Link>& links);

// The control-channel request (ovl-guestd's "offline-edit", guest/guestd.h) that applies
// `edit` to a server guest's layers: `lowers` as materialised, the upper beside them.
nlohmann::json OfflineEditRequest(const ops::OfflineEdit& edit,
                                  const std::vector<std::string>& lowers);

// Boots a client VM for instance `instance` of `spec` (access kernel-mount) with one NIC per
// link naming it; harness-agent runs in it on its own virtio-serial channel. A "connect" request
// whose root is /mnt/<server>[@v<version>] (ForNfsVersion) first mounts that server's
// export there afresh, with the topology's mount options.
// `servers` are the plan's servers' specs (for their export paths).
Result<std::unique_ptr<AgentNode>> StartVmAgent(std::shared_ptr<LibvirtBackend> backend,
                                                const topology::ClientSpec& spec,
                                                const std::string& instance,
                                                const std::vector<topology::ServerSpec>& servers,
                                                const std::vector<plan::Link>& links);

struct VmNodes {
  std::map<std::string, std::unique_ptr<ServerNode>> servers;  // by server name
  std::map<std::string, std::unique_ptr<AgentNode>> agents;    // by client instance name
};

// Boots every VM `plan` places on `backend`'s host (its servers and client instances there), up
// to the host's CPU count at a time (TCG boots are CPU-bound). On any failure the VMs already up
// are destroyed and the first error (with its console tail) is returned.
Result<VmNodes> StartVmNodes(std::shared_ptr<LibvirtBackend> backend, const plan::Plan& plan);

}  // namespace ovl::backend::libvirt
