#include "cli/image_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ovl::cli {
namespace {

namespace stdfs = std::filesystem;

class ImageCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = stdfs::temp_directory_path() / ("image_command_test." + std::to_string(getpid()));
    stdfs::create_directories(dir_);
  }
  void TearDown() override { stdfs::remove_all(dir_); }

  int Run(bool clean, std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return clean ? CleanCommand(args, out_, err_) : ImageCommand(args, out_, err_);
  }

  std::string dir_;
  std::ostringstream out_, err_;
};

TEST_F(ImageCommandTest, UsageErrors) {
  EXPECT_EQ(Run(false, {}), 2);
  EXPECT_EQ(Run(false, {"frobnicate"}), 2);
  EXPECT_EQ(Run(false, {"list", "--force"}), 2);  // --force is for build only
  EXPECT_EQ(Run(false, {"build", "--cache-dir"}), 2);
  EXPECT_EQ(Run(false, {"build", "--kernel", "5.4", "--cache-dir", dir_}), 2);
  EXPECT_NE(err_.str().find("5.4"), std::string::npos);
  EXPECT_EQ(Run(true, {"--bogus"}), 2);
}

// --help prints the usage on stdout, exits 0 and does nothing else (clean touches no cache).
TEST_F(ImageCommandTest, HelpPrintsTheUsageAndDoesNothing) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"-h"}, {"build", "--help"}, {"list", "--cache-dir", dir_, "-h"}}) {
    EXPECT_EQ(Run(false, args), 0) << err_.str();
    EXPECT_NE(out_.str().find("usage: harness image build"), std::string::npos) << out_.str();
  }
  EXPECT_EQ(Run(true, {"--help", "--cache-dir", dir_ + "/absent"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "usage: harness clean [--cache-dir DIR] [--uri URI] [--pool NAME] [--pool-path "
            "PATH]\n");
  EXPECT_FALSE(stdfs::exists(dir_ + "/absent"));
}

TEST_F(ImageCommandTest, ListAndCleanEmptyCache) {
  EXPECT_EQ(Run(false, {"list", "--cache-dir", dir_}), 0);
  EXPECT_NE(out_.str().find("no guest images"), std::string::npos);
  EXPECT_EQ(Run(false, {"clean", "--cache-dir", dir_}), 0);
  EXPECT_NE(out_.str().find("removed 0 image(s)"), std::string::npos);
}

TEST_F(ImageCommandTest, ListShowsAndCleanRemovesImages) {
  const std::string img = dir_ + "/images/0123456789abcdef";
  stdfs::create_directories(img);
  std::ofstream(img + "/image.json")
      << R"({"hash":"0123456789abcdef","built":"2026-01-01T00:00:00Z",)"
      << R"("kernels":[{"series":"6.1","release":"6.1.0-56-amd64"}]})";
  stdfs::create_directories(dir_ + "/images/fedcba9876543210.partial");
  EXPECT_EQ(Run(false, {"list", "--cache-dir", dir_}), 0);
  EXPECT_NE(out_.str().find("0123456789abcdef"), std::string::npos);
  EXPECT_NE(out_.str().find("kernel 6.1: 6.1.0-56-amd64"), std::string::npos);
  EXPECT_EQ(out_.str().find("fedcba"), std::string::npos);  // half-built: not an image
  EXPECT_EQ(Run(false, {"clean", "--cache-dir", dir_}), 0);
  EXPECT_NE(out_.str().find("removed 2 image(s)"), std::string::npos);
  EXPECT_FALSE(stdfs::exists(img));
}

// Leftovers of a run whose harness is gone go; those of a live process stay. libvirt's test
// driver stands in for a real hypervisor.
TEST_F(ImageCommandTest, CleanRemovesOnlyDeadRunsLeftovers) {
  const std::string dead = dir_ + "/vms/ovlnfs-deadbeef-knfsd";
  const std::string live = dir_ + "/vms/ovlnfs-feedface-knfsd";
  stdfs::create_directories(dead);
  stdfs::create_directories(live);
  std::ofstream(dead + "/owner") << "999999999\n/run/ovlnfs-harness/ovlnfs-deadbeef-knfsd\n";
  std::ofstream(live + "/owner") << "1\n/run/ovlnfs-harness/ovlnfs-feedface-knfsd\n";
  EXPECT_EQ(Run(true, {"--cache-dir", dir_, "--uri", "test:///default"}), 0) << err_.str();
  EXPECT_FALSE(stdfs::exists(dead));
  EXPECT_TRUE(stdfs::exists(live));
  EXPECT_NE(out_.str().find("removed " + dead), std::string::npos) << out_.str();
}

}  // namespace
}  // namespace ovl::cli
