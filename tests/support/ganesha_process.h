// GaneshaProcess: nfs-ganesha (Debian's ganesha.nfsd with FSAL_VFS) serving one directory over
// NFSv3 on 127.0.0.1, as the third-party peer of ovlnfsd. Used by the libnfs client's tests and
// by the harness's "ganesha" server variant (the exported directory may be a kernel overlayfs
// mount made with index=on,nfs_export=on).
//
// Measured facts it encodes: ganesha.nfsd runs without systemd in the foreground (-F) but exits
// at startup unless rpcbind is up (it registers its programs), so rpcbind is started when
// 127.0.0.1:111 does not answer; MOUNT must have its own port (on the NFS port it answers
// PROG_UNAVAIL); NFSv3 MNT takes the export's Path, not its Pseudo path; two ganesha starting
// at the same moment collide in rpcbind, so starts are serialized with a machine-wide lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "support/child_process.h"
#include "support/scratch_dir.h"

namespace ovl::testsupport {

struct GaneshaOptions {
  // Directory to export; empty: a fresh "export" dir inside the fixture's temp dir.
  std::string export_dir;
  std::chrono::milliseconds start_timeout{30000};
  std::chrono::milliseconds stop_timeout{30000};
};

class GaneshaProcess {
 public:
  // Why ganesha cannot run on this machine (not root, package or FSAL missing, no rpcbind), or
  // an empty string when it can. Tests skip with this reason.
  static std::string UnavailableReason();

  // Writes a config (free loopback ports for NFS and MOUNT, No_Root_Squash, NFSv3 over TCP
  // only, logs and recovery state in a temp dir), makes sure rpcbind runs, starts ganesha.nfsd
  // and waits until it serves both ports.
  static Result<std::unique_ptr<GaneshaProcess>> Start(GaneshaOptions options);
  // Stops (SIGTERM, then SIGKILL after 5 s) and reaps a running ganesha and removes the temp
  // dir (never a caller's export_dir).
  ~GaneshaProcess();
  GaneshaProcess(const GaneshaProcess&) = delete;
  GaneshaProcess& operator=(const GaneshaProcess&) = delete;

  uint16_t nfs_port() const { return nfs_port_; }
  uint16_t mount_port() const { return mount_port_; }
  // The exported directory: the path to give MNT.
  const std::string& export_dir() const { return export_dir_; }
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
  // The last `max_bytes` of ganesha's log and console output, for failure messages.
  std::string LogTail(size_t max_bytes) const;

 private:
  GaneshaProcess(GaneshaOptions options, ScratchDir scratch);
  Status WriteConfig();
  Status Launch();

  GaneshaOptions options_;
  ScratchDir scratch_;
  std::string export_dir_;
  std::string config_path_;
  std::string log_path_;
  std::string console_path_;
  uint16_t nfs_port_ = 0;
  uint16_t mount_port_ = 0;
  ChildProcess child_;
};

}  // namespace ovl::testsupport
