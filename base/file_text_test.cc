#include "base/file_text.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace ovl {
namespace {

class FileTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/file_text_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FileTextTest, WritesAndReadsBack) {
  ASSERT_TRUE(WriteFileText(dir_ + "/f", "one\ntwo\nthree\n", 0600).ok());
  EXPECT_EQ(ReadFileText(dir_ + "/f"), "one\ntwo\nthree\n");
  EXPECT_EQ(TailOfFile(dir_ + "/f", 2), "two\nthree\n");
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_TRUE(WriteFileText(dir_ + "/f", "x").ok());  // truncates
  EXPECT_EQ(ReadFileText(dir_ + "/f"), "x");
}

// A missing directory is ENOENT, as the system said: "/etc/libvirt/qemu.conf: Input/output
// error" once hid that /etc/libvirt did not exist.
TEST_F(FileTextTest, ErrorsCarryTheRealErrnoAndThePath) {
  Status st = WriteFileText(dir_ + "/missing/f", "x");
  EXPECT_EQ(st.code(), ENOENT);
  EXPECT_NE(st.ToString().find(dir_ + "/missing/f"), std::string::npos) << st.ToString();
  st = WriteFileText(dir_, "x");  // a directory
  EXPECT_EQ(st.code(), EISDIR);
  EXPECT_EQ(WriteFileText("/dev/full", "x").code(), ENOSPC);
}

}  // namespace
}  // namespace ovl
