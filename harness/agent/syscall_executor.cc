#include "agent/syscall_executor.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "base/fd.h"

namespace ovl::agent {
namespace {

// The Status code of an op the runner got wrong (kErrNoVar, kErrBadMutation in the message);
// beyond errno and kErr* on purpose.
constexpr int kHarnessError = 30001;

// An object an op acts on: an O_PATH fd (`readable`: a copy of a file kept open by kOpen) and
// what fstat said of it when it was opened.
struct Object {
  Fd fd;
  struct stat st {};
  bool readable = false;
};

Result<Object> StatOf(Fd fd, const std::string& what) {
  Object o{std::move(fd)};
  if (fstat(o.fd.get(), &o.st) != 0) return Status::FromErrno("fstat " + what);
  return o;
}

Result<Object> OpenAt(int dir, const std::string& name, int flags) {
  Fd fd(openat(dir, name.c_str(), flags | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("openat " + name);
  return StatOf(std::move(fd), name);
}

// An fd with `flags` on the object `o` holds with O_PATH (through its /proc magic link, which
// reaches the same inode whatever its names have become).
Result<Fd> Reopen(const Object& o, int flags) {
  std::string proc = "/proc/self/fd/" + std::to_string(o.fd.get());
  Fd fd(open(proc.c_str(), flags | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("reopen");
  return fd;
}

Status RequireDir(const Object& o) {
  return S_ISDIR(o.st.st_mode) ? Status::Ok() : Status::Error(ENOTDIR, "not a directory");
}

// READ, WRITE and COMMIT act on regular files only.
Status RequireRegular(const Object& o) {
  if (S_ISREG(o.st.st_mode)) return Status::Ok();
  return Status::Error(S_ISDIR(o.st.st_mode) ? EISDIR : EINVAL, "not a regular file");
}

std::string TypeName(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "reg";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "lnk";
    case S_IFCHR:
      return "chr";
    case S_IFBLK:
      return "blk";
    case S_IFSOCK:
      return "sock";
    case S_IFIFO:
      return "fifo";
    default:
      return "unknown";
  }
}

ops::Attrs AttrsOf(const struct stat& st) {
  ops::Attrs a;
  a.type = TypeName(st.st_mode);
  a.size = static_cast<uint64_t>(st.st_size);
  a.fileid = st.st_ino;
  a.nlink = static_cast<uint32_t>(st.st_nlink);
  a.mode = st.st_mode & 07777;
  return a;
}

// name_to_handle_at needs room for the largest handle the kernel may produce.
struct HandleBuffer {
  struct file_handle fh;
  unsigned char bytes[MAX_HANDLE_SZ];
};

Result<std::string> HandleOf(const Object& o) {
  HandleBuffer buf{};
  buf.fh.handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (name_to_handle_at(o.fd.get(), "", &buf.fh, &mount_id, AT_EMPTY_PATH) != 0) {
    return Status::FromErrno("name_to_handle_at");
  }
  std::string out(4 + buf.fh.handle_bytes, '\0');
  uint32_t type = static_cast<uint32_t>(buf.fh.handle_type);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((type >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 4, buf.fh.f_handle, buf.fh.handle_bytes);
  return out;
}

Result<Object> OpenHandle(int mount_fd, const std::string& handle) {
  if (handle.size() <= 4 || handle.size() - 4 > MAX_HANDLE_SZ) {
    return Status::Error(kErrBadHandle, "handle of " + std::to_string(handle.size()) + " bytes");
  }
  HandleBuffer buf{};
  uint32_t type = 0;
  for (int i = 0; i < 4; ++i) {
    type |= static_cast<uint32_t>(static_cast<uint8_t>(handle[i])) << (8 * i);
  }
  buf.fh.handle_type = static_cast<int>(type);
  buf.fh.handle_bytes = static_cast<unsigned int>(handle.size() - 4);
  std::memcpy(buf.fh.f_handle, handle.data() + 4, handle.size() - 4);
  Fd fd(open_by_handle_at(mount_fd, &buf.fh, O_PATH | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == EINVAL || errno == EBADF) return Status::Error(kErrBadHandle, "malformed handle");
    return Status::FromErrno("open_by_handle_at");
  }
  return StatOf(std::move(fd), "handle");
}

// Walks `path` from `root` one component at a time, following no symlink (like NFS LOOKUP).
Result<Object> Walk(int root, const std::string& path) {
  OVL_ASSIGN_OR_RETURN(Object cur, OpenAt(root, ".", O_PATH | O_DIRECTORY));
  size_t start = 0;
  while (start < path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    if (end > start) {
      bool last = path.find_first_not_of('/', end) == std::string::npos;
      int flags = O_PATH | O_NOFOLLOW | (last ? 0 : O_DIRECTORY);
      OVL_ASSIGN_OR_RETURN(cur, OpenAt(cur.fd.get(), path.substr(start, end - start), flags));
    }
    start = end + 1;
  }
  return cur;
}

Result<Object> Resolve(int root, const ops::Target& target, const VarTable& vars,
                       const OpenFiles* files) {
  if (!target.fd.empty()) {
    auto it = files ? files->find(target.fd) : OpenFiles::const_iterator{};
    if (!files || it == files->end()) return Status::Error(kHarnessError, kErrNoVar);
    Fd copy(fcntl(it->second.get(), F_DUPFD_CLOEXEC, 0));
    if (!copy.valid()) return Status::FromErrno("dup of open file " + target.fd);
    OVL_ASSIGN_OR_RETURN(Object o, StatOf(std::move(copy), "open file " + target.fd));
    o.readable = true;
    return o;
  }
  std::string error;
  if (std::optional<std::string> held = HeldHandle(target, vars, &error)) {
    return OpenHandle(root, *held);
  }
  if (!error.empty()) return Status::Error(kHarnessError, error);
  return Walk(root, target.path);
}

// kOk with the handle and attributes of `o`.
Result<ops::Result> WithHandle(const Object& o) {
  ops::Result out;
  OVL_ASSIGN_OR_RETURN(out.handle, HandleOf(o));
  out.attrs = AttrsOf(o.st);
  return out;
}

Result<ops::Result> Lookup(const Object& dir, const ops::Op& op) {
  OVL_RETURN_IF_ERROR(RequireDir(dir));
  OVL_ASSIGN_OR_RETURN(Object o, OpenAt(dir.fd.get(), op.name, O_PATH | O_NOFOLLOW));
  return WithHandle(o);
}

Result<ops::Result> GetAttr(const Object& o) {
  ops::Result out;
  out.attrs = AttrsOf(o.st);
  return out;
}

Result<ops::Result> SetAttr(const Object& o, const ops::Op& op) {
  if (op.mode) {
    // Linux cannot chmod a symlink, and chmod through its magic link would follow it.
    if (S_ISLNK(o.st.st_mode)) return Status::Error(EOPNOTSUPP, "chmod of a symlink");
    // chmod through the magic link: an O_PATH fd refuses fchmod.
    std::string proc = "/proc/self/fd/" + std::to_string(o.fd.get());
    if (chmod(proc.c_str(), *op.mode) != 0) return Status::FromErrno("chmod");
  }
  if (op.size) {
    OVL_RETURN_IF_ERROR(RequireRegular(o));
    OVL_ASSIGN_OR_RETURN(Fd fd, Reopen(o, O_WRONLY));
    if (ftruncate(fd.get(), static_cast<off_t>(*op.size)) != 0) {
      return Status::FromErrno("ftruncate");
    }
  }
  ops::Result out;
  struct stat st {};
  if (fstat(o.fd.get(), &st) != 0) return Status::FromErrno("fstat");
  out.attrs = AttrsOf(st);
  return out;
}

Result<ops::Result> Read(const Object& o, const ops::Op& op) {
  OVL_RETURN_IF_ERROR(RequireRegular(o));
  // A file kept open is read through that open file, which must serve its data until closed.
  Fd reopened;
  if (!o.readable) {
    OVL_ASSIGN_OR_RETURN(reopened, Reopen(o, O_RDONLY));
  }
  const int fd = o.readable ? o.fd.get() : reopened.get();
  ops::Result out;
  out.data.resize(std::min(op.count, kMaxReadBytes));
  size_t got = 0;
  while (got < out.data.size()) {
    ssize_t n = pread(fd, out.data.data() + got, out.data.size() - got,
                      static_cast<off_t>(op.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("pread");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.data.resize(got);
  struct stat st {};
  if (fstat(fd, &st) != 0) return Status::FromErrno("fstat");
  out.eof = op.offset + got >= static_cast<uint64_t>(st.st_size);
  out.attrs = AttrsOf(st);
  return out;
}

Status Sync(int fd, ops::Stable stable) {
  if (stable == ops::Stable::kFileSync && fsync(fd) != 0) return Status::FromErrno("fsync");
  if (stable == ops::Stable::kDataSync && fdatasync(fd) != 0) {
    return Status::FromErrno("fdatasync");
  }
  return Status::Ok();
}

Result<ops::Result> Write(const Object& o, const ops::Op& op) {
  OVL_RETURN_IF_ERROR(RequireRegular(o));
  OVL_ASSIGN_OR_RETURN(Fd fd, Reopen(o, O_WRONLY));
  size_t done = 0;
  while (done < op.data.size()) {
    ssize_t n = pwrite(fd.get(), op.data.data() + done, op.data.size() - done,
                       static_cast<off_t>(op.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno("pwrite");
    done += static_cast<size_t>(n);
  }
  OVL_RETURN_IF_ERROR(Sync(fd.get(), op.stable));
  ops::Result out;
  out.count = static_cast<uint32_t>(done);
  out.committed = op.stable;
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno("fstat");
  out.attrs = AttrsOf(st);
  return out;
}

Result<ops::Result> Commit(const Object& o) {
  OVL_RETURN_IF_ERROR(RequireRegular(o));
  OVL_ASSIGN_OR_RETURN(Fd fd, Reopen(o, O_RDONLY));
  OVL_RETURN_IF_ERROR(Sync(fd.get(), ops::Stable::kFileSync));
  ops::Result out;
  out.attrs = AttrsOf(o.st);
  return out;
}

// The exclusive-create verifier as the two time stamps that keep it (seconds of atime, mtime).
std::pair<uint32_t, uint32_t> VerifierTimes(const ops::Op& op) {
  uint32_t a = 0;
  uint32_t m = 0;
  std::memcpy(&a, op.verifier.data(), 4);
  std::memcpy(&m, op.verifier.data() + 4, 4);
  return {a, m};
}

Result<ops::Result> Create(const Object& dir, const ops::Op& op) {
  OVL_RETURN_IF_ERROR(RequireDir(dir));
  int flags = O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
  if (op.how != ops::CreateHow::kUnchecked) flags |= O_EXCL;
  const bool exclusive = op.how == ops::CreateHow::kExclusive;
  const auto [atime, mtime] = VerifierTimes(op);
  Fd fd(openat(dir.fd.get(), op.name.c_str(), flags, op.mode.value_or(0644)));
  if (!fd.valid() && errno == EEXIST && exclusive) {
    // A replay of an exclusive create that did happen succeeds, as RFC 1813 asks.
    OVL_ASSIGN_OR_RETURN(Object existing, OpenAt(dir.fd.get(), op.name, O_PATH | O_NOFOLLOW));
    if (S_ISREG(existing.st.st_mode) && existing.st.st_atim.tv_sec == atime &&
        existing.st.st_mtim.tv_sec == mtime) {
      return WithHandle(existing);
    }
    return Status::Error(EEXIST, "exists with another verifier");
  }
  if (!fd.valid()) return Status::FromErrno("create " + op.name);
  // The mode exactly as sent, whatever this process's umask.
  if (op.mode && fchmod(fd.get(), *op.mode) != 0) return Status::FromErrno("fchmod");
  if (exclusive) {
    struct timespec times[2] = {{static_cast<time_t>(atime), 0}, {static_cast<time_t>(mtime), 0}};
    if (futimens(fd.get(), times) != 0) return Status::FromErrno("futimens");
  }
  OVL_ASSIGN_OR_RETURN(Object o, StatOf(std::move(fd), op.name));
  return WithHandle(o);
}

Result<ops::Result> Mkdir(const Object& dir, const ops::Op& op) {
  OVL_RETURN_IF_ERROR(RequireDir(dir));
  if (mkdirat(dir.fd.get(), op.name.c_str(), op.mode.value_or(0755)) != 0) {
    return Status::FromErrno("mkdir " + op.name);
  }
  if (op.mode && fchmodat(dir.fd.get(), op.name.c_str(), *op.mode, 0) != 0) {
    return Status::FromErrno("fchmodat");
  }
  OVL_ASSIGN_OR_RETURN(Object o, OpenAt(dir.fd.get(), op.name, O_PATH | O_NOFOLLOW));
  return WithHandle(o);
}

Result<ops::Result> Symlink(const Object& dir, const ops::Op& op) {
  OVL_RETURN_IF_ERROR(RequireDir(dir));
  if (symlinkat(op.link_target.c_str(), dir.fd.get(), op.name.c_str()) != 0) {
    return Status::FromErrno("symlink " + op.name);
  }
  OVL_ASSIGN_OR_RETURN(Object o, OpenAt(dir.fd.get(), op.name, O_PATH | O_NOFOLLOW));
  return WithHandle(o);
}

Result<ops::Result> Remove(const Object& dir, const ops::Op& op, int flags) {
  OVL_RETURN_IF_ERROR(RequireDir(dir));
  if (unlinkat(dir.fd.get(), op.name.c_str(), flags) != 0) {
    return Status::FromErrno("unlink " + op.name);
  }
  return ops::Result{};
}

Result<ops::Result> Rename(const Object& from, const Object& to, const ops::Op& op) {
  OVL_RETURN_IF_ERROR(RequireDir(from));
  OVL_RETURN_IF_ERROR(RequireDir(to));
  if (renameat(from.fd.get(), op.name.c_str(), to.fd.get(), op.name2.c_str()) != 0) {
    return Status::FromErrno("rename " + op.name);
  }
  return ops::Result{};
}

Result<ops::Result> Link(const Object& o, const Object& dir, const ops::Op& op) {
  OVL_RETURN_IF_ERROR(RequireDir(dir));
  if (linkat(o.fd.get(), "", dir.fd.get(), op.name2.c_str(), AT_EMPTY_PATH) != 0) {
    return Status::FromErrno("link " + op.name2);
  }
  ops::Result out;
  struct stat st {};
  if (fstat(o.fd.get(), &st) != 0) return Status::FromErrno("fstat");
  out.attrs = AttrsOf(st);
  return out;
}

// A directory stream of its own on `dir` (a fresh open: `dir`'s fd keeps its position).
using DirStream = std::unique_ptr<DIR, int (*)(DIR*)>;
Result<DirStream> OpenDirStream(const Object& dir) {
  int fd = openat(dir.fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open directory");
  DIR* d = fdopendir(fd);  // owns fd from here on: closedir closes it
  if (d == nullptr) {
    Status st = Status::FromErrno("fdopendir");
    close(fd);
    return st;
  }
  return DirStream(d, closedir);
}

Result<std::vector<std::string>> SortedNames(const Object& dir) {
  OVL_ASSIGN_OR_RETURN(DirStream d, OpenDirStream(dir));
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = readdir(d.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  if (errno != 0) return Status::FromErrno("readdir");
  std::sort(names.begin(), names.end());
  return names;
}

// A page of the sorted listing; the position saved is the cookie after its last entry.
Result<Executor::Outcome> Readdir(const Object& dir, const ops::Op& op, const VarTable& vars) {
  std::string error;
  std::optional<Position> pos = StartPosition(op, vars, &error);
  if (!pos) return Status::Error(kHarnessError, error);
  OVL_RETURN_IF_ERROR(RequireDir(dir));
  OVL_ASSIGN_OR_RETURN(std::vector<std::string> names, SortedNames(dir));
  if (pos->cookie > names.size()) return Status::Error(kErrBadCookie, "cookie past the end");
  ops::Result out;
  size_t end = std::min<size_t>(names.size(), pos->cookie + PageEntries(op));
  for (size_t i = pos->cookie; i < end; ++i) out.entries.push_back({names[i], i + 1});
  out.eof = end == names.size();
  return Executor::Outcome{std::move(out), EncodePosition({end, 0})};
}

Result<ops::Result> Readlink(const Object& o) {
  if (!S_ISLNK(o.st.st_mode)) return Status::Error(EINVAL, "not a symlink");
  std::string buf(PATH_MAX, '\0');
  ssize_t n = readlinkat(o.fd.get(), "", buf.data(), buf.size());
  if (n < 0) return Status::FromErrno("readlink");
  buf.resize(static_cast<size_t>(n));
  ops::Result out;
  out.link_target = std::move(buf);
  return out;
}

// ACCESS: read and write permission (a file without exec bits denies X_OK even to root).
Result<ops::Result> Access(const Object& o) {
  if (faccessat(o.fd.get(), "", R_OK | W_OK, AT_EMPTY_PATH) != 0) {
    return Status::FromErrno("faccessat");
  }
  return ops::Result{};
}

Result<ops::Result> FsStat(const Object& o) {
  struct statfs fs {};
  if (fstatfs(o.fd.get(), &fs) != 0) return Status::FromErrno("fstatfs");
  return ops::Result{};
}

// The first kDefaultPageEntries names in directory order (READDIR from cookie 0).
Result<ops::Result> ReaddirPage(const Object& dir) {
  OVL_RETURN_IF_ERROR(RequireDir(dir));
  OVL_ASSIGN_OR_RETURN(DirStream d, OpenDirStream(dir));
  ops::Result out;
  errno = 0;
  struct dirent* e = nullptr;
  while (out.entries.size() < kDefaultPageEntries && (e = readdir(d.get())) != nullptr) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      out.entries.push_back({std::move(name), static_cast<uint64_t>(e->d_off)});
    }
  }
  if (errno != 0) return Status::FromErrno("readdir");
  out.eof = e == nullptr;
  return out;
}

// kOpen: `o` opened for reading and kept in `files` under op.fd; its attributes.
Result<ops::Result> OpenFile(const Object& o, const ops::Op& op, OpenFiles* files) {
  OVL_RETURN_IF_ERROR(RequireRegular(o));
  if (!files) return Status::Error(EOPNOTSUPP, "no table of open files");
  if (files->count(op.fd)) return Status::Error(EEXIST, "fd " + op.fd + " is already open");
  OVL_ASSIGN_OR_RETURN(Fd fd, Reopen(o, O_RDONLY));
  ops::Result out;
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno("fstat");
  out.attrs = AttrsOf(st);
  (*files)[op.fd] = std::move(fd);
  return out;
}

// The path the open file `fd` has now ("" when unknown).
std::string PathOfFd(int fd) {
  char buf[PATH_MAX];
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(proc.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// How long a close waits for a kernel NFS client's deferred remove (see CloseFile).
constexpr auto kDeferredRemoveWait = std::chrono::seconds(10);

// Whether the directory `dir` lists `name` (nullopt when it cannot be read). A listing, not a
// lookup: a kernel NFS client revalidates a cached name by the file's handle, which a server
// that keeps removed files decodable would confirm.
std::optional<bool> Lists(const std::string& dir, const std::string& name) {
  DirStream d(opendir(dir.c_str()), closedir);
  if (!d) return std::nullopt;
  while (const struct dirent* e = readdir(d.get())) {
    if (name == e->d_name) return true;
  }
  return false;
}

// kClose: closes the file kept under op.fd; close's own error (a kernel NFS client reports
// write-back failures there) is the result. A Linux NFS client removes an open file by renaming
// it to ".nfsXXXX" and removes that name after the last close, asynchronously: the close waits
// (bounded) until the directory no longer lists the name, so that what comes next judges the
// server, not the client's timing. A name still listed after the wait makes the outcome unknown.
Result<ops::Result> CloseFile(const ops::Op& op, OpenFiles* files) {
  auto it = files ? files->find(op.fd) : OpenFiles::iterator{};
  if (!files || it == files->end()) return Status::Error(kHarnessError, kErrNoVar);
  Fd fd = std::move(it->second);
  files->erase(it);
  const std::string path = PathOfFd(fd.get());
  if (close(fd.Release()) != 0) return Status::FromErrno("close");
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || path.compare(slash + 1, 4, ".nfs") != 0) return ops::Result{};
  const std::string dir = path.substr(0, slash), name = path.substr(slash + 1);
  const auto deadline = std::chrono::steady_clock::now() + kDeferredRemoveWait;
  while (Lists(dir, name).value_or(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return UnknownResult("the NFS client's deferred remove of " + path + " did not happen in " +
                           std::to_string(kDeferredRemoveWait.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ops::Result{};
}

struct RootDir {
  Fd fd;
  int64_t fs_type = 0;
};

Result<RootDir> OpenRoot(const std::string& path) {
  RootDir root{Fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC))};
  if (!root.fd.valid()) return Status::FromErrno("open root " + path);
  struct statfs fs {};
  if (fstatfs(root.fd.get(), &fs) != 0) return Status::FromErrno("statfs root " + path);
  root.fs_type = static_cast<int64_t>(fs.f_type);
  return root;
}

ops::Result ToResult(const Status& st) {
  if (st.code() == kHarnessError) return ErrorResult(st.message());
  if (st.code() == ETIMEDOUT) return UnknownResult(st.ToString());
  return ErrorResult(ErrnoName(st.code()));
}

}  // namespace

Result<std::unique_ptr<SyscallExecutor>> SyscallExecutor::Open(const std::string& root,
                                                               OpenFiles* files) {
  OVL_ASSIGN_OR_RETURN(RootDir dir, OpenRoot(root));
  return std::unique_ptr<SyscallExecutor>(new SyscallExecutor(root, dir.fs_type, files));
}

ops::Result SyscallExecutor::RunProbe(Probe probe, const ops::Target& target,
                                      const VarTable& vars) {
  Result<RootDir> root = OpenRoot(root_);
  if (!root.ok()) return UnknownResult(root.status().ToString());
  if (root->fs_type != fs_type_) {
    return UnknownResult(root_ + " is no longer on the file system it was connected to");
  }
  Result<Object> o = Resolve(root->fd.get(), target, vars, files_);
  if (!o.ok()) return ToResult(o.status());
  Result<ops::Result> r = Status::Error(EINVAL, "unknown probe");
  switch (probe) {
    case Probe::kAccess:
      r = Access(*o);
      break;
    case Probe::kFsstat:
      r = FsStat(*o);
      break;
    case Probe::kReaddir:
      r = ReaddirPage(*o);
      break;
  }
  return r.ok() ? std::move(r).value() : ToResult(r.status());
}

Executor::Outcome SyscallExecutor::Run(const ops::Op& op, const VarTable& vars) {
  Result<RootDir> root = OpenRoot(root_);
  if (!root.ok()) return {UnknownResult(root.status().ToString())};
  if (root->fs_type != fs_type_) {
    return {UnknownResult(root_ + " is no longer on the file system it was connected to")};
  }
  const int root_fd = root->fd.get();
  if (op.kind == ops::Kind::kClose) {
    Result<ops::Result> closed = CloseFile(op, files_);
    return {closed.ok() ? std::move(closed).value() : ToResult(closed.status())};
  }
  Result<Object> target = Resolve(root_fd, op.target, vars, files_);
  if (!target.ok()) return {ToResult(target.status())};
  const Object& o = *target;
  Result<ops::Result> r = Status::Error(EINVAL, "unknown kind");
  switch (op.kind) {
    case ops::Kind::kLookup:
      r = Lookup(o, op);
      break;
    case ops::Kind::kGetAttr:
      r = GetAttr(o);
      break;
    case ops::Kind::kSetAttr:
      r = SetAttr(o, op);
      break;
    case ops::Kind::kRead:
      r = Read(o, op);
      break;
    case ops::Kind::kWrite:
      r = Write(o, op);
      break;
    case ops::Kind::kCommit:
      r = Commit(o);
      break;
    case ops::Kind::kCreate:
      r = Create(o, op);
      break;
    case ops::Kind::kMkdir:
      r = Mkdir(o, op);
      break;
    case ops::Kind::kSymlink:
      r = Symlink(o, op);
      break;
    case ops::Kind::kRemove:
      r = Remove(o, op, 0);
      break;
    case ops::Kind::kRmdir:
      r = Remove(o, op, AT_REMOVEDIR);
      break;
    case ops::Kind::kRename:
    case ops::Kind::kLink: {
      Result<Object> target2 = Resolve(root_fd, op.target2, vars, files_);
      if (!target2.ok()) return {ToResult(target2.status())};
      r = op.kind == ops::Kind::kRename ? Rename(o, *target2, op) : Link(o, *target2, op);
      break;
    }
    case ops::Kind::kReaddir: {
      // Saves a listing position, not a handle.
      Result<Outcome> page = Readdir(o, op, vars);
      return page.ok() ? std::move(page).value() : Outcome{ToResult(page.status())};
    }
    case ops::Kind::kReadlink:
      r = Readlink(o);
      break;
    case ops::Kind::kOpen:
      r = OpenFile(o, op, files_);
      break;
    case ops::Kind::kClose:
      break;  // above
  }
  if (!r.ok()) return {ToResult(r.status())};
  std::string handle = r->handle;
  return {std::move(r).value(), std::move(handle)};
}

}  // namespace ovl::agent
