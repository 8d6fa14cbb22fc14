// nfs-ganesha on the local backend: GaneshaDaemon, the launcher of Debian's ganesha.nfsd with
// FSAL_VFS serving one directory over NFSv3 on 127.0.0.1, and the "ganesha" ServerNode, which
// exports a host kernel overlayfs mount of the case's layers (the third-party peer of ovlnfsd).
// The integration tests' fixture (tests/support/ganesha_process.h) runs the same launcher.
//
// Measured facts the launcher encodes (nfs-ganesha 4.3, Debian 12): ganesha.nfsd runs without
// systemd in the foreground (-F) but exits at startup unless rpcbind is up (it registers its
// programs), so rpcbind is started when 127.0.0.1:111 does not answer; MOUNT must have its own
// port (on the NFS port it answers PROG_UNAVAIL); NFSv3 MNT takes the export's Path (the real
// directory), not its Pseudo path; two ganesha starting at the same moment collide in rpcbind
// ("Cannot register NFS V3 on TCP"), so starts are serialized by a machine-wide lock and clear
// the rpcbind registrations first.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "backend/node.h"
#include "base/status.h"
#include "proc/process.h"
#include "topology/topology.h"

namespace ovl::backend {

// Starts rpcbind (`rpcbind -w`) unless something answers on 127.0.0.1:111, and waits until it
// answers there and on /run/rpcbind.sock. It stays up afterwards: it is a system service other
// servers register with, not a child of ours. ENOENT when rpcbind is not installed; EADDRINUSE
// when the port answers but the socket does not (ganesha would fail to register).
Status EnsureRpcbind();

struct GaneshaOptions {
  std::string export_dir;  // the directory to export (exists)
  std::string state_dir;   // config, logs, pid and recovery files go here (exists; kept)
  std::chrono::milliseconds start_timeout{30000};
  std::chrono::milliseconds stop_timeout{30000};
};

class GaneshaDaemon {
 public:
  // Why ganesha cannot run on this machine (not root, package or FSAL missing, no rpcbind), or
  // "" when it can.
  static std::string UnavailableReason();

  // Writes a config into state_dir (free loopback ports for NFS and MOUNT, No_Root_Squash,
  // NFSv3 over TCP only, no grace period), makes sure rpcbind runs, starts ganesha.nfsd and
  // waits until it serves both ports. Retries with fresh ports when they were taken meanwhile.
  static Result<std::unique_ptr<GaneshaDaemon>> Start(GaneshaOptions options);
  // Stops a running ganesha: SIGTERM (so it withdraws from rpcbind), SIGKILL after 5 s.
  ~GaneshaDaemon();
  GaneshaDaemon(const GaneshaDaemon&) = delete;
  GaneshaDaemon& operator=(const GaneshaDaemon&) = delete;

  uint16_t nfs_port() const { return nfs_port_; }
  uint16_t mount_port() const { return mount_port_; }
  // The exported directory: the path to give MNT.
  const std::string& export_dir() const { return options_.export_dir; }
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }

  // SIGTERM and wait (a clean stop); an error if it does not exit cleanly in time.
  Status Stop();
  // SIGKILL and wait (a crash).
  Status Kill();
  // Stops a running ganesha (Stop) and starts it again with the same config: same ports and
  // export, as a server coming back at the same address.
  Status Restart();
  // True while ganesha.nfsd has not exited.
  bool IsRunning();
  // The last `max_bytes` of ganesha's log and of its console output, for failure messages.
  std::string LogTail(size_t max_bytes) const;

 private:
  explicit GaneshaDaemon(GaneshaOptions options);
  Status WriteConfig();
  Status Launch();

  GaneshaOptions options_;
  std::string config_path_;
  std::string log_path_;
  std::string console_path_;
  uint16_t nfs_port_ = 0;
  uint16_t mount_port_ = 0;
  std::unique_ptr<proc::Process> proc_;
};

// The "ganesha" variant: Setup mounts the layers as a host kernel overlayfs with the topology's
// options (as kernel-overlay does) and starts a GaneshaDaemon exporting the mount; its state and
// logs go to <log_dir>/ganesha-<name>/. Crash is SIGKILL and a restart, Reboot SIGTERM and a
// restart (the mount stays: only the server process goes away), Evict drops the host's caches.
// Clients reach it with libnfs at the daemon's ports and MNT the mount's real path.
std::unique_ptr<ServerNode> MakeLocalGanesha(const topology::ServerSpec& spec,
                                             const std::string& log_dir);

}  // namespace ovl::backend
