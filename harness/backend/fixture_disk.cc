#include "backend/fixture_disk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"
#include "ops/fixture_gen.h"

namespace ovl::backend {
namespace {

using ops::FixtureEntry;
using ops::FixtureFileData;
using EntryKind = FixtureEntry::Kind;

std::string LayerPath(const std::vector<std::string>& lower_dirs, const FixtureEntry& e,
                      const std::string& path) {
  return lower_dirs[e.layer] + "/" + path;
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Differs(const std::string& path, const std::string& what) {
  return Status::Error(EIO, "lower layer changed: " + path + ": " + what);
}

Status ReadWhole(const std::string& path, std::string* out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return Status::FromErrno("open " + path);
  char buf[65536];
  out->clear();
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("read " + path);
    }
    if (n == 0) return Status::Ok();
    out->append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Status Materialize(const ops::Fixture& f, const std::vector<std::string>& lower_dirs) {
  if (lower_dirs.size() != static_cast<size_t>(f.layers)) {
    return Status::Error(EINVAL, "fixture has " + std::to_string(f.layers) + " layers, got " +
                                     std::to_string(lower_dirs.size()) + " dirs");
  }
  for (const FixtureEntry& e : f.entries) {
    const std::string path = LayerPath(lower_dirs, e, e.path);
    switch (e.kind) {
      case EntryKind::kDir:
        // Writable while filling; the fixture's mode is applied once the dir is complete.
        if (::mkdir(path.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + path);
        break;
      case EntryKind::kFile: {
        Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd.valid()) return Status::FromErrno("create " + path);
        OVL_RETURN_IF_ERROR(WriteAll(fd.get(), FixtureFileData(f.seed, e.path, e.size), path));
        if (::fchmod(fd.get(), e.mode) != 0) return Status::FromErrno("chmod " + path);
        break;
      }
      case EntryKind::kHardlink: {
        const std::string to = LayerPath(lower_dirs, e, e.to);
        if (::link(to.c_str(), path.c_str()) != 0) return Status::FromErrno("link " + path);
        break;
      }
      case EntryKind::kSymlink:
        if (::symlink(e.to.c_str(), path.c_str()) != 0) return Status::FromErrno("symlink " + path);
        break;
    }
  }
  for (auto it = f.entries.rbegin(); it != f.entries.rend(); ++it) {
    if (it->kind != EntryKind::kDir) continue;
    const std::string path = LayerPath(lower_dirs, *it, it->path);
    if (::chmod(path.c_str(), it->mode) != 0) return Status::FromErrno("chmod " + path);
  }
  return Status::Ok();
}

Status VerifyLowerLayers(const ops::Fixture& f, const std::vector<std::string>& lower_dirs) {
  if (lower_dirs.size() != static_cast<size_t>(f.layers)) {
    return Status::Error(EINVAL, "fixture layer count differs from the dirs given");
  }
  for (const FixtureEntry& e : f.entries) {
    const std::string path = LayerPath(lower_dirs, e, e.path);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return Differs(path, "missing");
    switch (e.kind) {
      case EntryKind::kDir:
        if (!S_ISDIR(st.st_mode)) return Differs(path, "not a dir");
        break;
      case EntryKind::kFile: {
        if (!S_ISREG(st.st_mode)) return Differs(path, "not a regular file");
        std::string data;
        OVL_RETURN_IF_ERROR(ReadWhole(path, &data));
        if (data != FixtureFileData(f.seed, e.path, e.size)) return Differs(path, "content");
        break;
      }
      case EntryKind::kHardlink: {
        struct stat target {};
        const std::string to = LayerPath(lower_dirs, e, e.to);
        if (::lstat(to.c_str(), &target) != 0 || target.st_ino != st.st_ino) {
          return Differs(path, "no longer a hard link of " + e.to);
        }
        break;
      }
      case EntryKind::kSymlink: {
        char buf[4096];
        const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
        if (n < 0 || std::string(buf, static_cast<size_t>(n)) != e.to) {
          return Differs(path, "symlink target");
        }
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace ovl::backend
