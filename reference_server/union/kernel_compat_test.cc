// On-disk compatibility with Linux overlayfs (index=on,nfs_export=on): layers changed through
// ovlnfsd mount under the kernel showing the same tree, and layers changed through a kernel
// overlay mount are served by ovlnfsd the same way, hard links and handles included. Needs root
// and overlayfs on the host; skips with the mount error otherwise.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "union/union_test_util.h"

namespace ovl {
namespace {

namespace stdfs = std::filesystem;

class KernelCompatTest : public UnionTest {
 protected:
  KernelCompatTest() {
    mnt_ = tmp_.path() + "/mnt";
    mkdir(mnt_.c_str(), 0755);
  }
  ~KernelCompatTest() override {
    if (mounted_) umount2(mnt_.c_str(), MNT_DETACH);
  }

  // Mounts the layers with kernel overlayfs; false (and the reason) when it cannot.
  bool MountKernel(std::string* why) {
    std::string lowers;
    for (const auto& l : lowers_) lowers += (lowers.empty() ? "" : ":") + l;
    const std::string opts = "lowerdir=" + lowers + ",upperdir=" + upper_ + ",workdir=" + work_ +
                             ",index=on,nfs_export=on,redirect_dir=on";
    if (mount("overlay", mnt_.c_str(), "overlay", 0, opts.c_str()) != 0) {
      *why = std::string("kernel overlay mount failed: ") + std::strerror(errno);
      return false;
    }
    mounted_ = true;
    return true;
  }
  void UnmountKernel() {
    ASSERT_EQ(0, umount(mnt_.c_str())) << std::strerror(errno);
    mounted_ = false;
  }
  // The kernel's view, in the format of UnionTest::Tree.
  std::map<std::string, std::string> KernelTree() {
    std::map<std::string, std::string> out;
    for (auto it = stdfs::recursive_directory_iterator(mnt_); it != stdfs::end(it); ++it) {
      std::string rel = it->path().lexically_relative(mnt_).string();
      if (it->is_symlink()) {
        out[rel] = "-> " + stdfs::read_symlink(it->path()).string();
      } else if (it->is_directory()) {
        out[rel] = "<dir>";
      } else if (!it->is_regular_file()) {
        out[rel] = "<special>";  // never opened: a FIFO would block the reader
      } else {
        out[rel] = Slurp(it->path().string());
      }
    }
    return out;
  }
  std::string K(const std::string& rel) const { return mnt_ + "/" + rel; }

  std::string mnt_;
  bool mounted_ = false;
};

TEST_F(KernelCompatTest, OvlnfsdLayersMountUnderKernel) {
  Lower(0, "file", "lower data");
  Lower(0, "hard/a", "linked");
  LowerLink(0, "hard/a", "hard/b");
  Lower(1, "dir/sub/x", "x");
  Lower(0, "dir/y", "y");
  Lower(1, "gone", "g");
  Lower(0, "gonedir/f", "f");
  Lower(1, "cold", "cold data");
  Open();
  Node cold = MustWalk("cold");
  fs_->DropCaches();  // the write below knows the handle only: an index-only copy-up
  ASSERT_TRUE(WriteAll(cold, "COLD").ok());
  ASSERT_TRUE(WriteAll(MustWalk("file"), "UPPER").ok());
  ASSERT_TRUE(WriteAll(MustWalk("hard/a"), "LINKED").ok());
  ASSERT_TRUE(fs_->Rename(Root(), "dir", Root(), "moved").ok());
  ASSERT_TRUE(fs_->Rename(MustWalk("moved/sub"), "x", MustWalk("moved"), "x2").ok());
  ASSERT_TRUE(fs_->Remove(Root(), "gone").ok());
  ASSERT_TRUE(fs_->Remove(MustWalk("gonedir"), "f").ok());
  ASSERT_TRUE(fs_->RmDir(Root(), "gonedir").ok());
  ASSERT_TRUE(fs_->MkDir(Root(), "gonedir", 0755, root_cred_).ok());
  auto n = fs_->Create(Root(), "new", CreateMode::kGuarded, 0644, {}, root_cred_);
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(WriteAll(*n, "fresh").ok());
  ASSERT_TRUE(fs_->Symlink(Root(), "ln", "new", root_cred_).ok());
  auto ours = Tree(Root());
  fs_.reset();

  std::string why;
  if (!MountKernel(&why)) GTEST_SKIP() << why;
  EXPECT_EQ(KernelTree(), ours);
  struct stat a, b;
  ASSERT_EQ(0, stat(K("hard/a").c_str(), &a));
  ASSERT_EQ(0, stat(K("hard/b").c_str(), &b));
  EXPECT_EQ(a.st_ino, b.st_ino) << "lower hard links split under the kernel";
  EXPECT_EQ(a.st_nlink, 2u);
  UnmountKernel();
  // The kernel's mount-time index checks (stale/orphan cleanup) must not have changed anything.
  Open();
  EXPECT_EQ(Tree(Root()), ours);
  EXPECT_EQ(ReadAll(*fs_->Decode(cold.handle)), "COLD data");
}

// LINK of lower special files copies them up into the index (docs/handle-format.md: a hard link
// of the upper inode named by its origin, with the union link count): the kernel sees each pair
// of names as one inode with two links, and its mount-time index checks change nothing.
TEST_F(KernelCompatTest, LinkedSpecialFilesMountUnderKernel) {
  const std::string l0 = lowers_[0] + "/";
  ASSERT_EQ(0, symlink("target", (l0 + "sl").c_str()));
  ASSERT_EQ(0, mknod((l0 + "fifo").c_str(), S_IFIFO | 0644, 0));
  // A device number no driver has: nothing may open it, and nothing would happen if it did.
  ASSERT_EQ(0, mknod((l0 + "dev").c_str(), S_IFCHR | 0644, makedev(4000, 3)));
  ASSERT_EQ(0, mknod((l0 + "kfifo").c_str(), S_IFIFO | 0644, 0));  // linked by the kernel
  Open();
  for (const char* name : {"sl", "fifo", "dev"}) {
    ASSERT_TRUE(fs_->Link(MustWalk(name), Root(), std::string(name) + "2").ok()) << name;
  }
  auto ours = Tree(Root());
  fs_.reset();

  std::string why;
  if (!MountKernel(&why)) GTEST_SKIP() << why;
  EXPECT_EQ(KernelTree(), ours);
  for (const std::string name : {"sl", "fifo", "dev"}) {
    struct stat a, b;
    ASSERT_EQ(0, lstat(K(name).c_str(), &a)) << name;
    ASSERT_EQ(0, lstat(K(name + "2").c_str(), &b)) << name;
    EXPECT_EQ(a.st_ino, b.st_ino) << name << ": the two names split under the kernel";
    EXPECT_EQ(a.st_nlink, 2u) << name;
  }
  // And the other way round: a FIFO the kernel copies up by a link is one object here.
  ASSERT_EQ(0, link(K("kfifo").c_str(), K("kfifo2").c_str())) << std::strerror(errno);
  ours["kfifo2"] = "<special>";
  UnmountKernel();
  Open();
  EXPECT_EQ(Tree(Root()), ours);
  EXPECT_EQ(fs_->GetAttr(MustWalk("fifo"))->nlink, 2u);
  EXPECT_EQ(MustWalk("kfifo2").handle, MustWalk("kfifo").handle) << "one object, one handle";
  EXPECT_EQ(fs_->GetAttr(MustWalk("kfifo"))->nlink, 2u);
}

TEST_F(KernelCompatTest, KernelLayersServedByOvlnfsd) {
  Lower(0, "file", "lower data");
  Lower(0, "hard/a", "linked");
  LowerLink(0, "hard/a", "hard/b");
  Lower(1, "dir/sub/x", "x");
  Lower(0, "dir/y", "y");
  Lower(1, "gone", "g");
  Lower(0, "keep", "k");
  std::string why;
  if (!MountKernel(&why)) GTEST_SKIP() << why;
  std::ofstream(K("file"), std::ios::trunc) << "UPPER";
  std::ofstream(K("hard/a"), std::ios::trunc) << "LINKED";
  ASSERT_EQ(0, rename(K("dir").c_str(), K("moved").c_str()));
  ASSERT_EQ(0, rename(K("moved/sub/x").c_str(), K("moved/x2").c_str()));
  ASSERT_EQ(0, unlink(K("gone").c_str()));
  std::ofstream(K("new")) << "fresh";
  ASSERT_EQ(0, symlink("new", K("ln").c_str()));
  ASSERT_EQ(0, mkdir(K("newdir").c_str(), 0755));
  auto kernel = KernelTree();
  UnmountKernel();

  Open();
  EXPECT_EQ(Tree(Root()), kernel);
  Node a = MustWalk("hard/a");
  EXPECT_EQ(MustWalk("hard/b").handle, a.handle) << "one object, one handle";
  EXPECT_EQ(fs_->GetAttr(a)->nlink, 2u);
  EXPECT_EQ(ReadAll(MustWalk("hard/b")), "LINKED");
  // Handles of kernel-copied-up objects persist like our own.
  Node moved = MustWalk("moved");
  Node x2 = MustWalk("moved/x2");
  Open();
  EXPECT_EQ(MustWalk("moved").handle, moved.handle);
  EXPECT_EQ(ReadAll(*fs_->Decode(x2.handle)), "x");
  ASSERT_TRUE(fs_->Remove(MustWalk("hard"), "a").ok());
  EXPECT_EQ(ReadAll(MustWalk("hard/b")), "LINKED");
  EXPECT_EQ(fs_->GetAttr(MustWalk("hard/b"))->nlink, 1u);
}

}  // namespace
}  // namespace ovl
