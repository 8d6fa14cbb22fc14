#include "backend/local_nodes.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "backend/fixture_disk.h"
#include "backend/offline_disk.h"

namespace ovl::backend {
namespace {

namespace stdfs = std::filesystem;
using std::chrono::seconds;

constexpr seconds kStartTimeout{15};
constexpr seconds kStopTimeout{15};
constexpr seconds kRequestTimeout{60};

// lower0..lowerN-1, upper, work under `dir`, filled from the fixture.
Result<std::vector<std::string>> MakeLayers(const ops::Fixture& fixture, const std::string& dir,
                                            int min_layers) {
  std::error_code ec;
  stdfs::remove_all(dir, ec);
  std::vector<std::string> lowers;
  const int n = std::max(fixture.layers, min_layers);
  for (int i = 0; i < n; ++i) lowers.push_back(dir + "/lower" + std::to_string(i));
  for (const auto& d : lowers) stdfs::create_directories(d, ec);
  stdfs::create_directories(dir + "/upper", ec);
  stdfs::create_directories(dir + "/work", ec);
  if (ec) return Status::Error(ec.value(), "create layers under " + dir + ": " + ec.message());
  OVL_RETURN_IF_ERROR(backend::Materialize(fixture, lowers));
  return lowers;
}

std::string Join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : std::string(1, sep)) + p;
  return out;
}

// What both local servers share: a layer directory made from the fixture, torn down (or kept)
// after the case, and checked for an untouched lower layer.
class LocalServer : public ServerNode {
 public:
  explicit LocalServer(const topology::ServerSpec& spec) : spec_(spec) {}

  Status Setup(const ops::Fixture& fixture, const std::string& dir) override {
    OVL_RETURN_IF_ERROR(Teardown(keep_));
    dir_ = dir;
    layers_ = dir;
    OVL_ASSIGN_OR_RETURN(lowers_, MakeLayers(fixture, dir, static_cast<int>(spec_.layers)));
    return StartServing();
  }

  Status Teardown(bool keep) override {
    keep_ = keep;
    Status st = StopServing();
    if (!copy_fs_.empty()) {
      // The copy lives in memory: it goes whether or not the layers are kept.
      if (umount2(copy_fs_.c_str(), MNT_DETACH) != 0 && st.ok()) {
        st = Status::FromErrno("umount " + copy_fs_);
      }
      copy_fs_.clear();
    }
    if (!dir_.empty() && !keep) {
      std::error_code ec;
      stdfs::remove_all(dir_, ec);
    }
    dir_.clear();
    return st;
  }

  Status VerifyLowerLayers(const ops::Fixture& fixture) override {
    return backend::VerifyLowerLayers(fixture, lowers_);
  }

  Status Offline(const ops::OfflineEdit& edit) override {
    OVL_RETURN_IF_ERROR(Halt(edit.crash));
    const Status edited = edit.kind == ops::OfflineEdit::Kind::kCopyLayers
                              ? CopyLayers()
                              : ApplyOfflineEdit(edit, {lowers_, layers_ + "/upper"});
    const Status up = StartServing();
    if (!edited.ok()) return edited;
    if (!up.ok() && edit.kind == ops::OfflineEdit::Kind::kCopyLayers) {
      // A server that refuses copied layers rejects the setup: its own reason, UNSUPPORTED.
      return Status::Error(kErrNotSupp, "serving the layers copied to a new filesystem: " +
                                            up.ToString() + "\n" + LogTail());
    }
    return up;
  }

 protected:
  // Stops serving for an offline edit: as a crash, or cleanly.
  virtual Status Halt(bool crash) = 0;
  // Serves the layers in dir_ / lowers_; StopServing undoes it (a no-op when not serving).
  virtual Status StartServing() = 0;
  virtual Status StopServing() = 0;

  topology::ServerSpec spec_;
  std::string dir_;     // the case's directory
  std::string layers_;  // where lower*, upper and work are: dir_, or the copy of copy-layers
  std::vector<std::string> lowers_;
  bool keep_ = false;

 private:
  // copy-layers: every layer copied (cp -a: data, modes, xattrs, hard links) to a new tmpfs,
  // which has its own UUID and inode numbers, and served from there.
  Status CopyLayers() {
    if (!copy_fs_.empty()) return Status::Error(EBUSY, "the layers were copied already");
    const std::string fs = dir_ + "/copy";
    OVL_RETURN_IF_ERROR(MountScratchTmpfs(fs));
    copy_fs_ = fs;
    std::vector<std::string> argv = {"cp", "-a"};
    for (const std::string& l : lowers_) argv.push_back(l);
    argv.insert(argv.end(), {layers_ + "/upper", layers_ + "/work", fs});
    OVL_ASSIGN_OR_RETURN(auto cp, proc::Process::Start({argv, dir_ + "/copy.log", false}));
    OVL_ASSIGN_OR_RETURN(proc::ExitStatus st, cp->Wait(kStopTimeout));
    if (!std::holds_alternative<proc::Exited>(st) || std::get<proc::Exited>(st).code != 0) {
      return Status::Error(EIO, "cp -a of the layers: " + ToString(st) + ": " + cp->Tail(5));
    }
    layers_ = fs;
    for (std::string& l : lowers_) l = fs + l.substr(l.rfind('/'));
    return Status::Ok();
  }

  std::string copy_fs_;  // the tmpfs of copy-layers while mounted
};

class LocalOvlnfsd final : public LocalServer {
 public:
  LocalOvlnfsd(const topology::ServerSpec& spec, const LocalPaths& paths, std::string log_dir)
      : LocalServer(spec), paths_(paths), log_path_(log_dir + "/" + spec.name + ".log") {}
  ~LocalOvlnfsd() override { (void)Teardown(keep_); }

  std::string Unsupported() override {
    if (geteuid() != 0) return "ovlnfsd needs root (open_by_handle_at needs CAP_DAC_READ_SEARCH)";
    if (access(paths_.ovlnfsd.c_str(), X_OK) != 0)
      return "ovlnfsd binary not found: " + paths_.ovlnfsd;
    return "";
  }

  Status Crash() override {
    OVL_RETURN_IF_ERROR(Halt(true));
    return Start();
  }

  Status Reboot() override {
    OVL_RETURN_IF_ERROR(Stop());
    return Start();
  }

  Status Evict() override {
    if (!proc_) return Status::Error(ESRCH, spec_.name + " is not running");
    const size_t from = proc_->line_count();
    OVL_RETURN_IF_ERROR(proc_->Signal(SIGUSR1));
    auto line = proc_->WaitForLine(
        [](const std::string& l) { return l.find("ovlnfsd: caches dropped") != std::string::npos; },
        kStartTimeout, from);
    return line.ok() ? Status::Ok() : line.status();
  }

  agent::protocol::Connect ConnectRequest() const override {
    agent::protocol::LibnfsAccess nfs;  // as root, on 127.0.0.1
    nfs.nfs_port = port_;
    nfs.mount_port = port_;
    nfs.export_path = spec_.export_path;
    return {nfs};
  }

  std::string LogTail() const override { return proc_ ? proc_->Tail(30) : last_tail_; }

 protected:
  Status StartServing() override { return Start(); }
  Status StopServing() override { return Stop(); }
  Status Halt(bool crash) override {
    if (!crash) return Stop();
    if (!proc_) return Status::Error(ESRCH, spec_.name + " is not running");
    OVL_ASSIGN_OR_RETURN(proc::ExitStatus st, proc_->Kill());
    (void)st;
    last_tail_ = proc_->Tail(30);
    proc_.reset();
    return Status::Ok();
  }

 private:
  // A restarted server comes back at its old address, as a real one does, so a client that
  // redials by itself finds it; on a fresh port only when that one was taken meanwhile.
  Status Start() {
    if (port_ != 0 && StartOn(port_).ok()) return Status::Ok();
    return StartOn(0);
  }

  Status StartOn(uint16_t port) {
    std::vector<std::string> argv = {
        paths_.ovlnfsd, "--lower", Join(lowers_, ':'), "--upper", layers_ + "/upper", "--work",
        layers_ + "/work", "--listen", "127.0.0.1:" + std::to_string(port), "--export-path",
        spec_.export_path,
        // The harness's clients act as root on files the fixture
        // made as root.
        "--squash", "none", "--threads", std::to_string(spec_.threads)};
    if (spec_.variant == topology::Variant::kReferenceVolatile) {
      argv.insert(argv.end(), {"--handles", "volatile"});
    }
    if (spec_.variant == topology::Variant::kReferenceNoindex) argv.push_back("--no-index");
    if (spec_.plant) argv.insert(argv.end(), {"--plant", std::string(PlantName(*spec_.plant))});
    OVL_ASSIGN_OR_RETURN(proc_, proc::Process::Start({argv, log_path_, false}));
    const std::string prefix = "ovlnfsd: listening on ";
    auto line = proc_->WaitForLine([&](const std::string& l) { return l.rfind(prefix, 0) == 0; },
                                   kStartTimeout);
    if (!line.ok()) {
      last_tail_ = proc_->Tail(30);
      proc_.reset();
      return line.status();
    }
    port_ = static_cast<uint16_t>(std::stoul(line->substr(line->rfind(':') + 1)));
    return Status::Ok();
  }

  Status Stop() {
    if (!proc_) return Status::Ok();
    Status st = proc_->Signal(SIGTERM);
    auto exit = proc_->Wait(kStopTimeout);
    last_tail_ = proc_->Tail(30);
    if (!exit.ok()) {
      (void)proc_->Kill();
      proc_.reset();
      return Status::Error(ETIMEDOUT, spec_.name + " did not stop on SIGTERM");
    }
    proc_.reset();
    if (!std::holds_alternative<proc::Exited>(*exit) || std::get<proc::Exited>(*exit).code != 0) {
      return Status::Error(EIO, spec_.name + " stopped badly: " + ToString(*exit));
    }
    return st.code() == ESRCH ? Status::Ok() : st;
  }

  LocalPaths paths_;
  std::string log_path_;
  std::unique_ptr<proc::Process> proc_;
  uint16_t port_ = 0;
  std::string last_tail_;
};

class LocalKernelOverlay final : public LocalServer {
 public:
  explicit LocalKernelOverlay(const topology::ServerSpec& spec) : LocalServer(spec) {}
  ~LocalKernelOverlay() override { (void)Teardown(keep_); }

  std::string Unsupported() override {
    if (geteuid() != 0) return "mounting overlayfs needs root";
    std::ifstream fs("/proc/filesystems");
    std::string all((std::istreambuf_iterator<char>(fs)), {});
    if (all.find("\toverlay\n") == std::string::npos) return "the host kernel has no overlayfs";
    return "";
  }

  Status StartServing() override {
    std::error_code ec;
    stdfs::create_directories(dir_ + "/mnt", ec);
    OVL_RETURN_IF_ERROR(Mount());
    // Without nfs_export the kernel refuses to encode handles: nothing can be held.
    struct {
      file_handle fh;
      unsigned char buf[128];
    } h{};
    h.fh.handle_bytes = sizeof h.buf;
    int mount_id = 0;
    if (name_to_handle_at(AT_FDCWD, (dir_ + "/mnt").c_str(), &h.fh, &mount_id, 0) != 0) {
      int err = errno;
      (void)Unmount();
      return Status::Error(kErrNotSupp, std::string("name_to_handle_at on this overlay mount: ") +
                                            std::strerror(err) + " (overlay options " +
                                            spec_.overlay.MountOptions() + ")");
    }
    return Status::Ok();
  }

  Status Crash() override { return Remount(true); }
  Status Reboot() override { return Remount(false); }
  Status Evict() override { return DropHostCaches(); }

  Status StopServing() override { return Unmount(); }
  Status Halt(bool crash) override {
    OVL_RETURN_IF_ERROR(Unmount());
    return crash ? DropHostCaches() : Status::Ok();
  }

  agent::protocol::Connect ConnectRequest() const override {
    return {agent::protocol::SyscallsAccess{dir_ + "/mnt"}};
  }
  std::string LogTail() const override { return "mount options: " + options_; }

 private:
  Status Mount() {
    options_ = "lowerdir=" + Join(lowers_, ':') + ",upperdir=" + layers_ +
               "/upper,workdir=" + layers_ + "/work";
    const std::string extra = spec_.overlay.MountOptions();
    if (!extra.empty()) options_ += "," + extra;
    // A detached earlier instance keeps the upper and work dirs busy until syscalls still in
    // flight on it return: a host process cannot be cut off mid-syscall the way a VM can.
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    const std::string source = OverlayMountSource(getpid());
    while (mount(source.c_str(), (dir_ + "/mnt").c_str(), "overlay", 0, options_.c_str()) != 0) {
      if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) {
        return Status::FromErrno("mount -t overlay -o " + options_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    mounted_ = true;
    return Status::Ok();
  }

  Status Unmount() {
    if (!mounted_) return Status::Ok();
    // Detached: agents may still hold fds on the old mount until they reconnect.
    if (umount2((dir_ + "/mnt").c_str(), MNT_DETACH) != 0)
      return Status::FromErrno("umount overlay");
    mounted_ = false;
    return Status::Ok();
  }

  Status Remount(bool drop_caches) {
    OVL_RETURN_IF_ERROR(Unmount());
    if (drop_caches) OVL_RETURN_IF_ERROR(DropHostCaches());
    return Mount();
  }

  std::string options_;
  bool mounted_ = false;
};

class LocalAgent final : public AgentNode {
 public:
  LocalAgent(std::string name, topology::Access access, std::unique_ptr<proc::Process> proc)
      : name_(std::move(name)), access_(access), proc_(std::move(proc)) {}
  ~LocalAgent() override {
    if (proc_->WriteLine(agent::protocol::EncodeRequest(agent::protocol::Quit{})).ok()) {
      (void)proc_->Wait(std::chrono::seconds(5));
    }
  }

  const std::string& name() const override { return name_; }

  Result<agent::protocol::Reply> Request(const agent::protocol::Request& request) override {
    OVL_RETURN_IF_ERROR(proc_->WriteLine(agent::protocol::EncodeRequest(request)));
    OVL_ASSIGN_OR_RETURN(std::string line,
                         proc_->ReadLine(agent::protocol::ReplyTimeout(request, kRequestTimeout)));
    Result<agent::protocol::Reply> reply = agent::protocol::DecodeReply(line);
    if (!reply.ok()) return Status::Error(EPROTO, name_ + ": " + reply.status().message());
    return reply;
  }

  Status EvictClientCaches() override {
    return access_ == topology::Access::kLocalSyscalls ? DropHostCaches() : Status::Ok();
  }

  std::string LogTail() const override { return proc_->Tail(30); }

 private:
  std::string name_;
  topology::Access access_;
  std::unique_ptr<proc::Process> proc_;
};

}  // namespace

Status MountScratchTmpfs(const std::string& path) {
  std::error_code ec;
  stdfs::create_directories(path, ec);
  if (ec) return Status::Error(ec.value(), "create " + path + ": " + ec.message());
  const std::string source = OverlayMountSource(getpid()) + "-tmpfs";
  if (mount(source.c_str(), path.c_str(), "tmpfs", 0, "mode=0755") != 0) {
    return Status::FromErrno("mount -t tmpfs " + path);
  }
  return Status::Ok();
}

Status DropHostCaches() {
  ::sync();
  int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open /proc/sys/vm/drop_caches");
  ssize_t n = ::write(fd, "3", 1);
  int err = errno;
  ::close(fd);
  if (n != 1) return Status::Error(err, "write /proc/sys/vm/drop_caches");
  return Status::Ok();
}

std::unique_ptr<ServerNode> MakeLocalOvlnfsd(const topology::ServerSpec& spec,
                                             const LocalPaths& paths, const std::string& log_dir) {
  return std::make_unique<LocalOvlnfsd>(spec, paths, log_dir);
}

std::unique_ptr<ServerNode> MakeLocalKernelOverlay(const topology::ServerSpec& spec) {
  return std::make_unique<LocalKernelOverlay>(spec);
}

Result<std::unique_ptr<AgentNode>> StartLocalAgent(const std::string& name, topology::Access access,
                                                   const LocalPaths& paths,
                                                   const std::string& log_dir) {
  OVL_ASSIGN_OR_RETURN(
      auto proc, proc::Process::Start({{paths.agent}, log_dir + "/agent-" + name + ".log", true}));
  return std::unique_ptr<AgentNode>(std::make_unique<LocalAgent>(name, access, std::move(proc)));
}

namespace {

constexpr char kMountSourcePrefix[] = "ovlnfs-harness-";

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeMountField(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::string OverlayMountSource(pid_t pid) {
  return kMountSourcePrefix + std::to_string(pid);
}

Result<size_t> CleanDeadRunMounts(std::ostream& out) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return Status::Error(errno, "read /proc/self/mountinfo");
  std::vector<std::string> stale;
  std::string line;
  while (std::getline(in, line)) {
    // "<id> <parent> <dev> <root> <mount point> <options> [optional...] - <type> <source> ..."
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, word;
    fields >> id >> parent >> dev >> root >> point;
    while (fields >> word && word != "-") {
    }
    std::string type, source;
    fields >> type >> source;
    if (type != "overlay" || source.rfind(kMountSourcePrefix, 0) != 0) continue;
    const std::string pid_text = source.substr(sizeof kMountSourcePrefix - 1);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;  // its harness still runs
    stale.push_back(UnescapeMountField(point));
  }
  // Innermost first, so that a mount below another is not hidden by detaching its parent.
  std::sort(stale.begin(), stale.end(), std::greater<>());
  for (const std::string& point : stale) {
    if (umount2(point.c_str(), MNT_DETACH) != 0) {
      return Status::FromErrno("umount " + point);
    }
    out << "unmounted " << point << " (its harness is gone)\n";
  }
  return stale.size();
}

}  // namespace ovl::backend
