#include "backend/layer_fs.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "backend/fixture_disk.h"
#include "backend/local_nodes.h"
#include "backend/overlay_mount.h"
#include "base/fd.h"
#include "proc/process.h"

namespace ovl::backend {
namespace {

namespace stdfs = std::filesystem;
using topology::LayerFs;

constexpr char kMountPrefix[] = "ovlnfs-layerfs-";
// Sparse: only what is written takes space. xfs needs 300 MiB at least (xfsprogs 6.x).
constexpr off_t kImageBytes = 512ll << 20;
constexpr char kTmpfsOptions[] = "size=512m,mode=0755";
constexpr std::chrono::seconds kMkfsTimeout{60};

// Runs a mkfs command to completion, its output to `log`.
Status RunMkfs(const std::vector<std::string>& argv, const std::string& log) {
  OVL_ASSIGN_OR_RETURN(auto p, proc::Process::Start({argv, log, false}));
  OVL_ASSIGN_OR_RETURN(proc::ExitStatus st, p->Wait(kMkfsTimeout));
  const auto* exited = std::get_if<proc::Exited>(&st);
  if (exited == nullptr || exited->code != 0) {
    // Process reports a missing program as exit code 127.
    const int err = exited != nullptr && exited->code == 127 ? ENOENT : EIO;
    return Status::Error(
        err, argv[0] + " " + argv.back() + ": " + proc::ToString(st) + ": " + p->Tail(5));
  }
  return Status::Ok();
}

struct Loop {
  std::string dev;
  Fd fd;  // open until the mount holds the device: the last close of an unused one clears it
};

// Attaches `image` to a free loop device that detaches itself once its last user is gone (the
// mount, after the returned fd is closed).
Result<Loop> AttachLoop(const std::string& image) {
  Fd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control.valid()) return Status::FromErrno("open /dev/loop-control");
  Fd file(::open(image.c_str(), O_RDWR | O_CLOEXEC));
  if (!file.valid()) return Status::FromErrno("open " + image);
  // Another process may take the free device between the two calls: try again.
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return Status::FromErrno("LOOP_CTL_GET_FREE");
    const std::string dev = "/dev/loop" + std::to_string(n);
    Fd loop(::open(dev.c_str(), O_RDWR | O_CLOEXEC));
    if (!loop.valid()) return Status::FromErrno("open " + dev);
    loop_config config{};
    config.fd = static_cast<uint32_t>(file.get());
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    if (::ioctl(loop.get(), LOOP_CONFIGURE, &config) == 0) return Loop{dev, std::move(loop)};
    if (errno != EBUSY) return Status::FromErrno("LOOP_CONFIGURE " + dev + " with " + image);
  }
  return Status::Error(EBUSY, "no free loop device for " + image);
}

}  // namespace

Status MakeLayerFsImage(LayerFs kind, const std::string& image, const std::string& log) {
  if (kind != LayerFs::kExt4 && kind != LayerFs::kXfs) {
    return Status::Error(EINVAL, "no image to make for a layer on '" +
                                     topology::NameString(topology::kLayerFsNames, kind) + "'");
  }
  {
    Fd f(::open(image.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!f.valid() || ::ftruncate(f.get(), kImageBytes) != 0) {
      return Status::FromErrno("create image " + image);
    }
  }
  if (kind == LayerFs::kExt4) return RunMkfs({"mkfs.ext4", "-q", "-F", image}, log);
  return RunMkfs({"mkfs.xfs", "-q", "-f", image}, log);
}

Result<std::unique_ptr<LayerFsMount>> LayerFsMount::Make(LayerFs kind, const std::string& parent,
                                                         const std::string& name) {
  if (kind != LayerFs::kTmpfs && kind != LayerFs::kExt4 && kind != LayerFs::kXfs) {
    return Status::Error(EINVAL, "no filesystem to make for a layer on '" +
                                     topology::NameString(topology::kLayerFsNames, kind) + "'");
  }
  const std::string point = parent + "/" + kMountPrefix + std::to_string(getpid()) + "-" + name;
  const std::string image = kind == LayerFs::kTmpfs ? "" : parent + "/" + name + ".img";
  std::unique_ptr<LayerFsMount> m(new LayerFsMount(kind, point, image));
  if (::mkdir(point.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + point);
  if (kind == LayerFs::kTmpfs) {
    if (::mount("tmpfs", point.c_str(), "tmpfs", 0, kTmpfsOptions) != 0) {
      return Status::FromErrno("mount -t tmpfs at " + point);
    }
    m->mounted_ = true;
    return m;
  }
  OVL_RETURN_IF_ERROR(MakeLayerFsImage(kind, image, parent + "/" + name + ".mkfs.log"));
  OVL_ASSIGN_OR_RETURN(Loop loop, AttachLoop(image));
  const char* type = kind == LayerFs::kExt4 ? "ext4" : "xfs";
  // On failure the loop device clears itself when loop.fd closes: nothing else holds it.
  if (::mount(loop.dev.c_str(), point.c_str(), type, 0, "") != 0) {
    return Status::FromErrno(std::string("mount -t ") + type + " " + loop.dev + " at " + point);
  }
  m->mounted_ = true;
  return m;
}

LayerFsMount::~LayerFsMount() {
  (void)Remove();
}

Status LayerFsMount::Remove(bool keep_image) {
  Status st = Status::Ok();
  // Detached: a server being torn down may still hold files here for a moment.
  if (mounted_ && ::umount2(path_.c_str(), MNT_DETACH) != 0) {
    st = Status::FromErrno("umount " + path_);
  } else {
    mounted_ = false;
  }
  std::error_code ec;
  if (!mounted_) stdfs::remove(path_, ec);
  if (!image_.empty() && !keep_image) stdfs::remove(image_, ec);
  return st;
}

Status MountOverlay(const std::string& at, const std::string& options, std::string* notes) {
  return MountOverlayAs(OverlayMountSource(getpid()), at, options, notes);
}

Result<std::unique_ptr<LayerStack>> LayerStack::Make(const topology::ServerSpec& spec,
                                                     const ops::Fixture& fixture,
                                                     const std::string& dir) {
  std::error_code ec;
  stdfs::remove_all(dir, ec);
  stdfs::create_directories(dir, ec);
  if (ec) return Status::Error(ec.value(), "create " + dir + ": " + ec.message());
  std::unique_ptr<LayerStack> stack(new LayerStack());
  // The directory of a layer named `name` on `fs`: on a filesystem of its own, or beside it.
  auto layer_dir = [&](LayerFs fs, const std::string& name) -> Result<std::string> {
    if (fs == LayerFs::kSame) return dir + "/" + name;
    OVL_ASSIGN_OR_RETURN(auto mount, LayerFsMount::Make(fs, dir, name));
    std::string path = mount->path() + "/" + name;
    stack->mounts_.push_back(std::move(mount));
    return path;
  };
  const size_t n = std::max<size_t>(static_cast<size_t>(fixture.layers), spec.layers);
  std::vector<std::string> fixture_dirs;  // where each fixture layer is written
  for (size_t i = 0; i < n; ++i) {
    const LayerFs fs = i < spec.lower_fs.size() ? spec.lower_fs[i] : LayerFs::kSame;
    OVL_ASSIGN_OR_RETURN(std::string lower, layer_dir(fs, "lower" + std::to_string(i)));
    stack->dirs_.lowers.push_back(lower);
    fixture_dirs.push_back(lower);
  }
  std::string nested_top;
  if (spec.nested) {
    // The inner layers live where lower 0 would; lowers[0] becomes the inner overlay's mount.
    const std::string base = stdfs::path(stack->dirs_.lowers[0]).parent_path().string();
    nested_top = base + "/nested-top";
    fixture_dirs[0] = base + "/nested-bottom";
    stdfs::create_directories(nested_top, ec);
    stdfs::create_directories(fixture_dirs[0], ec);
  }
  if (spec.has_upper()) {
    OVL_ASSIGN_OR_RETURN(std::string upper, layer_dir(spec.upper_fs, "upper"));
    stack->dirs_.upper = upper;
    // The work dir must share the upper's filesystem.
    stack->dirs_.work = stdfs::path(upper).parent_path().string() + "/work";
    stdfs::create_directories(upper, ec);
  } else {
    stack->dirs_.work = dir + "/work";
  }
  for (const std::string& d : stack->dirs_.lowers) stdfs::create_directories(d, ec);
  stdfs::create_directories(stack->dirs_.work, ec);
  if (ec) return Status::Error(ec.value(), "create layers under " + dir + ": " + ec.message());
  // The topology's extra layers (beyond the fixture's) stay empty.
  fixture_dirs.resize(static_cast<size_t>(fixture.layers));
  OVL_RETURN_IF_ERROR(Materialize(fixture, fixture_dirs));
  if (spec.nested) {
    // nested-top repeats layer 0's directories, so each is merged from both inner layers.
    for (const ops::FixtureEntry& e : fixture.entries) {
      if (e.kind != ops::FixtureEntry::Kind::kDir || e.layer != 0) continue;
      const std::string path = nested_top + "/" + e.path;
      if (::mkdir(path.c_str(), 0755) != 0 || ::chmod(path.c_str(), e.mode) != 0) {
        return Status::FromErrno("mkdir " + path);
      }
    }
    OVL_RETURN_IF_ERROR(stack->MountNested(nested_top, fixture_dirs[0], stack->dirs_.lowers[0]));
  }
  return stack;
}

Status LayerStack::MountNested(const std::string& top, const std::string& bottom,
                               const std::string& at) {
  // Without an upper, overlayfs exports handles only with redirect_dir=nofollow (it falls back
  // to nfs_export=off otherwise), and the outer overlay decodes through these handles.
  const std::string options =
      "lowerdir=" + top + ":" + bottom + ",redirect_dir=nofollow,nfs_export=on";
  OVL_RETURN_IF_ERROR(MountOverlay(at, options, nullptr));
  nested_mount_ = at;
  return Status::Ok();
}

LayerStack::~LayerStack() {
  (void)Remove(false);
}

Status LayerStack::Remove(bool keep) {
  Status first = Status::Ok();
  if (!nested_mount_.empty()) {
    if (::umount2(nested_mount_.c_str(), MNT_DETACH) != 0) {
      first = Status::FromErrno("umount " + nested_mount_);
    }
    nested_mount_.clear();
  }
  for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
    Status st = (*it)->Remove(keep);
    if (first.ok()) first = st;
  }
  mounts_.clear();
  return first;
}

std::optional<pid_t> LayerFsOwner(const std::string& mount_point) {
  const std::string name = stdfs::path(mount_point).filename().string();
  if (name.rfind(kMountPrefix, 0) != 0) return std::nullopt;
  const std::string rest = name.substr(sizeof kMountPrefix - 1);
  const size_t dash = rest.find('-');
  const std::string pid = rest.substr(0, dash);
  if (pid.empty() || dash == std::string::npos ||
      pid.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return static_cast<pid_t>(std::stol(pid));
}

}  // namespace ovl::backend
