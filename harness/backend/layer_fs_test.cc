// Layer setups of the local backend on real mounts (root): filesystems made and removed with
// nothing left behind, the fixture in the right layers, a nested lower layer, the kernel's own
// reason for a refused overlay, and `harness clean` for layer mounts of a killed harness.
#include "backend/layer_fs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend/fixture_disk.h"
#include "backend/local_nodes.h"
#include "ops/fixture_json.h"
#include "support/scratch_dir.h"

namespace ovl::backend {
namespace {

namespace stdfs = std::filesystem;
using ::testing::HasSubstr;
using topology::LayerFs;

// The mount points under `dir` (from /proc/self/mountinfo).
std::vector<std::string> MountsUnder(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point.rfind(dir + "/", 0) == 0) out.push_back(point);
  }
  return out;
}

long FsType(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 ? static_cast<long>(st.f_type) : -1;
}

class LayerFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mounting needs root";
    Result<testsupport::ScratchDir> d = testsupport::ScratchDir::Create("layer-fs");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dir_ = std::move(*d);
  }
  void TearDown() override {
    // Whatever a failed test left mounted, detached before the scratch dir goes.
    std::vector<std::string> left = MountsUnder(dir_.path());
    std::sort(left.begin(), left.end(), std::greater<>());
    for (const std::string& p : left) ::umount2(p.c_str(), MNT_DETACH);
  }

  testsupport::ScratchDir dir_;
};

TEST_F(LayerFsTest, MakesEachFilesystemAndLeavesNothingBehind) {
  const std::pair<LayerFs, long> kinds[] = {
      {LayerFs::kTmpfs, 0x01021994}, {LayerFs::kExt4, 0xEF53}, {LayerFs::kXfs, 0x58465342}};
  for (const auto& [kind, magic] : kinds) {
    const std::string name = topology::NameString(topology::kLayerFsNames, kind);
    SCOPED_TRACE(name);
    Result<std::unique_ptr<LayerFsMount>> m = LayerFsMount::Make(kind, dir_.path(), name);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const std::string point = (*m)->path();
    EXPECT_EQ(FsType(point), magic);
    EXPECT_EQ(LayerFsOwner(point), getpid());
    ASSERT_TRUE(testsupport::WriteFile(point + "/f", "data").ok());
    ASSERT_TRUE((*m)->Remove().ok());
    EXPECT_TRUE((*m)->Remove().ok()) << "idempotent";
    EXPECT_THAT(MountsUnder(dir_.path()), ::testing::IsEmpty());
    EXPECT_FALSE(stdfs::exists(point));
    EXPECT_FALSE(stdfs::exists(dir_.path() + "/" + name + ".img"));
  }
  EXPECT_EQ(LayerFsMount::Make(LayerFs::kNone, dir_.path(), "x").status().code(), EINVAL);
  EXPECT_EQ(LayerFsOwner("/a/ovlnfs-layerfs-12-lower0"), 12);
  EXPECT_EQ(LayerFsOwner("/a/ovlnfs-layerfs-x-lower0"), std::nullopt);
  EXPECT_EQ(LayerFsOwner("/a/lower0"), std::nullopt);
}

TEST_F(LayerFsTest, StackPutsTheFixtureInItsLayersNestedAndLowerOnly) {
  Result<ops::Fixture> f =
      ops::FixtureFromJson({{"layers", 2},
                            {"entries",
                             {{{"file", "d/top"}, {"size", 10}},
                              {{"dir", "d/sub"}, {"mode", 0700}},
                              {{"file", "d/low"}, {"size", 20}, {"layer", 1}}}}},
                           3);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  topology::ServerSpec spec;
  spec.layers = 2;
  spec.lower_fs = {LayerFs::kExt4, LayerFs::kTmpfs};
  spec.upper_fs = LayerFs::kNone;
  spec.nested = true;
  const std::string dir = dir_.path() + "/case";
  Result<std::unique_ptr<LayerStack>> s = LayerStack::Make(spec, *f, dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const LayerDirs& d = (*s)->dirs();
  ASSERT_EQ(d.lowers.size(), 2u);
  EXPECT_TRUE(d.upper.empty());
  EXPECT_EQ(d.work, dir + "/work");
  EXPECT_EQ(FsType(d.lowers[1]), 0x01021994);
  // Lower 0 is the inner overlay: layer 0's files in its bottom, its dirs merged from both.
  EXPECT_EQ(FsType(d.lowers[0]), 0x794c7630);
  const std::string ext4 = stdfs::path(d.lowers[0]).parent_path();
  EXPECT_EQ(FsType(ext4), 0xEF53);
  EXPECT_TRUE(stdfs::is_regular_file(ext4 + "/nested-bottom/d/top"));
  EXPECT_TRUE(stdfs::is_directory(ext4 + "/nested-top/d/sub"));
  EXPECT_FALSE(stdfs::exists(ext4 + "/nested-top/d/top"));
  EXPECT_EQ(stdfs::status(ext4 + "/nested-top/d/sub").permissions(), stdfs::perms::owner_all);
  EXPECT_TRUE(VerifyLowerLayers(*f, d.lowers).ok());
  EXPECT_EQ(MountsUnder(dir).size(), 3u);  // ext4, tmpfs, the inner overlay

  ASSERT_TRUE((*s)->Remove(false).ok());
  EXPECT_THAT(MountsUnder(dir), ::testing::IsEmpty());
  EXPECT_FALSE(stdfs::exists(dir + "/lower0.img"));
}

TEST_F(LayerFsTest, RefusedOverlayCarriesTheKernelsReason) {
  for (const char* sub : {"l", "u", "w", "m"}) stdfs::create_directories(dir_.path() + "/" + sub);
  const std::string p = dir_.path();
  Status st = MountOverlay(p + "/m",
                           "lowerdir=" + p + "/l,upperdir=" + p + "/u,workdir=" + p +
                               "/w,index=on,nfs_export=on,metacopy=on",
                           nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), EINVAL);
  EXPECT_THAT(st.message(), HasSubstr("overlayfs: conflicting options"));
  // Accepted with a fallback: the kernel's note comes back too.
  std::string notes;
  ASSERT_TRUE(
      MountOverlay(p + "/m", "lowerdir=" + p + "/l:" + p + "/u,nfs_export=on", &notes).ok());
  EXPECT_THAT(notes, HasSubstr("falling back to nfs_export=off"));
  EXPECT_EQ(::umount2((p + "/m").c_str(), MNT_DETACH), 0);
}

// A mount retried on EBUSY until it gives up: the kernel said the same line on every try, and
// the error says it once (with the count), not once per try.
TEST_F(LayerFsTest, BusyUpperGivesEachKernelLineOnce) {
  for (const char* sub : {"l", "u", "w", "w2", "m", "m2"}) {
    stdfs::create_directories(dir_.path() + "/" + sub);
  }
  const std::string p = dir_.path();
  const std::string layers = "lowerdir=" + p + "/l,upperdir=" + p + "/u,index=on";
  ASSERT_TRUE(MountOverlay(p + "/m", layers + ",workdir=" + p + "/w", nullptr).ok());
  Status st = MountOverlay(p + "/m2", layers + ",workdir=" + p + "/w2", nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), EBUSY);
  const std::string line = "upperdir is in-use";
  const size_t first = st.message().find(line);
  ASSERT_NE(first, std::string::npos) << st.message();
  EXPECT_EQ(st.message().find(line, first + 1), std::string::npos) << st.message();
  EXPECT_THAT(st.message(), HasSubstr(" times)"));
  EXPECT_EQ(::umount2((p + "/m").c_str(), MNT_DETACH), 0);
}

TEST_F(LayerFsTest, CleanDetachesTheLayerMountsOfAKilledHarness) {
  const pid_t child = fork();
  if (child == 0) {
    // A harness killed mid-run: its mounts stay, nothing of it runs any more.
    Result<std::unique_ptr<LayerFsMount>> m =
        LayerFsMount::Make(LayerFs::kTmpfs, dir_.path(), "lower0");
    _exit(m.ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(status, 0);
  Result<std::unique_ptr<LayerFsMount>> mine =
      LayerFsMount::Make(LayerFs::kTmpfs, dir_.path(), "lower1");
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(MountsUnder(dir_.path()).size(), 2u);

  std::ostringstream out;
  Result<size_t> n = CleanDeadRunMounts(out);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_THAT(out.str(), HasSubstr("ovlnfs-layerfs-" + std::to_string(child) + "-lower0"));
  EXPECT_THAT(MountsUnder(dir_.path()), ::testing::ElementsAre((*mine)->path()));
}

}  // namespace
}  // namespace ovl::backend
