// Issue 10 item 2, over the wire: every changing procedure (SETATTR, WRITE, RENAME, REMOVE/RMDIR,
// LINK) on every file type (regular, directory, symlink, FIFO, socket, character and block
// device) in every layer position (lower, copied up, created through the union) answers within
// a bounded time, the server restarts cleanly after each change, the outcome is visible after
// the restart and no intent record is left. The server must never open a FIFO, socket or device
// node of any layer, and start-up recovery must never block or refuse to start.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3ErrInval;
using nfsclient::kNfs3ErrIsdir;
using nfsclient::kNfs3ErrNoent;
using nfsclient::kNfs3ErrStale;
using nfsclient::kNfs3Ok;

// A call that does not answer within this fails the test instead of hanging it.
constexpr auto kCallTimeout = std::chrono::seconds(5);
// Device numbers no driver registers (majors reach 4095; drivers, dynamic ones included, sit far
// below): were the server to open such a node it would fail with ENXIO, and no driver is
// probed (opening an absent loop device node, say, creates the device).
constexpr unsigned kChrMajor = 4000, kChrMinor = 3;
constexpr unsigned kBlkMajor = 4000, kBlkMinor = 250;

enum class Kind { kReg, kDir, kLnk, kFifo, kSock, kChr, kBlk };
constexpr std::array<Kind, 7> kAllKinds = {Kind::kReg,  Kind::kDir, Kind::kLnk, Kind::kFifo,
                                           Kind::kSock, Kind::kChr, Kind::kBlk};
constexpr std::array<Kind, 5> kSpecialKinds = {Kind::kLnk, Kind::kFifo, Kind::kSock, Kind::kChr,
                                               Kind::kBlk};

enum class Pos { kLower, kCopiedUp, kUpper };
constexpr std::array<Pos, 3> kAllPositions = {Pos::kLower, Pos::kCopiedUp, Pos::kUpper};

enum class Proc { kSetattr, kWrite, kRename, kRemove, kLink };

const char* KindName(Kind k) {
  static constexpr const char* kNames[] = {"reg", "dir", "lnk", "fifo", "sock", "chr", "blk"};
  return kNames[static_cast<int>(k)];
}

const char* PosName(Pos p) {
  static constexpr const char* kNames[] = {"lower", "copied", "upper"};
  return kNames[static_cast<int>(p)];
}

const char* ProcName(Proc p) {
  static constexpr const char* kNames[] = {"Setattr", "Write", "Rename", "Remove", "Link"};
  return kNames[static_cast<int>(p)];
}

std::string ObjName(Kind k, Pos p) {
  return std::string(PosName(p)) + "-" + KindName(k);
}

// Makes `path` of kind `k` directly on disk (a lower layer), as a local user would.
void MakeLocalObject(const std::string& path, Kind k) {
  int rc = 0;
  switch (k) {
    case Kind::kReg:
      ASSERT_NO_FATAL_FAILURE(WriteLocalFile(path, "0123456789"));
      return;
    case Kind::kDir:
      ASSERT_NO_FATAL_FAILURE(MakeLocalDir(path));
      return;
    case Kind::kLnk:
      rc = symlink("some/target", path.c_str());
      break;
    case Kind::kFifo:
      rc = mknod(path.c_str(), S_IFIFO | 0644, 0);
      break;
    case Kind::kSock:
      rc = mknod(path.c_str(), S_IFSOCK | 0644, 0);
      break;
    case Kind::kChr:
      rc = mknod(path.c_str(), S_IFCHR | 0644, makedev(kChrMajor, kChrMinor));
      break;
    case Kind::kBlk:
      rc = mknod(path.c_str(), S_IFBLK | 0644, makedev(kBlkMajor, kBlkMinor));
      break;
  }
  ASSERT_EQ(rc, 0) << path << ": " << strerror(errno);
}

// Names in `dir`, without "." and "..".
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* dp = opendir(dir.c_str());
  if (dp == nullptr) return {"opendir-error:" + std::string(strerror(errno))};
  while (dirent* e = readdir(dp)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dp);
  return names;
}

std::string LocalXattr(const std::string& path, const char* name) {
  std::string value(512, '\0');
  const ssize_t n = lgetxattr(path.c_str(), name, value.data(), value.size());
  if (n < 0) return "";
  value.resize(static_cast<size_t>(n));
  return value;
}

std::string Hex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// The bytes name_to_handle_at(2) gives for `path` (not following a symlink).
std::string RealHandle(const std::string& path) {
  alignas(file_handle) unsigned char buf[sizeof(file_handle) + MAX_HANDLE_SZ];
  auto* fh = reinterpret_cast<file_handle*>(buf);
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (name_to_handle_at(AT_FDCWD, path.c_str(), fh, &mount_id, 0) != 0) return "";
  return std::string(reinterpret_cast<const char*>(fh->f_handle), fh->handle_bytes);
}

class SpecialFilesTest : public OverlayTest {
 protected:
  static testsupport::ServerOptions Options() {
    testsupport::ServerOptions options = BaseOptions();
    // A hung worker or a hung start-up fails a step quickly instead of stalling the suite.
    options.start_timeout = std::chrono::seconds(5);
    options.stop_timeout = std::chrono::seconds(3);
    return options;
  }

  void StartBounded() {
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    client_.set_timeout(kCallTimeout);
  }

  // A clean stop and a new start on the same dirs; afterwards no intent record is left.
  void Restart(const std::string& step) {
    SCOPED_TRACE("restart after " + step);
    Result<int> status = server_->Terminate();
    ASSERT_TRUE(status.ok()) << "the server did not stop: " << status.status().ToString();
    ASSERT_EQ(*status, 0) << "unclean exit on SIGTERM";
    ASSERT_OK(server_->Start());
    ASSERT_NO_FATAL_FAILURE(Mount());
    client_.set_timeout(kCallTimeout);
    EXPECT_EQ(Entries(server_->work_dir() + "/ovlnfsd/pending"), std::vector<std::string>{})
        << "an intent record was left behind";
  }

  // Makes `name` of kind `k` in the root through the union.
  void MakeUnionObject(const std::string& name, Kind k) {
    nfsclient::SetAttrs attrs;
    attrs.mode = 0644;
    Result<nfsclient::CreateRes> res = Status::Error(EINVAL, "no call");
    switch (k) {
      case Kind::kReg:
        res = client_.Create(root_, name, nfsclient::kGuarded, attrs);
        break;
      case Kind::kDir:
        res = client_.Mkdir(root_, name, attrs);
        break;
      case Kind::kLnk:
        res = client_.Symlink(root_, name, "some/target", attrs);
        break;
      case Kind::kFifo:
        res = client_.Mknod(root_, name, nfsclient::kTypeFifo, attrs);
        break;
      case Kind::kSock:
        res = client_.Mknod(root_, name, nfsclient::kTypeSock, attrs);
        break;
      case Kind::kChr:
        res = client_.Mknod(root_, name, nfsclient::kTypeChr, attrs, kChrMajor, kChrMinor);
        break;
      case Kind::kBlk:
        res = client_.Mknod(root_, name, nfsclient::kTypeBlk, attrs, kBlkMajor, kBlkMinor);
        break;
    }
    ASSERT_TRUE(res.ok()) << "making " << name << ": " << res.status().ToString();
    ASSERT_NFS(res->status, kNfs3Ok) << "making " << name;
  }

  // SETATTR of the modification time: copies a lower object up and changes nothing else.
  uint32_t TouchStatus(const std::string& fh, uint32_t seconds) {
    nfsclient::SetAttrs attrs;
    attrs.mtime_how = nfsclient::SetTime::kClientTime;
    attrs.mtime = {seconds, 0};
    auto res = client_.Setattr(fh, attrs);
    if (!res.ok()) {
      ADD_FAILURE() << "SETATTR: " << res.status().ToString();
      return ~0u;
    }
    return res->status;
  }

  // The lower objects (lower and copied-up positions) on disk, the copied-up ones copied up
  // through the union, the upper ones made through it, then a restart.
  void MakeAllPositions() {
    for (Kind k : kAllKinds) {
      ASSERT_NO_FATAL_FAILURE(MakeLocalObject(Lower(ObjName(k, Pos::kLower)), k));
      ASSERT_NO_FATAL_FAILURE(MakeLocalObject(Lower(ObjName(k, Pos::kCopiedUp)), k));
    }
    ASSERT_NO_FATAL_FAILURE(StartBounded());
    for (Kind k : kAllKinds) {
      const std::string held = Lookup(root_, ObjName(k, Pos::kCopiedUp));
      ASSERT_FALSE(HasFailure());
      ASSERT_NFS(TouchStatus(held, 1000000000), kNfs3Ok) << "copy-up of " << KindName(k);
      struct stat st;
      ASSERT_EQ(lstat((server_->upper_dir() + "/" + ObjName(k, Pos::kCopiedUp)).c_str(), &st), 0)
          << "SETATTR did not copy " << KindName(k) << " up";
      ASSERT_NO_FATAL_FAILURE(MakeUnionObject(ObjName(k, Pos::kUpper), k));
    }
    ASSERT_NO_FATAL_FAILURE(Restart("setup"));
  }

  // LOOKUP status of `name` in the root, and the handle when found.
  uint32_t LookupStatus(const std::string& name, std::string* fh = nullptr) {
    auto res = client_.Lookup(root_, name);
    if (!res.ok()) {
      ADD_FAILURE() << "LOOKUP " << name << ": " << res.status().ToString();
      return ~0u;
    }
    if (fh != nullptr) *fh = res->handle;
    return res->status;
  }

  // The name of the index entry that is inode `ino`, or "".
  std::string IndexEntryOf(ino_t ino) {
    for (const std::string& e : Entries(server_->work_dir() + "/index")) {
      struct stat st;
      if (lstat((server_->work_dir() + "/index/" + e).c_str(), &st) == 0 && st.st_ino == ino) {
        return e;
      }
    }
    return "";
  }

  // One cell of the matrix: applies `proc` to `name` (of kind `k`, handle `held`), restarts,
  // and checks what a client sees afterwards.
  void RunCell(Proc proc, Kind k, const std::string& name, const std::string& held);
};

void SpecialFilesTest::RunCell(Proc proc, Kind k, const std::string& name,
                               const std::string& held) {
  const bool dir = k == Kind::kDir;
  const uint64_t fileid = Getattr(held).fileid;
  const std::string other = name + ".new";
  switch (proc) {
    case Proc::kSetattr: {
      ASSERT_NFS(TouchStatus(held, 1200000000), kNfs3Ok);
      ASSERT_NO_FATAL_FAILURE(Restart(name));
      const Fattr attrs = Getattr(held);
      EXPECT_EQ(attrs.mtime.seconds, 1200000000u);
      EXPECT_EQ(attrs.fileid, fileid);
      break;
    }
    case Proc::kWrite: {
      auto res = client_.Write(held, 0, "abc", nfsclient::kFileSync);
      ASSERT_TRUE(res.ok()) << "WRITE: " << res.status().ToString();
      const uint32_t want = k == Kind::kReg ? kNfs3Ok : dir ? kNfs3ErrIsdir : kNfs3ErrInval;
      ASSERT_NFS(res->status, want);
      ASSERT_NO_FATAL_FAILURE(Restart(name));
      if (k == Kind::kReg) {
        EXPECT_EQ(ReadAll(held).substr(0, 3), "abc");
      }
      EXPECT_EQ(Getattr(held).fileid, fileid);
      break;
    }
    case Proc::kRename: {
      auto res = client_.Rename(root_, name, root_, other);
      ASSERT_TRUE(res.ok()) << "RENAME: " << res.status().ToString();
      ASSERT_NFS(res->status, kNfs3Ok);
      ASSERT_NO_FATAL_FAILURE(Restart(name));
      EXPECT_NFS(LookupStatus(name), kNfs3ErrNoent);
      std::string fh;
      EXPECT_NFS(LookupStatus(other, &fh), kNfs3Ok);
      EXPECT_EQ(fh, held) << "the renamed object has another handle";
      EXPECT_EQ(Getattr(held).fileid, fileid);
      break;
    }
    case Proc::kRemove: {
      auto res = dir ? client_.Rmdir(root_, name) : client_.Remove(root_, name);
      ASSERT_TRUE(res.ok()) << "REMOVE: " << res.status().ToString();
      ASSERT_NFS(res->status, kNfs3Ok);
      ASSERT_NO_FATAL_FAILURE(Restart(name));
      EXPECT_NFS(LookupStatus(name), kNfs3ErrNoent);
      EXPECT_NFS(GetattrStatus(held), kNfs3ErrStale);
      break;
    }
    case Proc::kLink: {
      auto res = client_.Link(held, root_, other);
      ASSERT_TRUE(res.ok()) << "LINK: " << res.status().ToString();
      ASSERT_NFS(res->status, dir ? kNfs3ErrIsdir : kNfs3Ok);
      ASSERT_NO_FATAL_FAILURE(Restart(name));
      std::string fh;
      if (dir) {
        EXPECT_NFS(LookupStatus(other), kNfs3ErrNoent);
        EXPECT_EQ(Getattr(held).fileid, fileid);
        break;
      }
      EXPECT_NFS(LookupStatus(other, &fh), kNfs3Ok);
      EXPECT_EQ(fh, held) << "the new name leads elsewhere";
      EXPECT_NFS(LookupStatus(name, &fh), kNfs3Ok);
      EXPECT_EQ(fh, held) << "the old name leads elsewhere";
      const Fattr attrs = Getattr(held);
      EXPECT_EQ(attrs.nlink, 2u);
      EXPECT_EQ(attrs.fileid, fileid);
      // An index-only copy-up holds its entry until the object has an upper name: it has one.
      EXPECT_EQ(Entries(server_->work_dir() + "/ovlnfsd/linkup"), std::vector<std::string>{})
          << "a holding link was left behind";
      break;
    }
  }
}

class SpecialFilesMatrixTest : public SpecialFilesTest,
                               public ::testing::WithParamInterface<Proc> {};

TEST_P(SpecialFilesMatrixTest, EveryTypeInEveryPositionAnswersAndRestarts) {
  ASSERT_NO_FATAL_FAILURE(CreateServer(Options()));
  ASSERT_NO_FATAL_FAILURE(MakeAllPositions());
  for (Kind k : kAllKinds) {
    for (Pos p : kAllPositions) {
      const std::string name = ObjName(k, p);
      SCOPED_TRACE(std::string(ProcName(GetParam())) + " of " + name);
      const std::string held = Lookup(root_, name);
      ASSERT_FALSE(HasFailure());
      ASSERT_NO_FATAL_FAILURE(RunCell(GetParam(), k, name, held));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Procedures, SpecialFilesMatrixTest,
                         ::testing::Values(Proc::kSetattr, Proc::kWrite, Proc::kRename,
                                           Proc::kRemove, Proc::kLink),
                         [](const ::testing::TestParamInfo<Proc>& info) {
                           return std::string(ProcName(info.param));
                         });

// The defect as reported: LINK of a lower special file, alone on a fresh server.
class LowerSpecialLinkTest : public SpecialFilesTest, public ::testing::WithParamInterface<Kind> {};

TEST_P(LowerSpecialLinkTest, LinkAnswersAndTheServerRestarts) {
  ASSERT_NO_FATAL_FAILURE(CreateServer(Options()));
  const std::string name = ObjName(GetParam(), Pos::kLower);
  ASSERT_NO_FATAL_FAILURE(MakeLocalObject(Lower(name), GetParam()));
  ASSERT_NO_FATAL_FAILURE(StartBounded());
  const std::string held = Lookup(root_, name);
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(RunCell(Proc::kLink, GetParam(), name, held));
}

INSTANTIATE_TEST_SUITE_P(Kinds, LowerSpecialLinkTest, ::testing::ValuesIn(kSpecialKinds),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return std::string(KindName(info.param));
                         });

// The procedures that change nothing answer on every type in every position as well: a READ,
// READLINK, ACCESS or COMMIT of a FIFO or device must not open it.
TEST_F(SpecialFilesTest, EveryReadingProcedureAnswersOnEveryType) {
  ASSERT_NO_FATAL_FAILURE(CreateServer(Options()));
  ASSERT_NO_FATAL_FAILURE(MakeAllPositions());
  for (Kind k : kAllKinds) {
    for (Pos p : kAllPositions) {
      const std::string name = ObjName(k, p);
      SCOPED_TRACE(name);
      const std::string held = Lookup(root_, name);
      ASSERT_FALSE(HasFailure());
      auto read = client_.Read(held, 0, 16);
      ASSERT_TRUE(read.ok()) << "READ: " << read.status().ToString();
      EXPECT_NFS(read->status, k == Kind::kReg   ? kNfs3Ok
                               : k == Kind::kDir ? kNfs3ErrIsdir
                                                 : kNfs3ErrInval);
      auto readlink = client_.Readlink(held);
      ASSERT_TRUE(readlink.ok()) << "READLINK: " << readlink.status().ToString();
      EXPECT_EQ(readlink->status == kNfs3Ok, k == Kind::kLnk);
      auto access = client_.Access(held, nfsclient::kAccessRead | nfsclient::kAccessModify);
      ASSERT_TRUE(access.ok()) << "ACCESS: " << access.status().ToString();
      EXPECT_NFS(access->status, kNfs3Ok);
      auto commit = client_.Commit(held, 0, 0);
      ASSERT_TRUE(commit.ok()) << "COMMIT: " << commit.status().ToString();
      auto plus = client_.Readdirplus(root_, 0, 0, 4096, 65536);
      ASSERT_TRUE(plus.ok()) << "READDIRPLUS: " << plus.status().ToString();
      EXPECT_NFS(plus->status, kNfs3Ok);
    }
  }
  ASSERT_NO_FATAL_FAILURE(Restart("reading procedures"));
}

// A lower special file with two names: LINK a third, REMOVE one, restart. The index entry is
// the upper inode's hard link named by the hex of its origin, carrying trusted.overlay.origin
// (the lower inode) and the union link count relative to the lower one (docs/handle-format.md).
TEST_F(SpecialFilesTest, HardLinksOfCopiedUpSpecialFilesKeepIndexAndOrigin) {
  ASSERT_NO_FATAL_FAILURE(CreateServer(Options()));
  for (Kind k : kSpecialKinds) {
    const std::string name = std::string("two-") + KindName(k);
    ASSERT_NO_FATAL_FAILURE(MakeLocalObject(Lower(name), k));
    // Metadata the copy-up must carry over: owner, mode, an xattr (times are checked too).
    ASSERT_EQ(lchown(Lower(name).c_str(), 1234, 5678), 0) << strerror(errno);
    if (k != Kind::kLnk) {
      ASSERT_EQ(chmod(Lower(name).c_str(), 0640), 0) << strerror(errno);
    }
    ASSERT_EQ(lsetxattr(Lower(name).c_str(), "trusted.test", "v", 1, 0), 0) << strerror(errno);
    ASSERT_EQ(link(Lower(name).c_str(), Lower(name + ".twin").c_str()), 0) << strerror(errno);
  }
  ASSERT_NO_FATAL_FAILURE(StartBounded());
  for (Kind k : kSpecialKinds) {
    const std::string name = std::string("two-") + KindName(k);
    SCOPED_TRACE(name);
    const std::string held = Lookup(root_, name);
    ASSERT_FALSE(HasFailure());
    auto link = client_.Link(held, root_, name + ".third");
    ASSERT_TRUE(link.ok()) << link.status().ToString();
    ASSERT_NFS(link->status, kNfs3Ok);
    auto removed = client_.Remove(root_, name + ".twin");
    ASSERT_TRUE(removed.ok()) << removed.status().ToString();
    ASSERT_NFS(removed->status, kNfs3Ok);
    ASSERT_NO_FATAL_FAILURE(Restart(name));
    EXPECT_EQ(Getattr(held).nlink, 2u) << "two names are left";
    EXPECT_NFS(LookupStatus(name + ".twin"), kNfs3ErrNoent);

    struct stat upper;
    ASSERT_EQ(lstat((server_->upper_dir() + "/" + name + ".third").c_str(), &upper), 0);
    const std::string origin_handle = RealHandle(Lower(name));
    ASSERT_FALSE(origin_handle.empty());
    const std::string index_name = IndexEntryOf(upper.st_ino);
    ASSERT_FALSE(index_name.empty()) << "no index entry is a hard link of the upper inode";
    const std::string index_path = server_->work_dir() + "/index/" + index_name;
    const std::string origin = LocalXattr(index_path, "trusted.overlay.origin");
    EXPECT_EQ(Hex(origin), index_name) << "the index entry is not named by its origin";
    ASSERT_GT(origin.size(), 21u);
    EXPECT_EQ(origin.substr(21), origin_handle) << "the origin is not the lower inode";
    EXPECT_EQ(LocalXattr(index_path, "trusted.overlay.nlink"), "L+0");
    struct stat lower;
    ASSERT_EQ(lstat(Lower(name).c_str(), &lower), 0);
    EXPECT_EQ(upper.st_mode, lower.st_mode) << "type and mode";
    EXPECT_EQ(upper.st_uid, lower.st_uid);
    EXPECT_EQ(upper.st_gid, lower.st_gid);
    EXPECT_EQ(upper.st_rdev, lower.st_rdev);
    EXPECT_EQ(upper.st_mtim.tv_sec, lower.st_mtim.tv_sec);
    EXPECT_EQ(upper.st_mtim.tv_nsec, lower.st_mtim.tv_nsec);
    EXPECT_EQ(LocalXattr(index_path, "trusted.test"), "v") << "an xattr was not copied up";

    // A RENAME over one of the two names left drops it through an intent record too.
    ASSERT_FALSE(CreateFile(root_, name + ".cover").empty());
    auto renamed = client_.Rename(root_, name + ".cover", root_, name);
    ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
    ASSERT_NFS(renamed->status, kNfs3Ok);
    ASSERT_NO_FATAL_FAILURE(Restart(name + " covered"));
    EXPECT_EQ(Getattr(held).nlink, 1u) << "one name is left";
    EXPECT_EQ(LocalXattr(index_path, "trusted.overlay.nlink"), "L-1");
  }
}

// The state a crash (or the hang of issue 10) leaves in the middle of a LINK of a lower special
// file: the new name is linked, its count not yet stored, the intent record still there.
// Start-up completes it without opening the entry.
TEST_F(SpecialFilesTest, StartupCompletesALinkIntentOfASpecialFile) {
  ASSERT_NO_FATAL_FAILURE(CreateServer(Options()));
  for (Kind k : kSpecialKinds) {
    ASSERT_NO_FATAL_FAILURE(MakeLocalObject(Lower(ObjName(k, Pos::kLower)), k));
  }
  ASSERT_NO_FATAL_FAILURE(StartBounded());
  for (Kind k : kSpecialKinds) {
    const std::string name = ObjName(k, Pos::kLower);
    auto res = client_.Link(Lookup(root_, name), root_, name + ".new");
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_NFS(res->status, kNfs3Ok) << "LINK of " << name;
  }
  ASSERT_OK(server_->Terminate().status());
  const std::string pending = server_->work_dir() + "/ovlnfsd/pending";
  for (Kind k : kSpecialKinds) {
    const std::string name = ObjName(k, Pos::kLower);
    struct stat upper;
    ASSERT_EQ(lstat((server_->upper_dir() + "/" + name + ".new").c_str(), &upper), 0);
    const std::string index_name = IndexEntryOf(upper.st_ino);
    ASSERT_FALSE(index_name.empty()) << name;
    const std::string index_path = server_->work_dir() + "/index/" + index_name;
    ASSERT_EQ(lremovexattr(index_path.c_str(), "trusted.overlay.nlink"), 0) << strerror(errno);
    // "+ NEW LOWER DIRLEN DIR/ENTRY": the root's entry NAME.new becomes a link, 2 names.
    ASSERT_NO_FATAL_FAILURE(
        WriteLocalFile(pending + "/" + index_name, "+ 2 1 0 /" + name + ".new"));
  }
  ASSERT_OK(server_->Start());
  ASSERT_NO_FATAL_FAILURE(Mount());
  client_.set_timeout(kCallTimeout);
  EXPECT_EQ(Entries(pending), std::vector<std::string>{});
  for (Kind k : kSpecialKinds) {
    const std::string name = ObjName(k, Pos::kLower);
    SCOPED_TRACE(name);
    EXPECT_EQ(Getattr(Lookup(root_, name)).nlink, 2u) << "the count was not completed";
  }
}

// A leftover intent record that start-up cannot complete (its index entry is missing) is
// discarded with a log line; the server starts.
TEST_F(SpecialFilesTest, StartupDiscardsAnIntentItCannotComplete) {
  ASSERT_NO_FATAL_FAILURE(CreateServer(Options()));
  ASSERT_NO_FATAL_FAILURE(StartBounded());
  ASSERT_NO_FATAL_FAILURE(CreateFile(root_, "victim"));
  ASSERT_OK(server_->Terminate().status());
  const std::string pending = server_->work_dir() + "/ovlnfsd/pending";
  // "an upper entry covers a lower name; the count becomes 1", for an index entry that is not
  // there: applying it fails.
  ASSERT_NO_FATAL_FAILURE(WriteLocalFile(pending + "/00fb2500deadbeef", "w 1 1 0 /victim"));
  ASSERT_OK(server_->Start());
  ASSERT_NO_FATAL_FAILURE(Mount());
  EXPECT_EQ(Entries(pending), std::vector<std::string>{});
  bool logged = false;
  for (const std::string& line : server_->Lines()) {
    logged |= line.find("00fb2500deadbeef") != std::string::npos;
  }
  EXPECT_TRUE(logged) << "no log line names the discarded record";
  EXPECT_NFS(LookupStatus("victim"), kNfs3Ok);
}

// A FIFO left in the intent directory (never written by the server) is neither opened nor
// allowed to block start-up.
TEST_F(SpecialFilesTest, StartupNeverOpensAFifoInTheIntentDirectory) {
  ASSERT_NO_FATAL_FAILURE(CreateServer(Options()));
  ASSERT_NO_FATAL_FAILURE(StartBounded());
  ASSERT_OK(server_->Terminate().status());
  const std::string pending = server_->work_dir() + "/ovlnfsd/pending";
  ASSERT_EQ(mknod((pending + "/00fb2500feedface").c_str(), S_IFIFO | 0600, 0), 0);
  ASSERT_OK(server_->Start());
  ASSERT_NO_FATAL_FAILURE(Mount());
  EXPECT_EQ(Entries(pending), std::vector<std::string>{});
}

}  // namespace
}  // namespace ovl::integration
