// FaultInjectionEnv: an FsEnv test double that forwards to another FsEnv and can make a chosen
// mutating call fail: once, as a simulated process crash after which nothing reaches the disk,
// or as a simulated power cut that also takes back every change not yet made durable
// (fs/power_loss_env.h says exactly what). Modelled on LevelDB's db/fault_injection_test.cc. A
// test typically runs an operation once to learn how many mutating calls it makes, then re-runs
// it failing at each of them in turn and checks that the on-disk state is still one of the
// allowed ones. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "fs/fs_env_wrapper.h"
#include "fs/power_loss_env.h"

namespace ovl {

class FaultInjectionEnv : public FsEnvWrapper {
 public:
  enum class Mode {
    kOnce,   // only the armed call fails; later calls go through
    kCrash,  // the armed call and every later call of any kind fail, as if the process died
    // As kCrash, and at the armed call the power is cut (PowerCut): needs
    // StartPowerLossTracking first.
    kPowerLoss,
  };

  // Forwards to `target`, which must outlive this object.
  explicit FaultInjectionEnv(FsEnv* target);

  // Arms a fault: the n-th mutating call from now (n = 1 is the next one; 0 counts as 1) fails
  // with `err` without reaching the target. Replaces any earlier arming; does not clear a crash.
  // Mutating calls: MkDir, MkNod, Symlink, Link, Rename, Unlink, PWrite, CopyData, Truncate,
  // Fsync, Fdatasync, Chmod, Chown, SetTimes, SetXattr, RemoveXattr, and OpenBeneath with
  // O_CREAT, O_TRUNC or O_TMPFILE.
  void FailAt(uint64_t n, int err, Mode mode);
  // Starts recording what is durable, for kPowerLoss and PowerCut: the disk as it is now counts
  // as durable (PowerLossEnv::Start; `scratch_dirfd` is an empty directory on the same
  // filesystem, left to the env until the cut).
  Status StartPowerLossTracking(int scratch_dirfd);
  // Cuts the power now: every change not yet durable is undone (PowerLossEnv::Cut) and, as
  // after a kCrash fault, every later call fails until Disarm. Logged as "PowerCut()". An error
  // says the disk could not be put back wholly.
  Status PowerCut();
  // Cancels an armed fault and ends a crash, so the test can inspect the disk through this env
  // as a restarted process would.
  void Disarm();
  // Mutating calls seen since construction, including the one that failed; calls refused after
  // a crash are not counted (they never happened).
  uint64_t mutating_calls() const;
  // True from a kCrash or kPowerLoss fault, or a PowerCut, until Disarm().
  bool crashed() const;
  // One entry per call, "Call(name args)", e.g. "Rename(a, b)"; fd-only calls are "Fsync()".
  // The injected call has " [injected]" appended, calls refused after a crash " [crashed]". A
  // power cut adds "PowerCut()", or "PowerCut() [failed: ERROR]".
  std::vector<std::string> log() const;

  Result<Fd> OpenBeneath(int dirfd, const std::string& relpath, int flags,
                         mode_t mode = 0) override;
  Result<Fd> OpenByHandle(int mount_fd, const RealFh& fh, int flags) override;
  Result<RealFh> NameToHandle(int dirfd, const std::string& name) override;
  Result<struct stat> Stat(int dirfd, const std::string& name) override;
  Result<std::vector<DirEntry>> ReadDir(int dirfd) override;
  Result<std::string> ReadLink(int dirfd, const std::string& name) override;
  Result<std::string> FdPath(int fd) override;
  Status MkDir(int dirfd, const std::string& name, mode_t mode) override;
  Status MkNod(int dirfd, const std::string& name, mode_t mode, dev_t dev) override;
  Status Symlink(const std::string& target, int dirfd, const std::string& name) override;
  Status Link(int olddirfd, const std::string& oldname, int newdirfd,
              const std::string& newname) override;
  Status Rename(int olddirfd, const std::string& oldname, int newdirfd, const std::string& newname,
                unsigned flags) override;
  Status Unlink(int dirfd, const std::string& name, int flags) override;
  Result<size_t> PRead(int fd, void* buf, size_t len, off_t off) override;
  Result<size_t> PWrite(int fd, const void* buf, size_t len, off_t off) override;
  Status CopyData(int from, int to, uint64_t len) override;
  Status Truncate(int fd, off_t len) override;
  Status Fsync(int fd) override;
  Status Fdatasync(int fd) override;
  Status Chmod(int dirfd, const std::string& name, mode_t mode) override;
  Status Chown(int dirfd, const std::string& name, uid_t uid, gid_t gid) override;
  Status SetTimes(int dirfd, const std::string& name, const struct timespec times[2]) override;
  Result<std::optional<std::string>> GetXattr(int dirfd, const std::string& name,
                                              const std::string& attr) override;
  Status SetXattr(int dirfd, const std::string& name, const std::string& attr,
                  const std::string& value) override;
  Status RemoveXattr(int dirfd, const std::string& name, const std::string& attr) override;
  Result<std::vector<std::string>> ListXattr(int dirfd, const std::string& name) override;
  Result<struct statvfs> StatFs(int fd) override;

 private:
  // Logs the call and decides its fate: an error if it is the armed call or comes after a crash,
  // OK if it may go on to the target. Cuts the power at an armed kPowerLoss call.
  Status Enter(std::string entry, bool mutating);
  // Cuts the power and logs it: `error` (the injected fault, or OK for PowerCut), with the
  // cut's own error added when it failed.
  Status CutPower(Status error) EXCLUDES(mu_);

  // Every call goes through it; it only records while tracking.
  PowerLossEnv power_;
  mutable Mutex mu_;
  uint64_t mutating_calls_ GUARDED_BY(mu_) = 0;
  bool armed_ GUARDED_BY(mu_) = false;
  uint64_t fail_at_ GUARDED_BY(mu_) = 0;  // value of mutating_calls_ that fails
  int err_ GUARDED_BY(mu_) = 0;
  Mode mode_ GUARDED_BY(mu_) = Mode::kOnce;
  bool crashed_ GUARDED_BY(mu_) = false;
  std::vector<std::string> log_ GUARDED_BY(mu_);
};

}  // namespace ovl
