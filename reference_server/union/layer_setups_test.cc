// Layer setups beyond one lower layer beside the upper (docs/handle-format.md): a lower-only
// export, layers on several filesystems (a lower on tmpfs, the upper on ext4), and a nested lower
// layer (an overlay mount). Each checks decoding after eviction and after a restart. Mounting
// needs root; the tests skip otherwise.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <vector>

#include "fs/fs_env_wrapper.h"
#include "union/handle_codec.h"
#include "union/ovl_fh.h"
#include "union/union_test_util.h"

namespace ovl {
namespace {

constexpr size_t kLayerByte = 4;  // docs/handle-format.md

class LayerSetupsTest : public UnionTest {
 protected:
  LayerSetupsTest() : UnionTest(3) {}
  ~LayerSetupsTest() override {
    fs_.reset();
    // Innermost first; detached, so a failed test cannot leave them busy.
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) umount2(it->c_str(), MNT_DETACH);
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  }

  // Mounts a fresh tmpfs on `dir`.
  void MountTmpfs(const std::string& dir) {
    ASSERT_EQ(mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64m"), 0) << strerror(errno);
    mounts_.push_back(dir);
  }
  // Mounts a fresh ext4 image (made with mkfs.ext4, loop-mounted) on `dir`.
  void MountExt4(const std::string& dir) {
    const std::string image = tmp_.path() + "/ext4.img";
    const std::string cmd = "truncate -s 64M " + image + " && mkfs.ext4 -q -F " + image +
                            " && mount -o loop " + image + " " + dir;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    mounts_.push_back(dir);
  }

  std::vector<std::string> mounts_;
};

TEST_F(LayerSetupsTest, LowerOnlyExportRefusesChangesAndKeepsHandles) {
  Lower(0, "d/top", "top");
  Lower(2, "d/bottom", "bottom");
  Lower(1, "f", "one");
  UnionOptions o = Options();
  o.upper_dir.clear();
  Open(o);
  Node f = MustWalk("f");
  Node d = MustWalk("d");
  Node bottom = MustWalk("d/bottom");
  EXPECT_EQ(WriteAll(f, "x").code(), EROFS);
  EXPECT_EQ(fs_->Remove(d, "top").code(), EROFS);
  EXPECT_EQ(fs_->Rename(d, "top", d, "moved").code(), EROFS);
  EXPECT_EQ(fs_->MkDir(d, "n", 0755, Cred{}).status().code(), EROFS);
  EXPECT_EQ(Names(d), (std::vector<std::string>{"bottom", "top"}));
  EXPECT_EQ(Slurp(lowers_[1] + "/f"), "one") << "a lower layer was written";

  auto check = [&](const char* when) {
    for (const Node* n : {&f, &d, &bottom}) {
      auto back = fs_->Decode(n->handle);
      ASSERT_TRUE(back.ok()) << when << ": " << back.status().ToString();
    }
    EXPECT_EQ(ReadAll(*fs_->Decode(bottom.handle)), "bottom") << when;
    EXPECT_EQ(MustWalk("f").handle, f.handle) << when;
  };
  fs_->DropCaches();
  check("after eviction");
  Open(o);
  check("after restart");
}

TEST_F(LayerSetupsTest, LayersOnSeveralFilesystemsNameTheirLayer) {
  // lower1 on tmpfs, the upper and work on ext4; lower0 and lower2 share the test's filesystem.
  MountTmpfs(lowers_[1]);
  const std::string ext4 = tmp_.path() + "/ext4";
  mkdir(ext4.c_str(), 0755);
  MountExt4(ext4);
  upper_ = ext4 + "/upper";
  work_ = ext4 + "/work";
  mkdir(upper_.c_str(), 0755);
  mkdir(work_.c_str(), 0755);
  Lower(0, "a", "zero");
  Lower(1, "b", "tmpfs");
  Lower(2, "c", "two");
  Open();
  Node a = MustWalk("a"), b = MustWalk("b"), c = MustWalk("c");
  EXPECT_EQ(static_cast<uint8_t>(a.handle[kLayerByte]), 0);
  EXPECT_EQ(static_cast<uint8_t>(b.handle[kLayerByte]), 1) << "tmpfs is a filesystem of its own";
  // Layers on one filesystem are named by the first of them.
  EXPECT_EQ(static_cast<uint8_t>(c.handle[kLayerByte]), 0);
  const uint64_t b_fileid = fs_->GetAttr(b)->fileid;
  EXPECT_NE(b_fileid, fs_->GetAttr(a)->fileid);
  EXPECT_NE(b_fileid, fs_->GetAttr(c)->fileid);
  // A copy-up from tmpfs to ext4 keeps the handle and the fileid.
  ASSERT_TRUE(WriteAll(b, "copied").ok());
  EXPECT_EQ(Slurp(lowers_[1] + "/b"), "tmpfs");

  auto check = [&](const char* when) {
    auto nb = fs_->Decode(b.handle);
    ASSERT_TRUE(nb.ok()) << when << ": " << nb.status().ToString();
    EXPECT_EQ(ReadAll(*nb), "copied") << when;
    EXPECT_EQ(fs_->GetAttr(*nb)->fileid, b_fileid) << when;
    auto nc = fs_->Decode(c.handle);
    ASSERT_TRUE(nc.ok()) << when << ": " << nc.status().ToString();
    EXPECT_EQ(ReadAll(*nc), "two") << when;
    EXPECT_EQ(MustWalk("c").handle, c.handle) << when;
    EXPECT_EQ(MustWalk("a").handle, a.handle) << when;
  };
  AfterEviction(check);
}

TEST_F(LayerSetupsTest, NestedLowerLayerDecodes) {
  // lower0 is an overlay of two layers of its own; nfs_export on the inner overlay is what lets
  // open_by_handle_at decode on it (without an upper, overlayfs needs redirect_dir=nofollow).
  const std::string top = tmp_.path() + "/inner-top", bottom = tmp_.path() + "/inner-bottom";
  mkdir(top.c_str(), 0755);
  mkdir(bottom.c_str(), 0755);
  MakeParents(top + "/d/t");
  MakeParents(bottom + "/d/x");
  std::ofstream(top + "/d/t") << "inner top";
  std::ofstream(bottom + "/d/x") << "inner bottom";
  const std::string options =
      "lowerdir=" + top + ":" + bottom + ",redirect_dir=nofollow,nfs_export=on";
  ASSERT_EQ(mount("layer-setups-test", lowers_[0].c_str(), "overlay", 0, options.c_str()), 0)
      << strerror(errno);
  mounts_.push_back(lowers_[0]);
  Lower(1, "d/y", "outer lower");
  Open();
  Node d = MustWalk("d"), x = MustWalk("d/x"), t = MustWalk("d/t");
  EXPECT_EQ(Names(d), (std::vector<std::string>{"t", "x", "y"}));
  ASSERT_TRUE(WriteAll(t, "copied").ok());
  AfterEviction([&](const char* when) {
    auto nx = fs_->Decode(x.handle);
    ASSERT_TRUE(nx.ok()) << when << ": " << nx.status().ToString();
    EXPECT_EQ(ReadAll(*nx), "inner bottom") << when;
    auto nt = fs_->Decode(t.handle);
    ASSERT_TRUE(nt.ok()) << when << ": " << nt.status().ToString();
    EXPECT_EQ(ReadAll(*nt), "copiedtop") << when;  // "inner top" overwritten from 0
    auto nd = fs_->Decode(d.handle);
    ASSERT_TRUE(nd.ok()) << when << ": " << nd.status().ToString();
  });
  EXPECT_EQ(Slurp(top + "/d/t"), "inner top");
}

TEST_F(LayerSetupsTest, NestedLowerWithoutNfsExportIsRefused) {
  // Without nfs_export (here: no redirect_dir=nofollow on a mount without an upper, so the
  // kernel falls back to nfs_export=off) the inner overlay encodes no handles, and a union whose
  // handles are file handles of its layers cannot be served.
  const std::string inner = tmp_.path() + "/inner";
  mkdir(inner.c_str(), 0755);
  const std::string options = "lowerdir=" + inner + ":" + lowers_[2] + ",nfs_export=on";
  ASSERT_EQ(mount("layer-setups-test", lowers_[0].c_str(), "overlay", 0, options.c_str()), 0)
      << strerror(errno);
  mounts_.push_back(lowers_[0]);
  auto u = UnionFs::Open(Options());
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), EOPNOTSUPP) << u.status().ToString();
  EXPECT_THAT(u.status().message(), ::testing::HasSubstr("no file handle support"));
}

// A lower layer that refuses trusted.overlay.* xattrs (a nested overlay on kernels before 6.7)
// is refused at start with that reason, instead of failing each LOOKUP in it later.
class NoOverlayXattrsEnv : public FsEnvWrapper {
 public:
  explicit NoOverlayXattrsEnv(std::string layer)
      : FsEnvWrapper(DefaultFsEnv()), layer_(std::move(layer)) {}
  Result<std::optional<std::string>> GetXattr(int dirfd, const std::string& name,
                                              const std::string& attr) override {
    auto path = FdPath(dirfd);
    if (path.ok() && path->ends_with(layer_) && attr.starts_with("trusted.overlay.")) {
      return Status::Error(EOPNOTSUPP, "getxattr");
    }
    return FsEnvWrapper::GetXattr(dirfd, name, attr);
  }

 private:
  std::string layer_;
};

TEST_F(LayerSetupsTest, LowerLayerRefusingOverlayXattrsIsRefused) {
  Lower(1, "m/f", "merged");
  NoOverlayXattrsEnv env("/lower1");
  UnionOptions o = Options();
  o.env = &env;
  auto u = UnionFs::Open(o);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), EOPNOTSUPP) << u.status().ToString();
  EXPECT_THAT(u.status().message(), ::testing::HasSubstr("trusted.overlay.opaque cannot be read"));
  o.lower_dirs = {lowers_[0]};  // negative control: without that layer the union opens
  EXPECT_TRUE(UnionFs::Open(o).ok());
}

// Kernels before 6.8 have no FS_IOC_GETFSUUID: the UUID is read from the superblock, and must
// be the one mkfs wrote (which the ioctl returns on newer kernels), for ext4 and xfs alike.
TEST_F(LayerSetupsTest, SuperblockUuidIsTheOneMkfsWrote) {
  const std::string want = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  const FsUuid bytes = {0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
                        0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
  for (const std::string fs : {"ext4", "xfs"}) {
    const std::string image = tmp_.path() + "/" + fs + ".img";
    std::ofstream(image).close();
    ASSERT_EQ(0, truncate(image.c_str(), 320ll << 20)) << strerror(errno);
    const std::string mkfs = fs == "ext4" ? "mkfs.ext4 -q -F -U " + want + " " + image
                                          : "mkfs.xfs -q -f -m uuid=" + want + " " + image;
    if (std::system((mkfs + " >/dev/null 2>&1").c_str()) != 0) GTEST_SKIP() << mkfs;
    const int fd = open(image.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(SuperblockUuid(fd), bytes) << fs;
    close(fd);
  }
  const std::string plain = tmp_.path() + "/plain";
  std::ofstream(plain) << std::string(4096, 'x');
  const int pfd = open(plain.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(SuperblockUuid(pfd), FsUuid{}) << "no filesystem, no UUID";
  close(pfd);
}

}  // namespace
}  // namespace ovl
