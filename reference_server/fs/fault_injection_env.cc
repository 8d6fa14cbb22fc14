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

FaultInjectionEnv::FaultInjectionEnv(FsEnv* target) : target_(target) {}

void FaultInjectionEnv::FailAt(uint64_t n, int err, Mode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = true;
  fail_at_ = mutating_calls_ + std::max<uint64_t>(n, 1);
  err_ = err;
  mode_ = mode;
}

void FaultInjectionEnv::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
  crashed_ = false;
}

uint64_t FaultInjectionEnv::mutating_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mutating_calls_;
}

bool FaultInjectionEnv::crashed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crashed_;
}

std::vector<std::string> FaultInjectionEnv::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

Status FaultInjectionEnv::Enter(std::string entry, bool mutating) {
  std::lock_guard<std::mutex> lock(mu_);
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
  crashed_ = mode_ == Mode::kCrash;
  log_.push_back(entry + " [injected]");
  return Status::Error(err_, "injected fault in " + entry);
}

Result<Fd> FaultInjectionEnv::OpenBeneath(int dirfd, const std::string& relpath, int flags,
                                          mode_t mode) {
  OVL_RETURN_IF_ERROR(Enter("OpenBeneath(" + relpath + ")", OpenMutates(flags)));
  return target_->OpenBeneath(dirfd, relpath, flags, mode);
}

Result<Fd> FaultInjectionEnv::OpenByHandle(int mount_fd, const RealFh& fh, int flags) {
  OVL_RETURN_IF_ERROR(Enter("OpenByHandle()", false));
  return target_->OpenByHandle(mount_fd, fh, flags);
}

Result<RealFh> FaultInjectionEnv::NameToHandle(int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("NameToHandle(" + name + ")", false));
  return target_->NameToHandle(dirfd, name);
}

Result<struct stat> FaultInjectionEnv::Stat(int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("Stat(" + name + ")", false));
  return target_->Stat(dirfd, name);
}

Result<std::vector<DirEntry>> FaultInjectionEnv::ReadDir(int dirfd) {
  OVL_RETURN_IF_ERROR(Enter("ReadDir()", false));
  return target_->ReadDir(dirfd);
}

Result<std::string> FaultInjectionEnv::ReadLink(int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("ReadLink(" + name + ")", false));
  return target_->ReadLink(dirfd, name);
}

Result<std::string> FaultInjectionEnv::FdPath(int fd) {
  OVL_RETURN_IF_ERROR(Enter("FdPath()", false));
  return target_->FdPath(fd);
}

Status FaultInjectionEnv::MkDir(int dirfd, const std::string& name, mode_t mode) {
  OVL_RETURN_IF_ERROR(Enter("MkDir(" + name + ")", true));
  return target_->MkDir(dirfd, name, mode);
}

Status FaultInjectionEnv::MkNod(int dirfd, const std::string& name, mode_t mode, dev_t dev) {
  OVL_RETURN_IF_ERROR(Enter("MkNod(" + name + ")", true));
  return target_->MkNod(dirfd, name, mode, dev);
}

Status FaultInjectionEnv::Symlink(const std::string& target, int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("Symlink(" + target + ", " + name + ")", true));
  return target_->Symlink(target, dirfd, name);
}

Status FaultInjectionEnv::Link(int olddirfd, const std::string& oldname, int newdirfd,
                               const std::string& newname) {
  OVL_RETURN_IF_ERROR(Enter("Link(" + oldname + ", " + newname + ")", true));
  return target_->Link(olddirfd, oldname, newdirfd, newname);
}

Status FaultInjectionEnv::Rename(int olddirfd, const std::string& oldname, int newdirfd,
                                 const std::string& newname, unsigned flags) {
  OVL_RETURN_IF_ERROR(Enter("Rename(" + oldname + ", " + newname + ")", true));
  return target_->Rename(olddirfd, oldname, newdirfd, newname, flags);
}

Status FaultInjectionEnv::Unlink(int dirfd, const std::string& name, int flags) {
  OVL_RETURN_IF_ERROR(Enter("Unlink(" + name + ")", true));
  return target_->Unlink(dirfd, name, flags);
}

Result<size_t> FaultInjectionEnv::PRead(int fd, void* buf, size_t len, off_t off) {
  OVL_RETURN_IF_ERROR(Enter("PRead()", false));
  return target_->PRead(fd, buf, len, off);
}

Result<size_t> FaultInjectionEnv::PWrite(int fd, const void* buf, size_t len, off_t off) {
  OVL_RETURN_IF_ERROR(Enter("PWrite()", true));
  return target_->PWrite(fd, buf, len, off);
}

Status FaultInjectionEnv::CopyData(int from, int to, uint64_t len) {
  OVL_RETURN_IF_ERROR(Enter("CopyData()", true));
  return target_->CopyData(from, to, len);
}

Status FaultInjectionEnv::Truncate(int fd, off_t len) {
  OVL_RETURN_IF_ERROR(Enter("Truncate()", true));
  return target_->Truncate(fd, len);
}

Status FaultInjectionEnv::Fsync(int fd) {
  OVL_RETURN_IF_ERROR(Enter("Fsync()", true));
  return target_->Fsync(fd);
}

Status FaultInjectionEnv::Fdatasync(int fd) {
  OVL_RETURN_IF_ERROR(Enter("Fdatasync()", true));
  return target_->Fdatasync(fd);
}

Status FaultInjectionEnv::Chmod(int dirfd, const std::string& name, mode_t mode) {
  OVL_RETURN_IF_ERROR(Enter("Chmod(" + name + ")", true));
  return target_->Chmod(dirfd, name, mode);
}

Status FaultInjectionEnv::Chown(int dirfd, const std::string& name, uid_t uid, gid_t gid) {
  OVL_RETURN_IF_ERROR(Enter("Chown(" + name + ")", true));
  return target_->Chown(dirfd, name, uid, gid);
}

Status FaultInjectionEnv::SetTimes(int dirfd, const std::string& name,
                                   const struct timespec times[2]) {
  OVL_RETURN_IF_ERROR(Enter("SetTimes(" + name + ")", true));
  return target_->SetTimes(dirfd, name, times);
}

Result<std::optional<std::string>> FaultInjectionEnv::GetXattr(int dirfd, const std::string& name,
                                                               const std::string& attr) {
  OVL_RETURN_IF_ERROR(Enter("GetXattr(" + name + ", " + attr + ")", false));
  return target_->GetXattr(dirfd, name, attr);
}

Status FaultInjectionEnv::SetXattr(int dirfd, const std::string& name, const std::string& attr,
                                   const std::string& value) {
  OVL_RETURN_IF_ERROR(Enter("SetXattr(" + name + ", " + attr + ")", true));
  return target_->SetXattr(dirfd, name, attr, value);
}

Status FaultInjectionEnv::RemoveXattr(int dirfd, const std::string& name, const std::string& attr) {
  OVL_RETURN_IF_ERROR(Enter("RemoveXattr(" + name + ", " + attr + ")", true));
  return target_->RemoveXattr(dirfd, name, attr);
}

Result<std::vector<std::string>> FaultInjectionEnv::ListXattr(int dirfd, const std::string& name) {
  OVL_RETURN_IF_ERROR(Enter("ListXattr(" + name + ")", false));
  return target_->ListXattr(dirfd, name);
}

Result<struct statvfs> FaultInjectionEnv::StatFs(int fd) {
  OVL_RETURN_IF_ERROR(Enter("StatFs()", false));
  return target_->StatFs(fd);
}

}  // namespace ovl
