// PosixEnv: FsEnv on direct Linux system calls. Every error names the failing call and the name
// it was given, and carries that call's errno.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "fs/fs_env.h"

namespace ovl {
namespace {

// errno is captured before the message is built: building it allocates, which may clobber errno.
Status SysError(const char* call, const std::string& name) {
  const int err = errno;
  return Status::Error(err, std::string(call) + "(\"" + name + "\")");
}

Status SysErrorFd(const char* call, int fd) {
  const int err = errno;
  return Status::Error(err, std::string(call) + "(fd " + std::to_string(fd) + ")");
}

// An empty name addresses dirfd itself, which the *at calls only accept with AT_EMPTY_PATH.
int EmptyPathFlag(const std::string& name) {
  return name.empty() ? AT_EMPTY_PATH : 0;
}

std::string ProcFdPath(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

// Path-based calls (xattrs, chmod) reach an fd, even an O_PATH one, through its /proc magic link.
// Returns the path and whether the call must follow the last component: the magic link itself
// must be followed to reach dirfd's object (which is then used as is, even if it is a symlink),
// while a named entry must not be followed.
struct ProcTarget {
  std::string path;
  bool follow;
};

ProcTarget ProcTargetOf(int dirfd, const std::string& name) {
  if (name.empty()) return {ProcFdPath(dirfd), true};
  return {ProcFdPath(dirfd) + "/" + name, false};
}

// readlinkat into a buffer that grows until the whole target fits.
Result<std::string> ReadLinkAt(int dirfd, const std::string& name, const char* call) {
  std::string buf(PATH_MAX, '\0');
  for (;;) {
    const ssize_t n = readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
    if (n < 0) return SysError(call, name);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

// Loops on short reads and EINTR; stops early only at end of file.
Result<size_t> PReadFull(int fd, void* buf, size_t len, off_t off) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n =
        pread(fd, static_cast<char*>(buf) + done, len - done, off + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysErrorFd("pread", fd);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// Loops on short writes and EINTR until all of `len` is written.
Result<size_t> PWriteFull(int fd, const void* buf, size_t len, off_t off) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = pwrite(fd, static_cast<const char*>(buf) + done, len - done,
                             off + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysErrorFd("pwrite", fd);
    }
    // A regular file never accepts zero bytes without an error; fail rather than spin forever.
    if (n == 0) return Status::Error(EIO, "pwrite(fd " + std::to_string(fd) + "): no progress");
    done += static_cast<size_t>(n);
  }
  return done;
}

// Copies [off, len) of `from` to the same offsets of `to` through a user-space buffer.
Status CopyByReadWrite(int from, int to, uint64_t off, uint64_t len) {
  if (off >= len) return Status::Ok();
  constexpr size_t kChunk = 1 << 20;
  std::string buf(kChunk, '\0');
  while (off < len) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, len - off));
    OVL_ASSIGN_OR_RETURN(const size_t got,
                         PReadFull(from, buf.data(), want, static_cast<off_t>(off)));
    if (got == 0) {
      return Status::Error(EIO, "CopyData(fd " + std::to_string(from) + "): source ends at " +
                                    std::to_string(off) + " of " + std::to_string(len));
    }
    OVL_RETURN_IF_ERROR(PWriteFull(to, buf.data(), got, static_cast<off_t>(off)).status());
    off += got;
  }
  return Status::Ok();
}

class PosixEnv final : public FsEnv {
 public:
  // openat2 takes at most PATH_MAX - 1 bytes of path: a longer one is resolved in pieces cut at
  // '/', each beneath the directory the last one led to, so the whole stays beneath dirfd.
  Result<Fd> OpenBeneath(int dirfd, const std::string& relpath, int flags, mode_t mode) override {
    Fd step;
    int at = dirfd;
    size_t start = 0;
    while (relpath.size() - start >= PATH_MAX) {
      const size_t cut = relpath.rfind('/', start + PATH_MAX - 1);
      if (cut == std::string::npos || cut <= start) break;  // no cut fits: the kernel refuses it
      OVL_ASSIGN_OR_RETURN(step, OpenAt2(at, relpath.substr(start, cut - start).c_str(),
                                         O_PATH | O_DIRECTORY, 0, relpath));
      at = step.get();
      start = cut + 1;
    }
    return OpenAt2(at, relpath.c_str() + start, flags, mode, relpath);
  }

  Result<Fd> OpenByHandle(int mount_fd, const RealFh& fh, int flags) override {
    if (fh.bytes.size() > MAX_HANDLE_SZ) {
      return Status::Error(
          EINVAL, "open_by_handle_at: handle of " + std::to_string(fh.bytes.size()) + " bytes");
    }
    alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
    auto* handle = reinterpret_cast<struct file_handle*>(buf);
    handle->handle_bytes = static_cast<unsigned>(fh.bytes.size());
    handle->handle_type = fh.type;
    std::memcpy(handle->f_handle, fh.bytes.data(), fh.bytes.size());
    const int fd = open_by_handle_at(mount_fd, handle, flags | O_CLOEXEC);
    if (fd < 0) return SysErrorFd("open_by_handle_at", mount_fd);
    return Fd(fd);
  }

  Result<RealFh> NameToHandle(int dirfd, const std::string& name) override {
    alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
    auto* handle = reinterpret_cast<struct file_handle*>(buf);
    handle->handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    if (name_to_handle_at(dirfd, name.c_str(), handle, &mount_id, EmptyPathFlag(name)) < 0) {
      return SysError("name_to_handle_at", name);
    }
    RealFh fh;
    fh.type = handle->handle_type;
    fh.bytes.assign(reinterpret_cast<const char*>(handle->f_handle), handle->handle_bytes);
    return fh;
  }

  Result<struct stat> Stat(int dirfd, const std::string& name) override {
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW | EmptyPathFlag(name)) < 0) {
      return SysError("fstatat", name);
    }
    return st;
  }

  // getdents64 on the caller's fd after rewinding it: the fd stays open and usable, and no DIR
  // stream is left holding a stale position.
  Result<std::vector<DirEntry>> ReadDir(int dirfd) override {
    if (lseek(dirfd, 0, SEEK_SET) < 0) return SysErrorFd("lseek", dirfd);
    std::vector<DirEntry> entries;
    std::string buf(32 * 1024, '\0');
    for (;;) {
      const ssize_t n = getdents64(dirfd, buf.data(), buf.size());
      if (n < 0) return SysErrorFd("getdents64", dirfd);
      if (n == 0) return entries;
      for (ssize_t pos = 0; pos < n;) {
        const auto* d = reinterpret_cast<const struct dirent64*>(buf.data() + pos);
        pos += d->d_reclen;
        if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
        entries.push_back(DirEntry{d->d_name, d->d_type, d->d_ino});
      }
    }
  }

  Result<std::string> ReadLink(int dirfd, const std::string& name) override {
    return ReadLinkAt(dirfd, name, "readlinkat");
  }

  // The kernel prints at most a page of path for /proc/self/fd/N (ENAMETOOLONG beyond it). A
  // deeper directory is named as getcwd(3) names one: up through "..", each step named by the
  // parent's entry with its inode, until an ancestor the kernel can print.
  Result<std::string> FdPath(int fd) override {
    auto path = ReadLinkAt(AT_FDCWD, ProcFdPath(fd), "readlink");
    if (path.ok() || path.status().code() != ENAMETOOLONG) return path;
    std::vector<std::string> names;  // bottom-up
    Fd up;
    for (int at = fd;;) {
      OVL_ASSIGN_OR_RETURN(struct stat st, Stat(at, ""));
      if (!S_ISDIR(st.st_mode)) return path;  // only a directory has a ".." to walk
      up = Fd(openat(at, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!up.valid()) return SysErrorFd("openat(\"..\")", at);
      OVL_ASSIGN_OR_RETURN(std::string name, NameOfChild(up.get(), st));
      names.push_back(std::move(name));
      at = up.get();
      auto above = ReadLinkAt(AT_FDCWD, ProcFdPath(at), "readlink");
      if (above.ok()) {
        std::string out = *above == "/" ? "" : *above;
        for (auto it = names.rbegin(); it != names.rend(); ++it) out += "/" + *it;
        return out;
      }
      if (above.status().code() != ENAMETOOLONG) return above.status();
    }
  }

  Status MkDir(int dirfd, const std::string& name, mode_t mode) override {
    if (mkdirat(dirfd, name.c_str(), mode) < 0) return SysError("mkdirat", name);
    return Status::Ok();
  }

  Status MkNod(int dirfd, const std::string& name, mode_t mode, dev_t dev) override {
    if (mknodat(dirfd, name.c_str(), mode, dev) < 0) return SysError("mknodat", name);
    return Status::Ok();
  }

  Status Symlink(const std::string& target, int dirfd, const std::string& name) override {
    if (symlinkat(target.c_str(), dirfd, name.c_str()) < 0) return SysError("symlinkat", name);
    return Status::Ok();
  }

  Status Link(int olddirfd, const std::string& oldname, int newdirfd,
              const std::string& newname) override {
    if (linkat(olddirfd, oldname.c_str(), newdirfd, newname.c_str(), EmptyPathFlag(oldname)) < 0) {
      return SysError("linkat", oldname + "\" -> \"" + newname);
    }
    return Status::Ok();
  }

  Status Rename(int olddirfd, const std::string& oldname, int newdirfd, const std::string& newname,
                unsigned flags) override {
    if (renameat2(olddirfd, oldname.c_str(), newdirfd, newname.c_str(), flags) < 0) {
      return SysError("renameat2", oldname + "\" -> \"" + newname);
    }
    return Status::Ok();
  }

  Status Unlink(int dirfd, const std::string& name, int flags) override {
    if (unlinkat(dirfd, name.c_str(), flags) < 0) return SysError("unlinkat", name);
    return Status::Ok();
  }

  Result<size_t> PRead(int fd, void* buf, size_t len, off_t off) override {
    return PReadFull(fd, buf, len, off);
  }

  Result<size_t> PWrite(int fd, const void* buf, size_t len, off_t off) override {
    return PWriteFull(fd, buf, len, off);
  }

  // copy_file_range shares extents or copies in the kernel; where it cannot (another
  // filesystem, an old kernel, a filesystem without support) the rest is copied by hand.
  Status CopyData(int from, int to, uint64_t len) override {
    constexpr uint64_t kMaxChunk = 1 << 30;
    loff_t in = 0;
    loff_t out = 0;
    while (static_cast<uint64_t>(in) < len) {
      const size_t chunk = static_cast<size_t>(std::min(kMaxChunk, len - in));
      const ssize_t n = copy_file_range(from, &in, to, &out, chunk, 0);
      if (n > 0) continue;
      // 0 is end of source, or a filesystem that copies nothing (proc-like files on kernels
      // before 5.19): the fallback tells the two apart.
      if (n == 0) break;
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) break;
      return SysErrorFd("copy_file_range", from);
    }
    return CopyByReadWrite(from, to, static_cast<uint64_t>(in), len);
  }

  Status Truncate(int fd, off_t len) override {
    if (ftruncate(fd, len) < 0) return SysErrorFd("ftruncate", fd);
    return Status::Ok();
  }

  Status Fsync(int fd) override {
    if (fsync(fd) < 0) return SysErrorFd("fsync", fd);
    return Status::Ok();
  }

  Status Fdatasync(int fd) override {
    if (fdatasync(fd) < 0) return SysErrorFd("fdatasync", fd);
    return Status::Ok();
  }

  // Linux has no chmod for symlinks, and fchmodat cannot take AT_EMPTY_PATH before fchmodat2
  // (6.6). So: pin the object with an O_PATH fd, refuse a symlink, and chmod through the
  // /proc magic link, which reaches exactly the pinned inode (no race with a rename in between).
  Status Chmod(int dirfd, const std::string& name, mode_t mode) override {
    Fd pinned;
    int target = dirfd;
    if (!name.empty()) {
      pinned = Fd(openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!pinned.valid()) return SysError("openat", name);
      target = pinned.get();
    }
    struct stat st;
    if (fstatat(target, "", &st, AT_EMPTY_PATH) < 0) return SysError("fstatat", name);
    if (S_ISLNK(st.st_mode)) {
      return Status::Error(EOPNOTSUPP, "chmod(\"" + name + "\"): a symlink has no mode");
    }
    if (chmod(ProcFdPath(target).c_str(), mode) < 0) return SysError("chmod", name);
    return Status::Ok();
  }

  Status Chown(int dirfd, const std::string& name, uid_t uid, gid_t gid) override {
    if (fchownat(dirfd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW | EmptyPathFlag(name)) < 0) {
      return SysError("fchownat", name);
    }
    return Status::Ok();
  }

  Status SetTimes(int dirfd, const std::string& name, const struct timespec times[2]) override {
    if (utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW | EmptyPathFlag(name)) < 0) {
      return SysError("utimensat", name);
    }
    return Status::Ok();
  }

  Result<std::optional<std::string>> GetXattr(int dirfd, const std::string& name,
                                              const std::string& attr) override {
    const ProcTarget t = ProcTargetOf(dirfd, name);
    auto get = t.follow ? ::getxattr : ::lgetxattr;
    // Overlay values (origin handles, flags, counts) fit a small buffer: one call, not two.
    char small[256];
    const ssize_t got = get(t.path.c_str(), attr.c_str(), small, sizeof small);
    if (got >= 0) {
      return std::optional<std::string>(std::string(small, static_cast<size_t>(got)));
    }
    std::string value;
    // Larger: size, then fetch; ERANGE means the value grew in between, so ask again.
    while (errno == ERANGE) {
      const ssize_t size = get(t.path.c_str(), attr.c_str(), nullptr, 0);
      if (size < 0) break;
      value.resize(static_cast<size_t>(size));
      const ssize_t n = get(t.path.c_str(), attr.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<size_t>(n));
        return std::optional<std::string>(std::move(value));
      }
      if (errno != ERANGE) break;
    }
    if (errno == ENODATA) return std::optional<std::string>();
    return SysError("getxattr", name + "\", \"" + attr);
  }

  Status SetXattr(int dirfd, const std::string& name, const std::string& attr,
                  const std::string& value) override {
    const ProcTarget t = ProcTargetOf(dirfd, name);
    auto set = t.follow ? ::setxattr : ::lsetxattr;
    if (set(t.path.c_str(), attr.c_str(), value.data(), value.size(), 0) < 0) {
      return SysError("setxattr", name + "\", \"" + attr);
    }
    return Status::Ok();
  }

  Status RemoveXattr(int dirfd, const std::string& name, const std::string& attr) override {
    const ProcTarget t = ProcTargetOf(dirfd, name);
    auto remove = t.follow ? ::removexattr : ::lremovexattr;
    if (remove(t.path.c_str(), attr.c_str()) < 0) {
      return SysError("removexattr", name + "\", \"" + attr);
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListXattr(int dirfd, const std::string& name) override {
    const ProcTarget t = ProcTargetOf(dirfd, name);
    auto list = t.follow ? ::listxattr : ::llistxattr;
    std::string buf;
    for (;;) {
      const ssize_t size = list(t.path.c_str(), nullptr, 0);
      if (size < 0) return SysError("listxattr", name);
      buf.resize(static_cast<size_t>(size));
      const ssize_t n = list(t.path.c_str(), buf.data(), buf.size());
      if (n >= 0) {
        buf.resize(static_cast<size_t>(n));
        break;
      }
      if (errno != ERANGE) return SysError("listxattr", name);
    }
    // The kernel returns NUL-terminated names back to back.
    std::vector<std::string> names;
    for (size_t pos = 0; pos < buf.size();) {
      const size_t end = std::min(buf.find('\0', pos), buf.size());
      names.push_back(buf.substr(pos, end - pos));
      pos = end + 1;
    }
    return names;
  }

  Result<struct statvfs> StatFs(int fd) override {
    struct statvfs st;
    if (fstatvfs(fd, &st) < 0) return SysErrorFd("fstatvfs", fd);
    return st;
  }

 private:
  // openat2 of `path` beneath `dirfd`, never following a symlink; errors name `relpath`.
  static Result<Fd> OpenAt2(int dirfd, const char* path, int flags, mode_t mode,
                            const std::string& relpath) {
    struct open_how how = {};
    how.flags = static_cast<unsigned>(flags | O_CLOEXEC);
    // openat2 rejects a mode unless the call can create something.
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) how.mode = mode;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const char* p = *path == '\0' ? "." : path;
    for (;;) {
      const long fd = syscall(SYS_openat2, dirfd, p, &how, sizeof(how));
      if (fd >= 0) return Fd(static_cast<int>(fd));
      // Opening a FIFO or a device may block and be interrupted by a signal.
      if (errno != EINTR) return SysError("openat2", relpath);
    }
  }

  // The name under which directory `dirfd` holds the directory whose stat is `child`.
  Result<std::string> NameOfChild(int dirfd, const struct stat& child) {
    OVL_ASSIGN_OR_RETURN(auto entries, ReadDir(dirfd));
    for (const auto& e : entries) {
      if (e.ino != child.st_ino) continue;
      auto st = Stat(dirfd, e.name);
      if (st.ok() && st->st_dev == child.st_dev && st->st_ino == child.st_ino) return e.name;
    }
    return Status::Error(ENOENT, "FdPath: a directory is no longer in its parent (fd " +
                                     std::to_string(dirfd) + ")");
  }
};

}  // namespace

FsEnv* DefaultFsEnv() {
  // Never destroyed: other static objects may still use it during exit.
  static PosixEnv* const env = new PosixEnv();
  return env;
}

}  // namespace ovl
