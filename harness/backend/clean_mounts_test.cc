// harness clean's local half: overlay mounts named for a harness process that is gone are
// detached; those of a running one stay.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "backend/local_nodes.h"
#include "support/scratch_dir.h"

namespace ovl::backend {
namespace {

bool Mounted(const std::string& point) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::string escaped;
  for (char c : point) escaped += c == ' ' ? std::string("\\040") : std::string(1, c);
  while (std::getline(in, line)) {
    if (line.find(" " + escaped + " ") != std::string::npos) return true;
  }
  return false;
}

// An overlay of fresh layers under `dir`, mounted at <dir>/mnt with `source` as its name.
bool MountOverlay(const std::string& dir, const std::string& source) {
  for (const char* sub : {"lower", "upper", "work", "mnt"}) {
    std::filesystem::create_directories(dir + "/" + sub);
  }
  const std::string options =
      "lowerdir=" + dir + "/lower,upperdir=" + dir + "/upper,workdir=" + dir + "/work";
  return mount(source.c_str(), (dir + "/mnt").c_str(), "overlay", 0, options.c_str()) == 0;
}

TEST(CleanDeadRunMountsTest, DetachesTheMountsOfHarnessesThatAreGoneOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  Result<testsupport::ScratchDir> dir = testsupport::ScratchDir::Create("clean-mounts");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  const pid_t gone = fork();
  if (gone == 0) _exit(0);
  ASSERT_EQ(waitpid(gone, nullptr, 0), gone);

  // A space in the path: mountinfo escapes it.
  const std::string dead = dir->path() + "/dead run", live = dir->path() + "/live";
  ASSERT_TRUE(MountOverlay(dead, OverlayMountSource(gone))) << strerror(errno);
  ASSERT_TRUE(MountOverlay(live, OverlayMountSource(getpid()))) << strerror(errno);
  ASSERT_TRUE(Mounted(dead + "/mnt"));

  std::ostringstream out;
  Result<size_t> n = CleanDeadRunMounts(out);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_GE(*n, 1u);
  EXPECT_FALSE(Mounted(dead + "/mnt"));
  EXPECT_TRUE(Mounted(live + "/mnt"));
  EXPECT_NE(out.str().find("unmounted " + dead + "/mnt"), std::string::npos) << out.str();
  EXPECT_EQ(umount2((live + "/mnt").c_str(), MNT_DETACH), 0);
}

}  // namespace
}  // namespace ovl::backend
