#include "backend/local_ganesha.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "backend/ganesha_config.h"
#include "backend/local_nodes.h"
#include "backend/loopback.h"
#include "base/fd.h"
#include "base/file_text.h"

extern char** environ;

namespace ovl::backend {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint16_t kRpcbindPort = 111;
constexpr const char* kRpcbindSocket = "/run/rpcbind.sock";
constexpr char kReadyMarker[] = "NFS SERVER INITIALIZED";
constexpr char kBindFailureMarker[] = "Cannot bind";
constexpr int kStartAttempts = 3;
constexpr seconds kDestructorStopTimeout(5);
constexpr seconds kHelperTimeout(10);
constexpr milliseconds kPoll(50);
// Shared by every process that starts ganesha on this machine (not under $TMPDIR, which may
// differ between them).
constexpr char kStartLockPath[] = "/tmp/ovl-ganesha-start.lock";

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

// Runs `argv` with stdio on /dev/null and returns its exit code. rpcbind daemonizes: a child
// holding a log pipe could keep it open, so these helpers get no pipe at all.
Result<int> RunQuietly(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd : {0, 1, 2}) {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return Status::Error(err, "spawn " + argv[0]);
  const auto deadline = std::chrono::steady_clock::now() + kHelperTimeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 && errno != EINTR) return Status::FromErrno("waitpid " + argv[0]);
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Status::Error(ETIMEDOUT, argv[0] + " did not finish");
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

// Deletes every rpcbind registration of NFS v3 and MOUNT v1/v3 (`rpcinfo -d`, which root may
// do for any owner).
Status ClearRpcbindRegistrations() {
  std::string rpcinfo = proc::FindProgram("rpcinfo");
  if (rpcinfo.empty()) return Status::Error(ENOENT, "rpcinfo (package rpcbind) is not installed");
  static const std::pair<const char*, const char*> kRegistrations[] = {
      {"100003", "3"}, {"100005", "1"}, {"100005", "3"}};
  for (const auto& [program, version] : kRegistrations) {
    // A nonzero exit only means that nothing was registered.
    OVL_RETURN_IF_ERROR(RunQuietly({rpcinfo, "-d", program, version}).status());
  }
  return Status::Ok();
}

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(ENOENT, "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

off_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

}  // namespace

Status EnsureRpcbind() {
  if (LoopbackPortAccepts(kRpcbindPort)) {
    // ganesha and rpcinfo register through rpcbind's socket; without one that accepts, they
    // fail obscurely ("Cannot register MNT V3 on TCP").
    if (UnixSocketAccepts(kRpcbindSocket)) return Status::Ok();
    return Status::Error(EADDRINUSE, std::string("something answers on 127.0.0.1:111 but ") +
                                         kRpcbindSocket +
                                         " does not accept connections: an rpcbind of another "
                                         "mount namespace holds the port, or the rpcbind whose "
                                         "socket this is has gone; end the one on the port, or "
                                         "give this namespace its socket");
  }
  std::string rpcbind = proc::FindProgram("rpcbind");
  if (rpcbind.empty()) return Status::Error(ENOENT, "rpcbind is not installed");
  // -w: warm start (reuse registrations saved by an earlier rpcbind). It daemonizes, so the
  // spawned process exits as soon as the daemon runs.
  OVL_ASSIGN_OR_RETURN(int status, RunQuietly({rpcbind, "-w"}));
  if (status != 0)
    return Status::Error(EIO, rpcbind + " -w exited with status " + std::to_string(status));
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while (!LoopbackPortAccepts(kRpcbindPort) || !UnixSocketAccepts(kRpcbindSocket)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Error(ETIMEDOUT, std::string("rpcbind does not answer on 127.0.0.1:111 "
                                                  "and on ") +
                                          kRpcbindSocket);
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return Status::Ok();
}

std::string GaneshaDaemon::UnavailableReason() {
  if (geteuid() != 0) {
    return "ganesha.nfsd must run as root (FSAL_VFS decodes handles with open_by_handle_at, "
           "which needs CAP_DAC_READ_SEARCH); euid is " +
           std::to_string(geteuid());
  }
  if (proc::FindProgram("ganesha.nfsd").empty()) {
    return "ganesha.nfsd is not installed (Debian packages nfs-ganesha, nfs-ganesha-vfs)";
  }
  if (!FsalVfsInstalled()) return "FSAL_VFS (libfsalvfs.so, package nfs-ganesha-vfs) is missing";
  if (!LoopbackPortAccepts(kRpcbindPort) && proc::FindProgram("rpcbind").empty()) {
    return "rpcbind is neither running nor installed; ganesha.nfsd exits without it";
  }
  return "";
}

GaneshaDaemon::GaneshaDaemon(GaneshaOptions options)
    : options_(std::move(options)),
      config_path_(options_.state_dir + "/ganesha.conf"),
      log_path_(options_.state_dir + "/ganesha.log"),
      console_path_(options_.state_dir + "/ganesha.console") {}

GaneshaDaemon::~GaneshaDaemon() {
  if (!IsRunning()) return;
  // SIGTERM first, so ganesha withdraws from rpcbind; SIGKILL (in ~Process) if it hangs.
  if (proc_->Signal(SIGTERM).ok()) proc_->Wait(kDestructorStopTimeout).status().IgnoreError();
}

Result<std::unique_ptr<GaneshaDaemon>> GaneshaDaemon::Start(GaneshaOptions options) {
  if (std::string why = UnavailableReason(); !why.empty()) return Status::Error(kErrNotSupp, why);
  std::unique_ptr<GaneshaDaemon> g(new GaneshaDaemon(std::move(options)));
  std::error_code ec;
  std::filesystem::create_directories(g->options_.state_dir + "/recovery", ec);
  if (ec) return Status::Error(ec.value(), "create " + g->options_.state_dir + "/recovery");
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

Status GaneshaDaemon::WriteConfig() {
  // NFSv4 is off, but ganesha keeps recovery files anyway: keep them out of /var/lib/nfs.
  GaneshaConfig config;
  config.bind_addr = "127.0.0.1";
  config.nfs_port = nfs_port_;
  config.mount_port = mount_port_;
  config.recovery_root = options_.state_dir + "/recovery";
  config.export_dir = options_.export_dir;
  return WriteFileText(config_path_, GaneshaConfigText(config));
}

Status GaneshaDaemon::Launch() {
  // One start at a time machine-wide (the lock goes with `lock`); rpcbind is started if needed
  // and the registrations are cleared first: ganesha exits ("Cannot register NFS V3 on TCP")
  // when another one holds them, its own unset does not remove them. Nobody finds these servers
  // through rpcbind, so a running ganesha does not miss its entries.
  Fd lock(open(kStartLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0666));
  if (!lock.valid()) return Status::FromErrno(std::string("open ") + kStartLockPath);
  while (flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Status::FromErrno(std::string("flock ") + kStartLockPath);
  }
  OVL_RETURN_IF_ERROR(EnsureRpcbind());
  OVL_RETURN_IF_ERROR(ClearRpcbindRegistrations());
  const off_t log_start = FileSize(log_path_);
  OVL_ASSIGN_OR_RETURN(
      proc_, proc::Process::Start({{proc::FindProgram("ganesha.nfsd"), "-F", "-f", config_path_,
                                    "-L", log_path_, "-p", options_.state_dir + "/ganesha.pid"},
                                   console_path_}));
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  for (;;) {
    if (!proc_->running()) {
      // How it ended says what the (possibly empty) log cannot: a signal, or its exit code.
      Result<proc::ExitStatus> how = proc_->Wait(milliseconds(0));
      return Status::Error(EIO, "ganesha.nfsd " + (how.ok() ? ToString(*how) : "ended") +
                                    " while starting:\n" + LogTail(2000));
    }
    Result<std::string> log = ReadWhole(log_path_);
    if (log.ok() && log->size() > static_cast<size_t>(log_start) &&
        log->find(kReadyMarker, static_cast<size_t>(log_start)) != std::string::npos &&
        LoopbackPortAccepts(nfs_port_) && LoopbackPortAccepts(mount_port_)) {
      return Status::Ok();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      proc_->Kill().status().IgnoreError();
      return Status::Error(
          ETIMEDOUT, "ganesha.nfsd not serving 127.0.0.1:" + std::to_string(nfs_port_) +
                         " and :" + std::to_string(mount_port_) + " after " +
                         std::to_string(options_.start_timeout.count()) + " ms:\n" + LogTail(2000));
    }
    std::this_thread::sleep_for(kPoll);
  }
}

Status GaneshaDaemon::Stop() {
  if (!IsRunning()) return Status::Error(ECHILD, "ganesha.nfsd is not running");
  OVL_RETURN_IF_ERROR(proc_->Signal(SIGTERM));
  Result<proc::ExitStatus> status = proc_->Wait(options_.stop_timeout);
  if (!status.ok()) {
    proc_->Kill().status().IgnoreError();
    return Status::Error(ETIMEDOUT, "ganesha.nfsd ignored SIGTERM; killed it");
  }
  if (!std::holds_alternative<proc::Exited>(*status) || std::get<proc::Exited>(*status).code != 0) {
    return Status::Error(EIO,
                         "ganesha.nfsd " + ToString(*status) + " on SIGTERM:\n" + LogTail(2000));
  }
  return Status::Ok();
}

Status GaneshaDaemon::Kill() {
  if (!IsRunning()) return Status::Error(ECHILD, "ganesha.nfsd is not running");
  return proc_->Kill().status();
}

Status GaneshaDaemon::Restart() {
  if (IsRunning()) OVL_RETURN_IF_ERROR(Stop());
  return Launch();
}

bool GaneshaDaemon::IsRunning() {
  return proc_ && proc_->running();
}

std::string GaneshaDaemon::LogTail(size_t max_bytes) const {
  std::string out;
  for (const std::string* path : {&log_path_, &console_path_}) {
    Result<std::string> text = ReadWhole(*path);
    if (!text.ok()) continue;
    const std::string& t = *text;
    out += "--- " + *path + " ---\n" + (t.size() > max_bytes ? t.substr(t.size() - max_bytes) : t);
  }
  return out;
}

namespace {

// Why ganesha cannot serve the overlay of `spec` mounted at `root` (UNSUPPORTED), or "".
// Measured on nfs-ganesha 4.3 (docs/findings.md #7, #8): FSAL_VFS opens the export root by its
// file handle, and answers NFS3ERR_XDEV to a LOOKUP of an object on another filesystem than the
// export's (st_dev), as every non-directory of an overlay whose layers are on several
// filesystems is unless xino makes one st_dev of them.
std::string GaneshaCannotExport(const topology::ServerSpec& spec, const std::string& root) {
  struct {
    file_handle fh;
    unsigned char bytes[MAX_HANDLE_SZ];
  } h{};
  h.fh.handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid() && name_to_handle_at(dir.get(), "", &h.fh, &mount_id, AT_EMPTY_PATH) == 0) {
    Fd again(open_by_handle_at(dir.get(), &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!again.valid()) {
      return std::string(
                 "ganesha opens the export root by its file handle, and this kernel's "
                 "open_by_handle_at of the overlay's root fails: ") +
             std::strerror(errno) + " (docs/findings.md #7)";
    }
  }
  // `same` layers share the harness's filesystem; every other one, and a nested layer, is one
  // of its own.
  using topology::LayerFs;
  std::vector<LayerFs> layers(spec.lower_fs.begin() + (spec.nested ? 1 : 0), spec.lower_fs.end());
  if (spec.has_upper()) layers.push_back(spec.upper_fs);
  const auto own =
      std::count_if(layers.begin(), layers.end(), [](LayerFs fs) { return fs != LayerFs::kSame; });
  const bool any_same = std::find(layers.begin(), layers.end(), LayerFs::kSame) != layers.end();
  const size_t filesystems = static_cast<size_t>(own) + (spec.nested ? 1 : 0) + (any_same ? 1 : 0);
  if (filesystems > 1 && spec.overlay.xino != "on" && spec.overlay.xino != "auto") {
    return "ganesha (FSAL_VFS) answers NFS3ERR_XDEV for an object on another filesystem than "
           "the export's, and without xino the non-directories of an overlay whose layers are "
           "on " +
           std::to_string(filesystems) + " filesystems report their layer's st_dev " +
           "(docs/findings.md #8)";
  }
  return "";
}

// The ganesha log's reason for exporting nothing (it starts anyway and refuses every MNT), or "".
std::string ExportRefusal(const std::string& log) {
  if (log.find("No export entries found") == std::string::npos) return "";
  const size_t crit = log.find(":FSAL :CRIT :");
  if (crit == std::string::npos) return "ganesha exports nothing: No export entries found";
  const size_t end = log.find('\n', crit);
  return "ganesha refuses the export: " + log.substr(crit + 13, end - crit - 13);
}

class LocalGanesha final : public ServerNode {
 public:
  LocalGanesha(const topology::ServerSpec& spec, const std::string& log_dir)
      : spec_(spec),
        overlay_(MakeLocalKernelOverlay(spec)),
        state_dir_(log_dir + "/ganesha-" + spec.name) {}
  ~LocalGanesha() override { (void)Teardown(keep_); }

  std::string Unsupported() override {
    if (std::string why = GaneshaDaemon::UnavailableReason(); !why.empty()) return why;
    return overlay_->Unsupported();
  }

  Status Setup(const ops::Fixture& fixture, const std::string& dir) override {
    OVL_RETURN_IF_ERROR(Teardown(keep_));
    OVL_RETURN_IF_ERROR(overlay_->Setup(fixture, dir));
    std::error_code ec;
    std::filesystem::create_directories(state_dir_, ec);
    if (ec) return Status::Error(ec.value(), "create " + state_dir_);
    // Ganesha exports the overlay's mount point, where a syscalls agent would connect.
    const agent::protocol::Connect overlay = overlay_->ConnectRequest();
    const auto* mount = std::get_if<agent::protocol::SyscallsAccess>(&overlay.access);
    const std::string root = mount ? mount->root : "";
    if (std::string why = GaneshaCannotExport(spec_, root); !why.empty()) {
      return Status::Error(kErrNotSupp, why);
    }
    auto daemon = GaneshaDaemon::Start({root, state_dir_});
    if (!daemon.ok()) return daemon.status();
    daemon_ = std::move(daemon).value();
    if (std::string why = ExportRefusal(daemon_->LogTail(20000)); !why.empty()) {
      return Status::Error(kErrNotSupp, why);
    }
    return Status::Ok();
  }

  Status Crash() override {
    OVL_RETURN_IF_ERROR(Running());
    OVL_RETURN_IF_ERROR(daemon_->Kill());
    return daemon_->Restart();
  }

  Status Reboot() override {
    OVL_RETURN_IF_ERROR(Running());
    return daemon_->Restart();
  }

  Status Evict() override { return DropHostCaches(); }

  // Ganesha stops (killed or cleanly), the overlay mount under it is edited offline (unmount,
  // edit, mount: the kernel-overlay node), and ganesha starts again on the new mount.
  Status Offline(const ops::OfflineEdit& edit) override {
    OVL_RETURN_IF_ERROR(Running());
    OVL_RETURN_IF_ERROR(edit.crash ? daemon_->Kill() : daemon_->Stop());
    const Status edited = overlay_->Offline(edit);
    const Status up = daemon_->Restart();
    return edited.ok() ? up : edited;
  }

  Status Teardown(bool keep) override {
    keep_ = keep;
    Status st = Status::Ok();
    if (daemon_) {
      last_tail_ = daemon_->LogTail(3000);
      if (daemon_->IsRunning()) st = daemon_->Stop();
      daemon_.reset();
    }
    Status down = overlay_->Teardown(keep);
    return st.ok() ? down : st;
  }

  Status VerifyLowerLayers(const ops::Fixture& fixture) override {
    return overlay_->VerifyLowerLayers(fixture);
  }

  // The host's kernel, which serves the overlay ganesha exports.
  Result<std::unique_ptr<KernelLog>> OpenKernelLog() override { return overlay_->OpenKernelLog(); }

  // Before setup, port 0: a connect the agent refuses.
  agent::protocol::Connect ConnectRequest() const override {
    if (!daemon_) return {agent::protocol::LibnfsAccess{}};
    agent::protocol::LibnfsAccess nfs;  // as root, on 127.0.0.1
    nfs.nfs_port = daemon_->nfs_port();
    nfs.mount_port = daemon_->mount_port();
    nfs.export_path = daemon_->export_dir();
    return {nfs};
  }

  std::string LogTail() const override { return daemon_ ? daemon_->LogTail(3000) : last_tail_; }

 private:
  Status Running() {
    if (!daemon_) return Status::Error(ESRCH, "ganesha is not set up");
    return Status::Ok();
  }

  topology::ServerSpec spec_;
  std::unique_ptr<ServerNode> overlay_;  // the kernel overlayfs mount ganesha exports
  std::string state_dir_;
  std::unique_ptr<GaneshaDaemon> daemon_;
  std::string last_tail_;
  bool keep_ = false;
};

}  // namespace

std::unique_ptr<ServerNode> MakeLocalGanesha(const topology::ServerSpec& spec,
                                             const std::string& log_dir) {
  return std::make_unique<LocalGanesha>(spec, log_dir);
}

}  // namespace ovl::backend
