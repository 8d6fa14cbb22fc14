#include "proc/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

namespace ovl::proc {
namespace {

std::string LogPath(const char* name) {
  return std::string("/tmp/ovl_process_test.") + std::to_string(getpid()) + "." + name + ".log";
}

TEST(ProcessTest, ExitCodeAndLogLines) {
  auto p = Process::Start({{"sh", "-c", "echo out; echo ready >&2; exit 3"}, LogPath("a")});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto line =
      (*p)->WaitForLine([](const std::string& l) { return l == "ready"; }, std::chrono::seconds(5));
  EXPECT_TRUE(line.ok()) << line.status().ToString();
  auto st = (*p)->Wait(std::chrono::seconds(5));
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(std::holds_alternative<Exited>(*st));
  EXPECT_EQ(std::get<Exited>(*st).code, 3);
  EXPECT_NE((*p)->Tail(5).find("out"), std::string::npos);
  std::remove(LogPath("a").c_str());
}

TEST(ProcessTest, SignalledAndKilledOnDestruction) {
  auto p = Process::Start({{"sleep", "30"}, LogPath("b")});
  ASSERT_TRUE(p.ok());
  pid_t pid = (*p)->pid();
  ASSERT_TRUE((*p)->Signal(SIGTERM).ok());
  auto st = (*p)->Wait(std::chrono::seconds(5));
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(std::holds_alternative<Signalled>(*st));
  EXPECT_EQ(std::get<Signalled>(*st).signal, SIGTERM);
  auto q = Process::Start({{"sleep", "30"}, LogPath("b")});
  pid = (*q)->pid();
  q->reset();
  EXPECT_NE(0, kill(pid, 0)) << "child survived its Process";
  std::remove(LogPath("b").c_str());
}

TEST(ProcessTest, LineProtocolAndReadinessFailure) {
  auto p = Process::Start({{"cat"}, LogPath("c"), true});
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->WriteLine("{\"x\":1}").ok());
  auto l = (*p)->ReadLine(std::chrono::seconds(5));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, "{\"x\":1}");
  auto dead = Process::Start({{"sh", "-c", "echo boom >&2; exit 1"}, LogPath("c")});
  auto w = (*dead)->WaitForLine([](const std::string&) { return false; }, std::chrono::seconds(5));
  EXPECT_EQ(w.status().code(), ECHILD);
  EXPECT_NE(w.status().message().find("boom"), std::string::npos);
  EXPECT_EQ(Process::Start({{"/nonexistent/prog"}, LogPath("c")}).status().ok(), false);
  std::remove(LogPath("c").c_str());
}

}  // namespace
}  // namespace ovl::proc
