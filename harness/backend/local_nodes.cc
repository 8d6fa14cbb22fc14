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

#include "backend/fixture_disk.h"
#include "backend/layer_fs.h"
#include "backend/offline_disk.h"

namespace ovl::backend {
namespace {

namespace stdfs = std::filesystem;
using std::chrono::seconds;

constexpr seconds kStartTimeout{15};
constexpr seconds kStopTimeout{15};
constexpr seconds kRequestTimeout{60};
// How ovlnfsd starts the line that says why it cannot serve a layer setup (ovlnfsd/main.cc).
constexpr std::string_view kUnsupportedSetup = "ovlnfsd: unsupported layer setup: ";

std::string Join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : std::string(1, sep)) + p;
  return out;
}

// What both local servers share: the layers made from the fixture on the filesystems the
// topology names (backend/layer_fs.h), torn down (or kept) after the case, and checked for
// untouched lower layers.
class LocalServer : public ServerNode {
 public:
  explicit LocalServer(const topology::ServerSpec& spec) : spec_(spec) {}

  Status Setup(const ops::Fixture& fixture, const std::string& dir) override {
    OVL_RETURN_IF_ERROR(Teardown(keep_));
    dir_ = dir;
    OVL_ASSIGN_OR_RETURN(layers_, LayerStack::Make(spec_, fixture, dir));
    return StartServing();
  }

  Status Teardown(bool keep) override {
    keep_ = keep;
    Status st = StopServing();
    if (copy_fs_) {
      // The copy of copy-layers lives in memory: it goes whether or not the layers are kept.
      Status down = copy_fs_->Remove();
      if (st.ok()) st = down;
      copy_fs_.reset();
    }
    if (layers_) {
      // Layer filesystems go in any case (a tmpfs's content with them); images stay with `keep`.
      Status down = layers_->Remove(keep);
      if (st.ok()) st = down;
      layers_.reset();
    }
    if (!dir_.empty() && !keep) {
      std::error_code ec;
      stdfs::remove_all(dir_, ec);
    }
    dir_.clear();
    return st;
  }

  Status VerifyLowerLayers(const ops::Fixture& fixture) override {
    if (!layers_) return Status::Error(ESRCH, spec_.name + " has no layers");
    // The fixture's layers are the top-most ones; the topology may add empty ones below.
    std::vector<std::string> lowers = layers().lowers;
    lowers.resize(std::min(lowers.size(), static_cast<size_t>(fixture.layers)));
    return backend::VerifyLowerLayers(fixture, lowers);
  }

  // The host's kernel: the overlay mount's, and the filesystems' under ovlnfsd's layers.
  Result<std::unique_ptr<KernelLog>> OpenKernelLog() override { return OpenHostKernelLog(); }

  Status Offline(const ops::OfflineEdit& edit) override {
    if (!layers_) return Status::Error(ESRCH, spec_.name + " has no layers");
    OVL_RETURN_IF_ERROR(RefuseNestedLowerEdit(spec_.nested, edit));
    OVL_RETURN_IF_ERROR(Halt(edit.crash));
    const Status edited =
        edit.kind == ops::OfflineEdit::Kind::kCopyLayers
            ? CopyLayers()
            : ApplyOfflineEdit(edit, {layers().lowers, layers().upper, layers().work,
                                      OverlayMountSource(getpid())});
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
  // Serves layers(); StopServing undoes it (a no-op when not serving).
  virtual Status StartServing() = 0;
  virtual Status StopServing() = 0;

  // The layers served: the stack made at Setup, or its copy after copy-layers.
  const LayerDirs& layers() const { return copy_fs_ ? copied_ : layers_->dirs(); }

  topology::ServerSpec spec_;
  std::string dir_;
  std::unique_ptr<LayerStack> layers_;
  bool keep_ = false;

 private:
  // copy-layers: every layer copied (cp -a: data, modes, xattrs, hard links) to a new tmpfs,
  // which has its own UUID and inode numbers, and served from there.
  Status CopyLayers() {
    if (copy_fs_) return Status::Error(EBUSY, "the layers were copied already");
    if (layers().upper.empty()) return Status::Error(kErrNotSupp, "a lower-only export");
    OVL_ASSIGN_OR_RETURN(std::unique_ptr<LayerFsMount> fs,
                         LayerFsMount::Make(topology::LayerFs::kTmpfs, dir_, "copy"));
    const LayerDirs& from = layers_->dirs();
    LayerDirs to;
    std::vector<std::string> argv = {"cp", "-a"};
    for (size_t i = 0; i < from.lowers.size(); ++i) {
      argv.push_back(from.lowers[i]);
      to.lowers.push_back(fs->path() + "/" + stdfs::path(from.lowers[i]).filename().string());
    }
    argv.insert(argv.end(), {from.upper, from.work, fs->path()});
    to.upper = fs->path() + "/" + stdfs::path(from.upper).filename().string();
    to.work = fs->path() + "/" + stdfs::path(from.work).filename().string();
    OVL_ASSIGN_OR_RETURN(auto cp, proc::Process::Start({argv, dir_ + "/copy.log", false}));
    OVL_ASSIGN_OR_RETURN(proc::ExitStatus st, cp->Wait(kStopTimeout));
    if (!std::holds_alternative<proc::Exited>(st) || std::get<proc::Exited>(st).code != 0) {
      return Status::Error(EIO, "cp -a of the layers: " + ToString(st) + ": " + cp->Tail(5));
    }
    copied_ = std::move(to);
    copy_fs_ = std::move(fs);
    return Status::Ok();
  }

  std::unique_ptr<LayerFsMount> copy_fs_;  // the tmpfs of copy-layers while mounted
  LayerDirs copied_;                       // the layers in it
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
        paths_.ovlnfsd, "--lower", Join(layers().lowers, ':'), "--work", layers().work, "--listen",
        "127.0.0.1:" + std::to_string(port), "--export-path", spec_.export_path,
        // The harness's clients act as root on files the fixture made as root.
        "--squash", "none", "--threads", std::to_string(spec_.threads)};
    // Without --upper ovlnfsd serves a lower-only, read-only export.
    if (spec_.has_upper()) argv.insert(argv.end(), {"--upper", layers().upper});
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
      // ovlnfsd names a layer setup it cannot serve on a line of its own.
      const size_t refused = last_tail_.find(kUnsupportedSetup);
      if (refused != std::string::npos) {
        const size_t end = last_tail_.find('\n', refused);
        return Status::Error(kErrNotSupp, last_tail_.substr(refused, end - refused));
      }
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
    if (Status st = Mount(); !st.ok()) {
      // Options or layers the kernel refuses: this setup cannot run here, for the kernel's reason.
      if (st.code() == EINVAL || st.code() == EOPNOTSUPP) {
        return Status::Error(kErrNotSupp, "the kernel refuses this overlay: " + st.message());
      }
      return st;
    }
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
                                            spec_.overlay.MountOptions() +
                                            (notes_.empty() ? "" : "; kernel: " + notes_) + ")");
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
  std::string LogTail() const override {
    return "mount options: " + options_ + (notes_.empty() ? "" : "\nkernel: " + notes_);
  }

 private:
  Status Mount() {
    options_ = "lowerdir=" + Join(layers().lowers, ':');
    if (spec_.has_upper()) {
      options_ += ",upperdir=" + layers().upper + ",workdir=" + layers().work;
    }
    const std::string extra = spec_.overlay.MountOptions();
    if (!extra.empty()) options_ += "," + extra;
    // A detached earlier instance keeps the upper and work dirs busy until syscalls still in
    // flight on it return (MountOverlay retries EBUSY): a host process cannot be cut off
    // mid-syscall the way a VM can.
    OVL_RETURN_IF_ERROR(MountOverlay(dir_ + "/mnt", options_, &notes_));
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
  std::string notes_;  // what the kernel logged about the options at the last mount
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
    OVL_ASSIGN_OR_RETURN(
        std::string line,
        AwaitReply(
            [&](Clock::time_point deadline) {
              return proc_->ReadLine(
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
            },
            agent::protocol::ReplyTimeout(request, kRequestTimeout)));
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
    // A layer filesystem (backend/layer_fs.h) names its harness in its mount point.
    std::optional<pid_t> pid = LayerFsOwner(UnescapeMountField(point));
    if (!pid && type == "overlay" && source.rfind(kMountSourcePrefix, 0) == 0) {
      const std::string pid_text = source.substr(sizeof kMountSourcePrefix - 1);
      if (!pid_text.empty() && pid_text.find_first_not_of("0123456789") == std::string::npos) {
        pid = static_cast<pid_t>(std::stol(pid_text));
      }
    }
    if (!pid || kill(*pid, 0) == 0 || errno != ESRCH) continue;  // none, or its harness runs
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
