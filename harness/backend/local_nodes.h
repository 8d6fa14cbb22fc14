// The local backend: servers as child processes or host mounts on 127.0.0.1, agents as child
// processes. Every child is reaped and every mount unmounted when its node is destroyed.
#pragma once

#include <sys/types.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "backend/node.h"
#include "proc/process.h"
#include "topology/topology.h"

namespace ovl::backend {

struct LocalPaths {
  std::string ovlnfsd;  // the ovlnfsd binary
  std::string agent;    // the harness-agent binary
};

// ovlnfsd and its negative controls (--handles volatile, --no-index).
std::unique_ptr<ServerNode> MakeLocalOvlnfsd(const topology::ServerSpec& spec,
                                             const LocalPaths& paths, const std::string& log_dir);

// The host kernel's overlayfs, mounted with the topology's options and reached through
// name_to_handle_at/open_by_handle_at (no NFS). Evict is drop_caches (host-wide); a reboot or
// crash is an unmount and a fresh mount of the same layers.
std::unique_ptr<ServerNode> MakeLocalKernelOverlay(const topology::ServerSpec& spec);

// A harness-agent child process. Client-side eviction: libnfs keeps no cache to drop; the
// syscall path drops the host's caches.
Result<std::unique_ptr<AgentNode>> StartLocalAgent(const std::string& name, topology::Access access,
                                                   const LocalPaths& paths,
                                                   const std::string& log_dir);

// Mounts a fresh tmpfs (a new filesystem: its own UUID and inode numbers) at `path`, made if
// missing; its source is OverlayMountSource(getpid()) + "-tmpfs". The caller unmounts it. Until
// the layer filesystems of the topology (issue 12) land, copy-layers copies into one of these.
Status MountScratchTmpfs(const std::string& path);

// Drops the host's page, dentry and inode caches (sync; echo 3 > /proc/sys/vm/drop_caches).
Status DropHostCaches();

// The source name of the overlay mounts this process makes: "ovlnfs-harness-<pid>".
std::string OverlayMountSource(pid_t pid);

// Detaches every overlay mount whose source names a harness process that no longer runs (a run
// killed with SIGKILL leaves its kernel-overlay servers mounted), with a line per mount to
// `out`. How many; an error when /proc/self/mountinfo cannot be read or a mount not detached.
Result<size_t> CleanDeadRunMounts(std::ostream& out);

}  // namespace ovl::backend
