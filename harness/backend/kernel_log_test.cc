// The kernel log capture (backend/kernel_log.h): /dev/kmsg records turned into console lines, a
// console file read from a mark, and on the host (root) the real /dev/kmsg: a record a process
// writes there is skipped, a real overlayfs message is captured.
#include "backend/kernel_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/fd.h"
#include "base/temp_dir_for_test.h"
#include "model/kernel_log.h"

namespace ovl::backend {
namespace {

TEST(KmsgRecordLineTest, KernelRecordsBecomeConsoleLines) {
  EXPECT_EQ(KmsgRecordLine("6,1234,22511344401,-;overlayfs: \"xino=on\" is useless\n"),
            "<6>[22511.344401] overlayfs: \"xino=on\" is useless");
  EXPECT_EQ(KmsgRecordLine("4,9,1000001,c,caller=T12;WARNING: x\n SUBSYSTEM=block\n"),
            "<4>[    1.000001] WARNING: x");
  // Written by a process (facility user: 8 + level), debug, not a record.
  EXPECT_EQ(KmsgRecordLine("12,10,5,-;WARNING: CPU: 0 PID: 1 at fake.c:1\n"), "");
  EXPECT_EQ(KmsgRecordLine("7,11,5,-;debug\n"), "");
  EXPECT_EQ(KmsgRecordLine("no record"), "");
}

TEST(ConsoleLogTest, ReadsCompleteLinesAppendedSinceTheMark) {
  TempDir dir;
  const std::string path = dir.path() + "/console.log";
  std::ofstream(path) << "before\r\nhalf a li";
  auto log = OpenConsoleLog(path);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::ofstream(path, std::ios::app) << "ne\r\n<4>[    1.0] one\r\n<4>[    2.0] tw";
  auto first = (*log)->Read();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // The line the mark cut is skipped; the unfinished last line waits.
  EXPECT_EQ(first->lines, std::vector<std::string>{"<4>[    1.0] one"});
  std::ofstream(path, std::ios::app) << "o\n";
  auto second = (*log)->Read();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->lines, std::vector<std::string>{"<4>[    2.0] two"});

  // A console not written yet: everything is after the mark.
  auto fresh = OpenConsoleLog(dir.path() + "/new.log");
  ASSERT_TRUE(fresh.ok());
  std::ofstream(dir.path() + "/new.log") << "a\nb\n";
  auto all = (*fresh)->Read();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->lines, (std::vector<std::string>{"a", "b"}));
}

class HostKernelLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "reading and writing /dev/kmsg needs root";
  }
};

// The negative control of the capture: a record written into /dev/kmsg the way the kernel
// would print a WARN() is in the kernel's ring buffer (a raw reader sees it, with facility
// user), and the capture skips it.
TEST_F(HostKernelLogTest, RecordsAProcessWritesAreSkipped) {
  const std::string token = "kernel_log_test-" + std::to_string(getpid());
  auto log = OpenHostKernelLog();
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Fd raw(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(raw.valid());
  ASSERT_GE(::lseek(raw.get(), 0, SEEK_END), 0);
  {
    Fd w(::open("/dev/kmsg", O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(w.valid());
    const std::string fake = "<4>WARNING: CPU: 0 PID: 1 at " + token + ".c:1 fake+0x0/0x1\n";
    ASSERT_EQ(::write(w.get(), fake.data(), fake.size()), static_cast<ssize_t>(fake.size()));
  }
  bool in_buffer = false;
  char buf[16384];
  for (ssize_t n; (n = ::read(raw.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EPIPE);) {
    const std::string record(buf, n > 0 ? n : 0);
    // 12 = facility user (1) * 8 + level warning (4): the kernel marks what a process wrote.
    in_buffer |= record.find(token) != std::string::npos && record.rfind("12,", 0) == 0;
  }
  EXPECT_TRUE(in_buffer) << "the written record is not in the ring buffer as facility user";
  auto lines = (*log)->Read();
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  for (const auto& l : lines->lines) EXPECT_EQ(l.find(token), std::string::npos) << l;
}

// A real kernel message through the capture: mounting an overlay with xino=on with every layer
// on one filesystem makes overlayfs say the option is useless (6.18; harmless), and the model
// takes it as a MAY finding.
TEST_F(HostKernelLogTest, ARealOverlayfsMessageIsCapturedAsAMayFinding) {
  TempDir dir;
  for (const char* d : {"/lower", "/upper", "/work", "/mnt"}) {
    std::filesystem::create_directories(dir.path() + d);
  }
  auto log = OpenHostKernelLog();
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const std::string mnt = dir.path() + "/mnt";
  const std::string options = "lowerdir=" + dir.path() + "/lower,upperdir=" + dir.path() +
                              "/upper,workdir=" + dir.path() + "/work,xino=on";
  if (::mount("kernel_log_test", mnt.c_str(), "overlay", 0, options.c_str()) != 0) {
    GTEST_SKIP() << "overlay mount: " << strerror(errno);
  }
  ASSERT_EQ(::umount2(mnt.c_str(), MNT_DETACH), 0);
  auto lines = (*log)->Read();
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  bool found = false;
  for (const auto& r : model::JudgeKernelLines(lines->lines)) {
    found |= r.rule == "kernel-overlayfs" && !r.must &&
             r.lines.front().find("overlayfs: \"xino=on\" is useless") != std::string::npos;
  }
  std::string all;
  for (const auto& l : lines->lines) all += l + "\n";
  EXPECT_TRUE(found) << "captured:\n" << all;
}

}  // namespace
}  // namespace ovl::backend
