#include "fs/fault_injection_env.h"

#include <fcntl.h>

#include <algorithm>
#include <utility>

namespace ovl {
namespace {

// Opening with these flags changes the disk (creates or empties a file), so it is a point where
// a crash leaves a different state than before.
bool OpenMutates(int flags) {
  return (flags & O_CREAT) != 0 || (flags & O_TRUNC) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(FsEnv* target) : FsEnvWrapper(&power_), power_(target) {}

void FaultInjectionEnv::FailAt(uint64_t n, int err, Mode mode) {
  MutexLock lock(&mu_);
  armed_ = true;
  fail_at_ = mutating_calls_ + std::max<uint64_t>(n, 1);
  err_ = err;
  mode_ = mode;
}

void FaultInjectionEnv::Disarm() {
  MutexLock lock(&mu_);
  armed_ = false;
  crashed_ = false;
}

uint64_t FaultInjectionEnv::mutating_calls() const {
  MutexLock lock(&mu_);
  return mutating_calls_;
}

bool FaultInjectionEnv::crashed() const {
  MutexLock lock(&mu_);
  return crashed_;
}

std::vector<std::string> FaultInjectionEnv::log() const {
  MutexLock lock(&mu_);
  return log_;
}

Status FaultInjectionEnv::Enter(std::string entry, bool mutating) {
  Status injected;
  {
    MutexLock lock(&mu_);
    if (crashed_) {
      log_.push_back(entry + " [crashed]");
      return Status::Error(err_, "simulated crash, refused " + entry);
    }
    if (!mutating) {
      log_.push_back(std::move(entry));
      return Status::Ok();
    }
    ++mutating_calls_;
    if (!armed_ || mutating_calls_ != fail_at_) {
      log_.push_back(std::move(entry));
      return Status::Ok();
    }
    armed_ = false;
    crashed_ = mode_ != Mode::kOnce;
    log_.push_back(entry + " [injected]");
    injected = Status::Error(err_, "injected fault in " + entry);
    if (mode_ != Mode::kPowerLoss) return injected;
  }
  return CutPower(injected);
}

Status FaultInjectionEnv::StartPowerLossTracking(int scratch_dirfd) {
  return power_.Start(scratch_dirfd);
}

Status FaultInjectionEnv::PowerCut() {
  {
    MutexLock lock(&mu_);
    armed_ = false;
    crashed_ = true;
    err_ = EIO;
  }
  return CutPower(Status::Ok());
}

Status FaultInjectionEnv::CutPower(Status error) {
  // Calls after the crash are refused before they reach power_; Cut waits for any in flight.
  const Status cut = power_.Cut();
  MutexLock lock(&mu_);
  if (cut.ok()) {
    log_.push_back("PowerCut()");
    return error;
  }
  log_.push_back("PowerCut() [failed: " + cut.ToString() + "]");
  if (error.ok()) return cut;
  return Status::Error(error.code(), error.message() + "; power cut failed: " + cut.ToString());
}

Result<Fd> FaultInjectionEnv::OpenBeneath(int dirfd, const std::string& relpath, int flags,
                                          mode_t mode) {
  OVL_RETURN_IF_ERROR(Enter("OpenBeneath(" + relpath + ")", OpenMutates(flags)));
  return FsEnvWrapper::OpenBeneath(dirfd, relpath, flags, mode);
}

Result<Fd> FaultInjectionEnv::OpenByHandle(int mount_fd, const RealFh& fh, int flags) {
  OVL_RETURN_IF_ERROR(Enter("OpenByHandle()", false));
  return FsEnvWrapper::OpenByHandle(mount_fd, fh, flags);
}

Result<RealFh> FaultInjectionEnv::NameToHandle(int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("NameToHandle(" + name + ")", false));
  return FsEnvWrapper::NameToHandle(dirfd, name);
}

Result<struct stat> FaultInjectionEnv::Stat(int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("Stat(" + name + ")", false));
  return FsEnvWrapper::Stat(dirfd, name);
}

Result<std::vector<DirEntry>> FaultInjectionEnv::ReadDir(int dirfd) {
  OVL_RETURN_IF_ERROR(Enter("ReadDir()", false));
  return FsEnvWrapper::ReadDir(dirfd);
}

Result<std::string> FaultInjectionEnv::ReadLink(int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("ReadLink(" + name + ")", false));
  return FsEnvWrapper::ReadLink(dirfd, name);
}

Result<std::string> FaultInjectionEnv::FdPath(int fd) {
  OVL_RETURN_IF_ERROR(Enter("FdPath()", false));
  return FsEnvWrapper::FdPath(fd);
}

Status FaultInjectionEnv::MkDir(int dirfd, const std::string& name, mode_t mode) {
  OVL_RETURN_IF_ERROR(Enter("MkDir(" + name + ")", true));
  return FsEnvWrapper::MkDir(dirfd, name, mode);
}

Status FaultInjectionEnv::MkNod(int dirfd, const std::string& name, mode_t mode, dev_t dev) {
  OVL_RETURN_IF_ERROR(Enter("MkNod(" + name + ")", true));
  return FsEnvWrapper::MkNod(dirfd, name, mode, dev);
}

Status FaultInjectionEnv::Symlink(const std::string& target, int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("Symlink(" + target + ", " + name + ")", true));
  return FsEnvWrapper::Symlink(target, dirfd, name);
}

Status FaultInjectionEnv::Link(int olddirfd, const std::string& oldname, int newdirfd,
                               const std::string& newname) {
  OVL_RETURN_IF_ERROR(Enter("Link(" + oldname + ", " + newname + ")", true));
  return FsEnvWrapper::Link(olddirfd, oldname, newdirfd, newname);
}

Status FaultInjectionEnv::Rename(int olddirfd, const std::string& oldname, int newdirfd,
                                 const std::string& newname, unsigned flags) {
  OVL_RETURN_IF_ERROR(Enter("Rename(" + oldname + ", " + newname + ")", true));
  return FsEnvWrapper::Rename(olddirfd, oldname, newdirfd, newname, flags);
}

Status FaultInjectionEnv::Unlink(int dirfd, const std::string& name, int flags) {
  OVL_RETURN_IF_ERROR(Enter("Unlink(" + name + ")", true));
  return FsEnvWrapper::Unlink(dirfd, name, flags);
}

Result<size_t> FaultInjectionEnv::PRead(int fd, void* buf, size_t len, off_t off) {
  OVL_RETURN_IF_ERROR(Enter("PRead()", false));
  return FsEnvWrapper::PRead(fd, buf, len, off);
}

Result<size_t> FaultInjectionEnv::PWrite(int fd, const void* buf, size_t len, off_t off) {
  OVL_RETURN_IF_ERROR(Enter("PWrite()", true));
  return FsEnvWrapper::PWrite(fd, buf, len, off);
}

Status FaultInjectionEnv::CopyData(int from, int to, uint64_t len) {
  OVL_RETURN_IF_ERROR(Enter("CopyData()", true));
  return FsEnvWrapper::CopyData(from, to, len);
}

Status FaultInjectionEnv::Truncate(int fd, off_t len) {
  OVL_RETURN_IF_ERROR(Enter("Truncate()", true));
  return FsEnvWrapper::Truncate(fd, len);
}

Status FaultInjectionEnv::Fsync(int fd) {
  OVL_RETURN_IF_ERROR(Enter("Fsync()", true));
  return FsEnvWrapper::Fsync(fd);
}

Status FaultInjectionEnv::Fdatasync(int fd) {
  OVL_RETURN_IF_ERROR(Enter("Fdatasync()", true));
  return FsEnvWrapper::Fdatasync(fd);
}

Status FaultInjectionEnv::Chmod(int dirfd, const std::string& name, mode_t mode) {
  OVL_RETURN_IF_ERROR(Enter("Chmod(" + name + ")", true));
  return FsEnvWrapper::Chmod(dirfd, name, mode);
}

Status FaultInjectionEnv::Chown(int dirfd, const std::string& name, uid_t uid, gid_t gid) {
  OVL_RETURN_IF_ERROR(Enter("Chown(" + name + ")", true));
  return FsEnvWrapper::Chown(dirfd, name, uid, gid);
}

Status FaultInjectionEnv::SetTimes(int dirfd, const std::string& name,
                                   const struct timespec times[2]) {
  OVL_RETURN_IF_ERROR(Enter("SetTimes(" + name + ")", true));
  return FsEnvWrapper::SetTimes(dirfd, name, times);
}

Result<std::optional<std::string>> FaultInjectionEnv::GetXattr(int dirfd, const std::string& name,
                                                               const std::string& attr) {
  OVL_RETURN_IF_ERROR(Enter("GetXattr(" + name + ", " + attr + ")", false));
  return FsEnvWrapper::GetXattr(dirfd, name, attr);
}

Status FaultInjectionEnv::SetXattr(int dirfd, const std::string& name, const std::string& attr,
                                   const std::string& value) {
  OVL_RETURN_IF_ERROR(Enter("SetXattr(" + name + ", " + attr + ")", true));
  return FsEnvWrapper::SetXattr(dirfd, name, attr, value);
}

Status FaultInjectionEnv::RemoveXattr(int dirfd, const std::string& name, const std::string& attr) {
  OVL_RETURN_IF_ERROR(Enter("RemoveXattr(" + name + ", " + attr + ")", true));
  return FsEnvWrapper::RemoveXattr(dirfd, name, attr);
}

Result<std::vector<std::string>> FaultInjectionEnv::ListXattr(int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("ListXattr(" + name + ")", false));
  return FsEnvWrapper::ListXattr(dirfd, name);
}

Result<struct statvfs> FaultInjectionEnv::StatFs(int fd) {
  OVL_RETURN_IF_ERROR(Enter("StatFs()", false));
  return FsEnvWrapper::StatFs(fd);
}

}  // namespace ovl
