// FsEnvWrapper: an FsEnv that forwards every call to another one (in the manner of LevelDB's
// EnvWrapper), so a test double overrides only the calls it changes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fs/fs_env.h"

namespace ovl {

class FsEnvWrapper : public FsEnv {
 public:
  // Forwards to `target`, which must outlive this object.
  explicit FsEnvWrapper(FsEnv* target) : target_(target) {}

  // The env every call goes to by default.
  FsEnv* target() const { return target_; }

  Result<Fd> OpenBeneath(int dirfd, const std::string& relpath, int flags,
                         mode_t mode = 0) override {
    return target_->OpenBeneath(dirfd, relpath, flags, mode);
  }
  Result<Fd> OpenByHandle(int mount_fd, const RealFh& fh, int flags) override {
    return target_->OpenByHandle(mount_fd, fh, flags);
  }
  Result<RealFh> NameToHandle(int dirfd, const std::string& name) override {
    return target_->NameToHandle(dirfd, name);
  }
  Result<struct stat> Stat(int dirfd, const std::string& name) override {
    return target_->Stat(dirfd, name);
  }
  Result<std::vector<DirEntry>> ReadDir(int dirfd) override { return target_->ReadDir(dirfd); }
  Result<std::string> ReadLink(int dirfd, const std::string& name) override {
    return target_->ReadLink(dirfd, name);
  }
  Result<std::string> FdPath(int fd) override { return target_->FdPath(fd); }
  Status MkDir(int dirfd, const std::string& name, mode_t mode) override {
    return target_->MkDir(dirfd, name, mode);
  }
  Status MkNod(int dirfd, const std::string& name, mode_t mode, dev_t dev) override {
    return target_->MkNod(dirfd, name, mode, dev);
  }
  Status Symlink(const std::string& target, int dirfd, const std::string& name) override {
    return target_->Symlink(target, dirfd, name);
  }
  Status Link(int olddirfd, const std::string& oldname, int newdirfd,
              const std::string& newname) override {
    return target_->Link(olddirfd, oldname, newdirfd, newname);
  }
  Status Rename(int olddirfd, const std::string& oldname, int newdirfd, const std::string& newname,
                unsigned flags) override {
    return target_->Rename(olddirfd, oldname, newdirfd, newname, flags);
  }
  Status Unlink(int dirfd, const std::string& name, int flags) override {
    return target_->Unlink(dirfd, name, flags);
  }
  Result<size_t> PRead(int fd, void* buf, size_t len, off_t off) override {
    return target_->PRead(fd, buf, len, off);
  }
  Result<size_t> PWrite(int fd, const void* buf, size_t len, off_t off) override {
    return target_->PWrite(fd, buf, len, off);
  }
  Status CopyData(int from, int to, uint64_t len) override {
    return target_->CopyData(from, to, len);
  }
  Status Truncate(int fd, off_t len) override { return target_->Truncate(fd, len); }
  Status Fsync(int fd) override { return target_->Fsync(fd); }
  Status Fdatasync(int fd) override { return target_->Fdatasync(fd); }
  Status Chmod(int dirfd, const std::string& name, mode_t mode) override {
    return target_->Chmod(dirfd, name, mode);
  }
  Status Chown(int dirfd, const std::string& name, uid_t uid, gid_t gid) override {
    return target_->Chown(dirfd, name, uid, gid);
  }
  Status SetTimes(int dirfd, const std::string& name, const struct timespec times[2]) override {
    return target_->SetTimes(dirfd, name, times);
  }
  Result<std::optional<std::string>> GetXattr(int dirfd, const std::string& name,
                                              const std::string& attr) override {
    return target_->GetXattr(dirfd, name, attr);
  }
  Status SetXattr(int dirfd, const std::string& name, const std::string& attr,
                  const std::string& value) override {
    return target_->SetXattr(dirfd, name, attr, value);
  }
  Status RemoveXattr(int dirfd, const std::string& name, const std::string& attr) override {
    return target_->RemoveXattr(dirfd, name, attr);
  }
  Result<std::vector<std::string>> ListXattr(int dirfd, const std::string& name) override {
    return target_->ListXattr(dirfd, name);
  }
  Result<struct statvfs> StatFs(int fd) override { return target_->StatFs(fd); }

 private:
  FsEnv* const target_;
};

}  // namespace ovl
