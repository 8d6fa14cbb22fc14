// WriteFileAtomic: a results file that cannot be written is an error naming the file, with the
// errno that says why.
#include "runner/run_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ovl::runner {
namespace {

namespace stdfs = std::filesystem;

class WriteFileAtomicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ovl_run_dir_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(WriteFileAtomicTest, WritesTheWholeTextAndLeavesNoTempFile) {
  const std::string path = dir_ + "/results.json";
  ASSERT_TRUE(WriteFileAtomic(path, "{}\n").ok());
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "{}\n");
  EXPECT_FALSE(stdfs::exists(path + ".tmp"));
}

TEST_F(WriteFileAtomicTest, APathThatIsADirectoryIsAnErrorNamingIt) {
  const std::string path = dir_ + "/junit.xml";
  stdfs::create_directory(path);
  Status st = WriteFileAtomic(path, "<x/>");
  EXPECT_EQ(st.code(), EISDIR) << st.ToString();
  EXPECT_NE(st.message().find(path), std::string::npos) << st.ToString();
  EXPECT_FALSE(stdfs::exists(path + ".tmp")) << "the temp file is left behind";
}

TEST_F(WriteFileAtomicTest, AMissingDirectoryIsAnErrorNamingTheFile) {
  const std::string path = dir_ + "/gone/report.html";
  Status st = WriteFileAtomic(path, "x");
  EXPECT_EQ(st.code(), ENOENT) << st.ToString();
  EXPECT_NE(st.message().find(path), std::string::npos) << st.ToString();
}

TEST_F(WriteFileAtomicTest, AFullDiskIsAnError) {
  // /dev/full as the temp file: every write fails with ENOSPC.
  const std::string path = dir_ + "/results.json";
  stdfs::create_symlink("/dev/full", path + ".tmp");
  Status st = WriteFileAtomic(path, std::string(1 << 16, 'x'));
  EXPECT_EQ(st.code(), ENOSPC) << st.ToString();
}

}  // namespace
}  // namespace ovl::runner
