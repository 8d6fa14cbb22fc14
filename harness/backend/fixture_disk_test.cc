#include "backend/fixture_disk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "base/temp_dir_for_test.h"
#include "ops/fixture_json.h"

namespace ovl::backend {
namespace {

TEST(FixtureDiskTest, MaterializeBuildsLayersAndVerifyNoticesChanges) {
  TempDir dir;
  const std::vector<std::string> lowers{dir.path() + "/l0", dir.path() + "/l1"};
  for (const std::string& l : lowers) ASSERT_EQ(::mkdir(l.c_str(), 0755), 0);
  ovl::Result<ops::Fixture> parsed =
      ops::FixtureFromJson({{"layers", 2},
                            {"entries",
                             {{{"file", "d/a"}, {"size", 5000}, {"mode", 0600}},
                              {{"hardlink", "b"}, {"to", "d/a"}},
                              {{"symlink", "s"}, {"to", "d/a"}},
                              {{"dir", "ro"}, {"mode", 0555}},
                              {{"file", "ro/x"}, {"size", 1}},
                              {{"file", "low"}, {"size", 7}, {"layer", 1}}}}},
                           5);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const ops::Fixture& f = *parsed;
  ASSERT_TRUE(Materialize(f, lowers).ok());
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat((lowers[0] + "/d/a").c_str(), &a), 0);
  ASSERT_EQ(::stat((lowers[0] + "/b").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((lowers[0] + "/ro").c_str(), &a), 0);
  EXPECT_EQ(a.st_mode & 07777, 0555u);
  EXPECT_EQ(::access((lowers[1] + "/low").c_str(), F_OK), 0);
  EXPECT_TRUE(VerifyLowerLayers(f, lowers).ok());

  { std::ofstream(lowers[1] + "/low", std::ios::app) << "x"; }
  Status changed = VerifyLowerLayers(f, lowers);
  EXPECT_FALSE(changed.ok());
  EXPECT_NE(changed.message().find("low"), std::string::npos);
  EXPECT_FALSE(Materialize(f, {lowers[0]}).ok());
}

}  // namespace
}  // namespace ovl::backend
