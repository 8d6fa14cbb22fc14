#include "support/ganesha_process.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "base/fd.h"
#include "support/loopback.h"

namespace ovl::testsupport {

namespace {

constexpr uint16_t kRpcbindPort = 111;
constexpr char kReadyMarker[] = "NFS SERVER INITIALIZED";
constexpr char kBindFailureMarker[] = "Cannot bind";
constexpr int kStartAttempts = 3;
constexpr std::chrono::seconds kDestructorStopTimeout(5);
// Shared by every process that starts ganesha on this machine (not under $TMPDIR, which may
// differ between them).
constexpr char kStartLockPath[] = "/tmp/ovl-ganesha-start.lock";

// `name` in $PATH or the sbin dirs (which a non-login root shell may lack); "" if absent.
std::string FindProgram(const std::string& name) {
  const char* env = getenv("PATH");
  std::string dirs = std::string(env != nullptr ? env : "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::istringstream parts(dirs);
  std::string dir;
  while (std::getline(parts, dir, ':')) {
    if (dir.empty()) continue;
    std::string path = dir + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

bool FsalVfsInstalled() {
  // Debian installs FSALs in the multiarch lib dir; other layouts use lib or lib64.
  for (const char* pattern :
       {"/usr/lib/*/ganesha/libfsalvfs.so*", "/usr/lib/ganesha/libfsalvfs.so*",
        "/usr/lib64/ganesha/libfsalvfs.so*"}) {
    glob_t g{};
    bool found = glob(pattern, 0, nullptr, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    if (found) return true;
  }
  return false;
}

// Starts rpcbind unless something answers on 127.0.0.1:111. It stays up afterwards: it is a
// system service that other servers (and a later ganesha) register with, not a per-test child.
Status EnsureRpcbind() {
  if (LoopbackPortAccepts(kRpcbindPort)) return Status::Ok();
  std::string rpcbind = FindProgram("rpcbind");
  if (rpcbind.empty()) return Status::Error(ENOENT, "rpcbind is not installed");
  Fd devnull(open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (!devnull.valid()) return Status::FromErrno("open /dev/null");
  // -w: warm start (reuse registrations saved by an earlier rpcbind). It daemonizes, so the
  // spawned process exits as soon as the daemon runs.
  OVL_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::Spawn({rpcbind, "-w"}, devnull.get()));
  OVL_ASSIGN_OR_RETURN(int status, child.Wait(std::chrono::seconds(10)));
  if (status != 0) {
    return Status::Error(EIO, rpcbind + " -w exited with status " + std::to_string(status));
  }
  return WaitForLoopbackPort(kRpcbindPort, std::chrono::seconds(5));
}

// Deletes every rpcbind registration of NFS v3 and MOUNT v1/v3 (`rpcinfo -d`, which root may
// do for any owner).
Status ClearRpcbindRegistrations() {
  std::string rpcinfo = FindProgram("rpcinfo");
  if (rpcinfo.empty()) return Status::Error(ENOENT, "rpcinfo (package rpcbind) is not installed");
  Fd devnull(open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (!devnull.valid()) return Status::FromErrno("open /dev/null");
  static const std::pair<const char*, const char*> kRegistrations[] = {
      {"100003", "3"}, {"100005", "1"}, {"100005", "3"}};
  for (const auto& [program, version] : kRegistrations) {
    OVL_ASSIGN_OR_RETURN(ChildProcess child,
                         ChildProcess::Spawn({rpcinfo, "-d", program, version}, devnull.get()));
    // A nonzero exit only means that nothing was registered.
    OVL_RETURN_IF_ERROR(child.Wait(std::chrono::seconds(10)).status());
  }
  return Status::Ok();
}

Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + path);
  return Status::Ok();
}

off_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

}  // namespace

std::string GaneshaProcess::UnavailableReason() {
  if (geteuid() != 0) {
    return "ganesha.nfsd must run as root (FSAL_VFS decodes handles with open_by_handle_at, "
           "which needs CAP_DAC_READ_SEARCH); euid is " +
           std::to_string(geteuid());
  }
  if (FindProgram("ganesha.nfsd").empty()) {
    return "ganesha.nfsd is not installed (Debian packages nfs-ganesha, nfs-ganesha-vfs)";
  }
  if (!FsalVfsInstalled()) return "FSAL_VFS (libfsalvfs.so, package nfs-ganesha-vfs) is missing";
  if (!LoopbackPortAccepts(kRpcbindPort) && FindProgram("rpcbind").empty()) {
    return "rpcbind is neither running nor installed; ganesha.nfsd exits without it";
  }
  return "";
}

GaneshaProcess::GaneshaProcess(GaneshaOptions options, ScratchDir scratch)
    : options_(std::move(options)), scratch_(std::move(scratch)) {}

GaneshaProcess::~GaneshaProcess() {
  if (!child_.running()) return;
  // SIGTERM first, so ganesha withdraws from rpcbind; SIGKILL (in ~ChildProcess) if it hangs.
  if (child_.Signal(SIGTERM).ok()) child_.Wait(kDestructorStopTimeout).status().IgnoreError();
}

Result<std::unique_ptr<GaneshaProcess>> GaneshaProcess::Start(GaneshaOptions options) {
  if (std::string why = UnavailableReason(); !why.empty()) return Status::Error(ENOTSUP, why);
  OVL_ASSIGN_OR_RETURN(ScratchDir scratch, ScratchDir::Create("ganesha-test"));
  std::unique_ptr<GaneshaProcess> g(new GaneshaProcess(std::move(options), std::move(scratch)));
  const std::string& root = g->scratch_.path();
  g->export_dir_ = g->options_.export_dir;
  if (g->export_dir_.empty()) {
    g->export_dir_ = root + "/export";
    OVL_RETURN_IF_ERROR(MakeDir(g->export_dir_));
  }
  OVL_RETURN_IF_ERROR(MakeDir(root + "/recovery"));
  g->config_path_ = root + "/ganesha.conf";
  g->log_path_ = root + "/ganesha.log";
  g->console_path_ = root + "/ganesha.console";
  // Free ports can be taken by someone else before ganesha binds them: try fresh ones.
  Status st;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    OVL_ASSIGN_OR_RETURN(std::vector<uint16_t> ports, PickFreeLoopbackPorts(2));
    g->nfs_port_ = ports[0];
    g->mount_port_ = ports[1];
    OVL_RETURN_IF_ERROR(g->WriteConfig());
    st = g->Launch();
    if (st.ok()) return g;
    if (g->LogTail(4096).find(kBindFailureMarker) == std::string::npos) break;
  }
  return st;
}

Status GaneshaProcess::WriteConfig() {
  const std::string& root = scratch_.path();
  std::ostringstream c;
  c << "# Generated by GaneshaProcess: NFSv3 over TCP on 127.0.0.1 only.\n"
    << "NFS_Core_Param {\n"
    << "  Bind_addr = 127.0.0.1;\n"
    << "  NFS_Port = " << nfs_port_ << ";\n"
    << "  MNT_Port = " << mount_port_ << ";\n"
    << "  Protocols = 3;\n"
    << "  Enable_NLM = false;\n"
    << "  Enable_RQUOTA = false;\n"
    << "  Enable_UDP = false;\n"
    << "}\n"
    << "NFS_KRB5 {\n"
    << "  Active_krb5 = false;\n"
    << "}\n"
    // NFSv4 state is unused, but ganesha keeps recovery files anyway: keep them out of
    // /var/lib/nfs, and skip the grace period so a restarted server answers at once.
    << "NFSv4 {\n"
    << "  Graceless = true;\n"
    << "  RecoveryRoot = \"" << root << "/recovery\";\n"
    << "}\n"
    << "EXPORT {\n"
    << "  Export_Id = 1;\n"
    << "  Path = \"" << export_dir_ << "\";\n"
    << "  Pseudo = /export;\n"
    << "  Access_Type = RW;\n"
    << "  Squash = No_Root_Squash;\n"
    << "  Protocols = 3;\n"
    << "  Transports = TCP;\n"
    << "  SecType = sys;\n"
    << "  FSAL {\n"
    << "    Name = VFS;\n"
    << "  }\n"
    << "}\n";
  return WriteFile(config_path_, c.str());
}

Status GaneshaProcess::Launch() {
  Fd console(open(console_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!console.valid()) return Status::FromErrno("open " + console_path_);
  // ganesha exits at startup without rpcbind, and also ("Cannot register NFS V3 on TCP") when
  // another ganesha holds the rpcbind registrations: its own unset does not remove them. So,
  // one start at a time machine-wide (the lock goes with `lock`), rpcbind is started if needed
  // and the registrations are cleared first. Nobody finds these test servers through rpcbind,
  // so a running ganesha does not miss its entries.
  Fd lock(open(kStartLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0666));
  if (!lock.valid()) return Status::FromErrno(std::string("open ") + kStartLockPath);
  while (flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Status::FromErrno(std::string("flock ") + kStartLockPath);
  }
  OVL_RETURN_IF_ERROR(EnsureRpcbind());
  OVL_RETURN_IF_ERROR(ClearRpcbindRegistrations());
  const off_t log_start = FileSize(log_path_);
  OVL_ASSIGN_OR_RETURN(
      child_, ChildProcess::Spawn({FindProgram("ganesha.nfsd"), "-F", "-f", config_path_, "-L",
                                   log_path_, "-p", scratch_.path() + "/ganesha.pid"},
                                  console.get()));
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (true) {
    if (std::optional<int> status = child_.Poll()) {
      return Status::Error(EIO, "ganesha.nfsd exited with status " + std::to_string(*status) +
                                    " while starting:\n" + LogTail(2000));
    }
    Result<std::string> log = ReadFile(log_path_);
    if (log.ok() && log->size() > static_cast<size_t>(log_start) &&
        log->find(kReadyMarker, static_cast<size_t>(log_start)) != std::string::npos &&
        LoopbackPortAccepts(nfs_port_) && LoopbackPortAccepts(mount_port_)) {
      return Status::Ok();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      child_.Kill().status().IgnoreError();
      return Status::Error(
          ETIMEDOUT, "ganesha.nfsd not serving 127.0.0.1:" + std::to_string(nfs_port_) +
                         " and :" + std::to_string(mount_port_) + " after " +
                         std::to_string(options_.start_timeout.count()) + " ms:\n" + LogTail(2000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status GaneshaProcess::Stop() {
  if (!IsRunning()) return Status::Error(ECHILD, "ganesha.nfsd is not running");
  OVL_RETURN_IF_ERROR(child_.Signal(SIGTERM));
  Result<int> status = child_.Wait(options_.stop_timeout);
  if (!status.ok()) {
    child_.Kill().status().IgnoreError();
    return Status::Error(ETIMEDOUT, "ganesha.nfsd ignored SIGTERM; killed it");
  }
  if (*status != 0) {
    return Status::Error(EIO, "ganesha.nfsd exited with status " + std::to_string(*status) +
                                  " on SIGTERM:\n" + LogTail(2000));
  }
  return Status::Ok();
}

Status GaneshaProcess::Kill() {
  if (!IsRunning()) return Status::Error(ECHILD, "ganesha.nfsd is not running");
  return child_.Kill().status();
}

Status GaneshaProcess::Restart() {
  if (IsRunning()) OVL_RETURN_IF_ERROR(Stop());
  return Launch();
}

bool GaneshaProcess::IsRunning() {
  return child_.running() && !child_.Poll().has_value();
}

std::string GaneshaProcess::LogTail(size_t max_bytes) const {
  std::string out;
  for (const std::string* path : {&log_path_, &console_path_}) {
    Result<std::string> text = ReadFile(*path);
    if (!text.ok()) continue;
    const std::string& t = *text;
    out += "--- " + *path + " ---\n" + (t.size() > max_bytes ? t.substr(t.size() - max_bytes) : t);
  }
  return out;
}

}  // namespace ovl::testsupport
