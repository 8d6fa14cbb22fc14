#include "support/ganesha_process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/loopback.h"

namespace ovl::testsupport {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

class GaneshaProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = GaneshaProcess::UnavailableReason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(GaneshaProcessTest, ServesBothPortsAndStopsCleanly) {
  Result<std::unique_ptr<GaneshaProcess>> g = GaneshaProcess::Start({});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  GaneshaProcess& ganesha = **g;
  EXPECT_NE(ganesha.nfs_port(), ganesha.mount_port());
  EXPECT_TRUE(LoopbackPortAccepts(ganesha.nfs_port()));
  EXPECT_TRUE(LoopbackPortAccepts(ganesha.mount_port()));
  EXPECT_TRUE(Exists(ganesha.export_dir()));
  Result<std::string> config = ReadFile(ganesha.config_path());
  ASSERT_TRUE(config.ok());
  EXPECT_NE(config->find("Squash = No_Root_Squash;"), std::string::npos);
  EXPECT_NE(config->find("Bind_addr = 127.0.0.1;"), std::string::npos);

  Status st = ganesha.Stop();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(ganesha.IsRunning());
  EXPECT_FALSE(LoopbackPortAccepts(ganesha.nfs_port()));
}

TEST_F(GaneshaProcessTest, RestartAfterCrashKeepsPorts) {
  Result<std::unique_ptr<GaneshaProcess>> g = GaneshaProcess::Start({});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  GaneshaProcess& ganesha = **g;
  const uint16_t nfs = ganesha.nfs_port();
  ASSERT_TRUE(ganesha.Kill().ok());
  EXPECT_FALSE(ganesha.IsRunning());
  Status st = ganesha.Restart();
  ASSERT_TRUE(st.ok()) << st.ToString() << ganesha.LogTail(2000);
  EXPECT_EQ(ganesha.nfs_port(), nfs);
  EXPECT_TRUE(LoopbackPortAccepts(nfs));
}

TEST_F(GaneshaProcessTest, DestructorStopsGaneshaAndRemovesTempDir) {
  Result<std::unique_ptr<GaneshaProcess>> g = GaneshaProcess::Start({});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const uint16_t nfs = (*g)->nfs_port();
  const std::string config = (*g)->config_path();
  g = Status::Error(ECANCELED, "dropped");
  EXPECT_FALSE(Exists(config));
  EXPECT_FALSE(LoopbackPortAccepts(nfs));
}

}  // namespace
}  // namespace ovl::testsupport
