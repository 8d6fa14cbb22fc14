// GaneshaProcess: nfs-ganesha serving one directory over NFSv3 on 127.0.0.1 for integration
// tests, with its config, logs and (by default) the exported directory in a temp dir removed
// afterwards. The launcher itself, and the measured facts it encodes, are the harness's
// (backend/local_ganesha.h): this only owns the temp dir around it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "backend/local_ganesha.h"
#include "base/status.h"
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
  // Why ganesha cannot run on this machine, or an empty string when it can. Tests skip with
  // this reason.
  static std::string UnavailableReason() { return backend::GaneshaDaemon::UnavailableReason(); }

  // Makes the temp dir and starts ganesha (backend::GaneshaDaemon::Start) exporting
  // options.export_dir or a fresh dir in it.
  static Result<std::unique_ptr<GaneshaProcess>> Start(GaneshaOptions options);
  // Stops ganesha (SIGTERM, then SIGKILL after 5 s), then removes the temp dir (never a
  // caller's export_dir).
  ~GaneshaProcess() = default;
  GaneshaProcess(const GaneshaProcess&) = delete;
  GaneshaProcess& operator=(const GaneshaProcess&) = delete;

  uint16_t nfs_port() const { return daemon_->nfs_port(); }
  uint16_t mount_port() const { return daemon_->mount_port(); }
  // The exported directory: the path to give MNT.
  const std::string& export_dir() const { return daemon_->export_dir(); }
  const std::string& config_path() const { return daemon_->config_path(); }
  const std::string& log_path() const { return daemon_->log_path(); }

  // As backend::GaneshaDaemon: SIGTERM and wait; SIGKILL and wait; stop if running and start
  // again with the same ports and export; still running; log tail.
  Status Stop() { return daemon_->Stop(); }
  Status Kill() { return daemon_->Kill(); }
  Status Restart() { return daemon_->Restart(); }
  bool IsRunning() { return daemon_->IsRunning(); }
  std::string LogTail(size_t max_bytes) const { return daemon_->LogTail(max_bytes); }

 private:
  explicit GaneshaProcess(ScratchDir scratch) : scratch_(std::move(scratch)) {}

  ScratchDir scratch_;  // declared first: destroyed after the daemon has stopped
  std::unique_ptr<backend::GaneshaDaemon> daemon_;
};

}  // namespace ovl::testsupport
