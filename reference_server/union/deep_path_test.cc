// Trees deeper than PATH_MAX (docs/ovlnfsd.md, "Deep paths"): every procedure works at any depth
// the underlying filesystem allows, in the upper (made through the union) and in a lower layer
// (made on disk), and handles of deep objects decode after eviction and restart.
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/fd.h"
#include "fs/fault_injection_env.h"
#include "union/union_test_util.h"

namespace ovl {
namespace {

// 25 components of 200 bytes: a union path of 5,024 bytes, past PATH_MAX (4,096).
constexpr int kDepth = 25;
// 45 components: 9,044 bytes, past the 8 KiB an intent record was once read with.
constexpr int kDeeper = 45;

std::string Component(int level) {
  return std::string(199, static_cast<char>('a' + level % 26)) + std::to_string(level % 10);
}

std::vector<std::string> DeepNames(int depth = kDepth) {
  std::vector<std::string> names;
  for (int i = 0; i < depth; ++i) names.push_back(Component(i));
  return names;
}

std::string DeepPath(int depth = kDepth) {
  std::string path;
  for (const auto& name : DeepNames(depth)) path += (path.empty() ? "" : "/") + name;
  return path;
}

// Makes the chain of DeepNames(depth) below `root` with mkdirat/openat, one component at a time
// (no path-based call can reach that deep), and, unless `file` is empty, writes `file` with
// `data` at the bottom; `link`, when set, is a second name of `file`.
void MakeDeepTree(const std::string& root, const std::string& file, const std::string& data,
                  int depth = kDepth, const std::string& link = "") {
  Fd cur(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(cur.valid()) << root;
  for (const auto& name : DeepNames(depth)) {
    ASSERT_EQ(mkdirat(cur.get(), name.c_str(), 0755), 0) << strerror(errno);
    cur = Fd(openat(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(cur.valid()) << strerror(errno);
  }
  if (file.empty()) return;
  Fd f(openat(cur.get(), file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  ASSERT_TRUE(f.valid()) << strerror(errno);
  ASSERT_EQ(write(f.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  if (!link.empty()) {
    ASSERT_EQ(linkat(cur.get(), file.c_str(), cur.get(), link.c_str(), 0), 0) << strerror(errno);
  }
}

// The contents of `file` at the bottom of the deep chain below `root` ("<missing>" if absent).
std::string ReadDeepFile(const std::string& root, const std::string& file) {
  Fd cur(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (const auto& name : DeepNames()) {
    cur = Fd(openat(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cur.valid()) return "<missing>";
  }
  Fd f(openat(cur.get(), file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f.valid()) return "<missing>";
  char buf[256];
  const ssize_t n = read(f.get(), buf, sizeof buf);
  return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
}

class DeepPathTest : public UnionTest {
 protected:
  // Removes `file` at the bottom of the chain and every directory of it, bottom-up.
  void RemoveDeepTree(const std::string& file) {
    std::vector<Node> dirs = {Root()};
    for (const auto& name : DeepNames()) {
      auto next = fs_->Lookup(dirs.back(), name);
      ASSERT_TRUE(next.ok()) << next.status().ToString();
      dirs.push_back(*next);
    }
    Status removed = fs_->Remove(dirs.back(), file);
    ASSERT_TRUE(removed.ok()) << "REMOVE: " << removed.ToString();
    for (int i = kDepth; i-- > 0;) {
      Status st = fs_->RmDir(dirs[i], Component(i));
      ASSERT_TRUE(st.ok()) << "RMDIR at level " << i << ": " << st.ToString();
    }
    EXPECT_TRUE(Names(Root()).empty());
  }
};

TEST_F(DeepPathTest, UpperTreeMadeThroughTheUnion) {
  ASSERT_GT(DeepPath().size(), static_cast<size_t>(PATH_MAX));
  Open();
  Node dir = Root();
  for (const auto& name : DeepNames()) {
    auto made = fs_->MkDir(dir, name, 0755, root_cred_);
    ASSERT_TRUE(made.ok()) << "MKDIR: " << made.status().ToString();
    dir = *made;
  }
  auto file = fs_->Create(dir, "file", CreateMode::kGuarded, 0644, {}, root_cred_);
  ASSERT_TRUE(file.ok()) << "CREATE: " << file.status().ToString();
  ASSERT_TRUE(WriteAll(*file, "deep data").ok());
  EXPECT_EQ(ReadAll(*file), "deep data");
  EXPECT_EQ(Names(dir), std::vector<std::string>{"file"});
  AfterEviction([&](const char* when) {
    auto attr = fs_->GetAttr(dir);
    ASSERT_TRUE(attr.ok()) << when << ": " << attr.status().ToString();
    EXPECT_EQ(attr->type, FileType::kDir) << when;
    auto decoded = fs_->Decode(dir.handle);
    ASSERT_TRUE(decoded.ok()) << when << ": " << decoded.status().ToString();
    EXPECT_EQ(Names(*decoded), std::vector<std::string>{"file"}) << when;
    EXPECT_EQ(MustWalk(DeepPath() + "/file").handle, file->handle) << when;
    EXPECT_EQ(ReadAll(*fs_->Decode(file->handle)), "deep data") << when;
    auto parent = fs_->Lookup(*decoded, "..");
    ASSERT_TRUE(parent.ok()) << when << ": " << parent.status().ToString();
    EXPECT_EQ(Names(*parent), std::vector<std::string>{Component(kDepth - 1)}) << when;
  });
  RemoveDeepTree("file");
}

// The procedures not exercised above, in a deep directory made through the union: each works
// there as at the root, and what they made is there after eviction and restart.
TEST_F(DeepPathTest, OtherProceduresAtDepth) {
  ASSERT_NO_FATAL_FAILURE(MakeDeepTree(upper_, "", "", kDepth));
  Open();
  Node dir = MustWalk(DeepPath());
  auto file = fs_->Create(dir, "f", CreateMode::kGuarded, 0644, {}, root_cred_);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto link = fs_->Symlink(dir, "s", "target", root_cred_);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  auto fifo = fs_->MkNod(dir, "p", FileType::kFifo, 0600, 0, 0, root_cred_);
  ASSERT_TRUE(fifo.ok()) << fifo.status().ToString();
  SetAttrRequest chmod;
  chmod.mode = 0600;
  ASSERT_TRUE(fs_->SetAttr(*file, chmod).ok());
  ASSERT_TRUE(fs_->Link(*file, dir, "hard").ok());
  ASSERT_TRUE(fs_->Rename(dir, "hard", dir, "moved").ok());
  Node parent = MustWalk(DeepPath(kDepth - 1));
  ASSERT_TRUE(fs_->Rename(parent, Component(kDepth - 1), parent, "renamed").ok());
  auto page = fs_->ReadDir(dir, 0, 64, true);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->entries.size(), 4u);
  AfterEviction([&](const char* when) {
    const std::string now = DeepPath(kDepth - 1) + "/renamed";
    EXPECT_EQ(Names(MustWalk(now)), (std::vector<std::string>{"f", "moved", "p", "s"})) << when;
    EXPECT_EQ(*fs_->ReadLink(MustWalk(now + "/s")), "target") << when;
    auto attr = fs_->GetAttr(*fs_->Decode(file->handle));
    ASSERT_TRUE(attr.ok()) << when << ": " << attr.status().ToString();
    EXPECT_EQ(attr->mode, 0600u) << when;
    EXPECT_EQ(attr->nlink, 2u) << when;
    EXPECT_EQ(MustWalk(now).handle, dir.handle) << when;
    EXPECT_TRUE(fs_->GetAttr(dir).ok()) << when;
  });
}

TEST_F(DeepPathTest, LowerTreeDeeperThanPathMax) {
  ASSERT_NO_FATAL_FAILURE(MakeDeepTree(lowers_[1], "file", "lower data"));
  Open();
  Node file = MustWalk(DeepPath() + "/file");
  Node dir = MustWalk(DeepPath());
  EXPECT_EQ(ReadAll(file), "lower data");
  EXPECT_EQ(Names(dir), std::vector<std::string>{"file"});
  AfterEviction([&](const char* when) {
    auto attr = fs_->GetAttr(dir);
    ASSERT_TRUE(attr.ok()) << when << ": " << attr.status().ToString();
    auto decoded = fs_->Decode(dir.handle);
    ASSERT_TRUE(decoded.ok()) << when << ": " << decoded.status().ToString();
    EXPECT_EQ(Names(*decoded), std::vector<std::string>{"file"}) << when;
  });
  // Met by name again (a handle alone copies into the index only), the write copies the file up
  // to its upper name, and with it every directory above it.
  ASSERT_EQ(MustWalk(DeepPath() + "/file").handle, file.handle);
  Status written = WriteAll(file, "upper");
  ASSERT_TRUE(written.ok()) << "WRITE: " << written.ToString();
  EXPECT_EQ(ReadDeepFile(lowers_[1], "file"), "lower data") << "the lower layer was modified";
  EXPECT_EQ(ReadDeepFile(upper_, "file"), "upper data");
  AfterEviction([&](const char* when) {
    auto decoded = fs_->Decode(file.handle);
    ASSERT_TRUE(decoded.ok()) << when << ": " << decoded.status().ToString();
    EXPECT_EQ(ReadAll(*decoded), "upper data") << when;
    auto ddir = fs_->Decode(dir.handle);
    ASSERT_TRUE(ddir.ok()) << when << ": " << ddir.status().ToString();
    EXPECT_EQ(Names(*ddir), std::vector<std::string>{"file"}) << when;
  });
  RemoveDeepTree("file");
  EXPECT_EQ(ReadDeepFile(lowers_[1], "file"), "lower data");
}

// A renamed lower directory points at its lower path with an absolute redirect xattr. Where the
// filesystem cannot hold one that long (ext4 keeps a value within one block), the rename is
// refused with EXDEV, as kernel overlayfs refuses a redirect it cannot store, so a client copies
// instead (mv does); nothing changes.
TEST_F(DeepPathTest, RenameOfADeepLowerDirectory) {
  ASSERT_NO_FATAL_FAILURE(MakeDeepTree(lowers_[0], "file", "lower data"));
  Open();
  const std::string parent = DeepPath(kDepth - 1);
  Status st = fs_->Rename(MustWalk(parent), Component(kDepth - 1), MustWalk(parent), "renamed");
  ASSERT_TRUE(st.ok() || st.code() == EXDEV) << st.ToString();
  AfterEviction([&](const char* when) {
    const std::string leaf = st.ok() ? "renamed" : Component(kDepth - 1);
    EXPECT_EQ(ReadAll(MustWalk(parent + "/" + leaf + "/file")), "lower data") << when;
    EXPECT_EQ(Names(MustWalk(parent)), std::vector<std::string>{leaf}) << when;
  });
}

// REMOVE of one of two names of a lower file records the new link count with the directory's path
// first (docs/handle-format.md, "Removing names"); after a crash at any point, recovery must read
// that record whole, however deep the directory, so the count matches the names left.
// One union per crash point, outside a TEST_F body.
class CrashRun : public UnionTest {
 public:
  void TestBody() override {}
  using UnionTest::fs_;
  using UnionTest::lowers_;
  using UnionTest::MustWalk;
  using UnionTest::Names;
  using UnionTest::Open;
  using UnionTest::Options;
  using UnionTest::upper_;
};

TEST(DeepPathCrashTest, LinkCountIntentOfADeepDirectory) {
  const std::string dir = DeepPath(kDeeper);
  int crash_points = 0;
  bool completed = false;
  for (uint64_t n = 1; n < 100 && !completed; ++n) {
    SCOPED_TRACE("crash at mutating call " + std::to_string(n));
    CrashRun t;
    ASSERT_NO_FATAL_FAILURE(MakeDeepTree(t.lowers_[0], "a", "shared", kDeeper, "b"));
    // The directories exist in the upper too (as if copied up), so the crash points are the
    // remove's own.
    ASSERT_NO_FATAL_FAILURE(MakeDeepTree(t.upper_, "", "", kDeeper));
    FaultInjectionEnv env(DefaultFsEnv());
    UnionOptions o = t.Options();
    o.env = &env;
    t.Open(o);
    Node d = t.MustWalk(dir);
    env.FailAt(n, EIO, FaultInjectionEnv::Mode::kCrash);
    Status st = t.fs_->Remove(d, "a");
    const bool crashed = env.crashed();
    t.fs_.reset();
    env.Disarm();
    t.Open();  // restart on the real filesystem: recovery runs
    const std::vector<std::string> names = t.Names(t.MustWalk(dir));
    const bool removed = names == std::vector<std::string>{"b"};
    EXPECT_TRUE(removed || names == (std::vector<std::string>{"a", "b"}));
    auto attr = t.fs_->GetAttr(t.MustWalk(dir + "/b"));
    ASSERT_TRUE(attr.ok()) << attr.status().ToString();
    EXPECT_EQ(attr->nlink, removed ? 1u : 2u) << (removed ? "after" : "before") << " the remove";
    completed = !crashed;
    EXPECT_TRUE(crashed || st.ok()) << st.ToString();
    crash_points += crashed ? 1 : 0;
  }
  EXPECT_TRUE(completed) << "the remove never completed";
  EXPECT_GT(crash_points, 0);
}

}  // namespace
}  // namespace ovl
